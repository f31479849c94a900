/**
 * The "Reactive Notebook" document: one row per cell (status mark, JupyterLab's editor,
 * the names it reads and writes, outputs through rendermime), kept in step with the
 * server through the notebook WebSocket.
 */
import { Notification } from '@jupyterlab/apputils';
import {
  CodeEditor,
  CodeEditorWrapper,
  IEditorServices
} from '@jupyterlab/codeeditor';
import { DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import { notebookIdOf } from './ids';
import { ICellState, ModelChange, ReactiveNotebookModel } from './model';
import { renderOutput, stripAnsi } from './outputs';
import { NotebookSocket } from './socket';

export type RunOn = 'shift-enter' | 'blur' | 'typing';

export interface IReactiveSettings {
  runOn: RunOn;
  debounce: number;
}

export const DEFAULT_SETTINGS: IReactiveSettings = {
  runOn: 'blur',
  debounce: 500
};

const STATUS_MARKS: Record<string, string> = {
  idle: ' ',
  queued: '…',
  running: '◐',
  success: '✓',
  error: '✗',
  blocked: '⊘'
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One cell's row. */
export class ReactiveCellWidget extends Widget {
  constructor(
    readonly cellId: string,
    private readonly _panel: ReactiveNotebookPanel
  ) {
    super();
    this.addClass('jp-ReactiveCell');
    this.node.tabIndex = -1;
    const layout = new PanelLayout();
    this.layout = layout;
    const status = new Widget();
    status.addClass('jp-ReactiveCell-status');
    this._status = status.node;
    layout.addWidget(status);

    this._body = new Panel();
    this._body.addClass('jp-ReactiveCell-body');
    const services = _panel.editorServices;
    this._editorModel = new CodeEditor.Model({
      mimeType: services.mimeTypeService.getMimeTypeByLanguage({
        name: 'python'
      })
    });
    this._editor = new CodeEditorWrapper({
      factory: services.factoryService.newInlineEditor,
      model: this._editorModel,
      editorOptions: { config: { lineNumbers: false } }
    });
    this._editor.addClass('jp-ReactiveCell-editor');
    this._body.addWidget(this._editor);
    this._meta = this._addNode('jp-ReactiveCell-meta');
    this._reason = this._addNode('jp-ReactiveCell-reason');
    this._conflict = this._addNode('jp-ReactiveCell-conflict');
    this._outputs = new Panel();
    this._outputs.addClass('jp-ReactiveCell-outputs');
    this._body.addWidget(this._outputs);
    layout.addWidget(this._body);

    this._editorModel.sharedModel.changed.connect(() => {
      if (!this._settingCode) {
        _panel.onLocalEdit(
          this.cellId,
          this._editorModel.sharedModel.getSource()
        );
      }
    });
    this.node.addEventListener('focusin', () => _panel.setActiveCell(this));
    this.node.addEventListener('focusout', (event: FocusEvent) => {
      if (!this.node.contains(event.relatedTarget as Node | null)) {
        _panel.onLeaveCell(this.cellId);
      }
    });
  }

  get code(): string {
    return this._editorModel.sharedModel.getSource();
  }

  focusEditor(): void {
    this._editor.editor.focus();
  }

  /** Show the cell's state as the model has it. */
  render(cell: ICellState): void {
    if (this._editorModel.sharedModel.getSource() !== cell.code) {
      this._settingCode = true;
      try {
        this._editorModel.sharedModel.setSource(cell.code);
      } finally {
        this._settingCode = false;
      }
    }
    this.node.dataset.status = cell.status;
    this.node.dataset.stale = String(cell.stale);
    this._status.textContent = STATUS_MARKS[cell.status] ?? '?';
    this._status.title = cell.stale ? `${cell.status} (stale)` : cell.status;
    const reads = cell.reads.length ? `reads ${cell.reads.join(', ')}` : '';
    const writes = cell.writes.length ? `writes ${cell.writes.join(', ')}` : '';
    this._meta.textContent = [writes, reads].filter(Boolean).join(' · ');
    this._reason.textContent =
      (cell.status === 'error' || cell.status === 'blocked') && cell.error
        ? cell.error
        : '';
    this._renderConflict();
    this._renderOutputs(cell);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    super.dispose();
    this._editorModel.dispose();
  }

  private _addNode(className: string): HTMLElement {
    const widget = new Widget();
    widget.addClass(className);
    this._body.addWidget(widget);
    return widget.node;
  }

  private _renderConflict(): void {
    const conflict = this._panel.model?.conflict(this.cellId) ?? null;
    this._conflict.replaceChildren();
    if (!conflict) {
      return;
    }
    const text = document.createElement('span');
    text.textContent =
      'Someone else changed this cell while you were editing it.';
    const keep = document.createElement('button');
    keep.className = 'jp-mod-styled';
    keep.textContent = 'Keep mine';
    keep.onclick = () => this._panel.resolveConflict(this.cellId, 'local');
    const take = document.createElement('button');
    take.className = 'jp-mod-styled';
    take.textContent = 'Take theirs';
    take.onclick = () => this._panel.resolveConflict(this.cellId, 'remote');
    this._conflict.append(text, keep, take);
  }

  private _renderOutputs(cell: ICellState): void {
    const key = JSON.stringify([
      cell.outputs,
      cell.stdout,
      cell.stderr,
      cell.traceback
    ]);
    if (key === this._outputsKey) {
      return;
    }
    this._outputsKey = key;
    for (const widget of [...this._outputs.widgets]) {
      widget.dispose();
    }
    const stream = (name: string, text: string) => {
      const pre = document.createElement('pre');
      pre.className = 'jp-ReactiveCell-stream';
      pre.dataset.name = name;
      pre.textContent = text;
      this._outputs.addWidget(new Widget({ node: pre }));
    };
    if (cell.stdout) {
      stream('stdout', cell.stdout);
    }
    if (cell.stderr) {
      stream('stderr', cell.stderr);
    }
    for (const output of cell.outputs) {
      this._outputs.addWidget(renderOutput(output, this._panel.rendermime));
    }
    if (cell.traceback) {
      const pre = document.createElement('pre');
      pre.className = 'jp-ReactiveCell-traceback';
      const lines = cell.traceback.traceback.length
        ? cell.traceback.traceback
        : [`${cell.traceback.ename}: ${cell.traceback.evalue}`];
      pre.textContent = stripAnsi(lines.join('\n'));
      this._outputs.addWidget(new Widget({ node: pre }));
    }
  }

  private _status: HTMLElement;
  private _body: Panel;
  private _editorModel: CodeEditor.Model;
  private _editor: CodeEditorWrapper;
  private _meta: HTMLElement;
  private _reason: HTMLElement;
  private _conflict: HTMLElement;
  private _outputs: Panel;
  private _outputsKey = '';
  private _settingCode = false;
}

export interface IReactiveNotebookPanelOptions {
  context: DocumentRegistry.Context;
  rendermime: IRenderMimeRegistry;
  editorServices: IEditorServices;
  serverSettings: ServerConnection.ISettings;
  settings: () => IReactiveSettings;
}

/** The document's content: the list of cells. */
export class ReactiveNotebookPanel extends Panel {
  constructor(options: IReactiveNotebookPanelOptions) {
    super();
    this.addClass('jp-ReactiveNotebook');
    this.node.tabIndex = -1;
    this.rendermime = options.rendermime;
    this.editorServices = options.editorServices;
    this._serverSettings = options.serverSettings;
    this._settings = options.settings;
    this._context = options.context;
    this._banner = new Widget();
    this._banner.addClass('jp-ReactiveNotebook-banner');
    this._banner.node.textContent = 'Connecting…';
    this.addWidget(this._banner);
    void this._context.ready.then(() => this._start());
  }

  readonly rendermime: IRenderMimeRegistry;
  readonly editorServices: IEditorServices;

  get model(): ReactiveNotebookModel | null {
    return this._model;
  }

  get socket(): NotebookSocket | null {
    return this._socket;
  }

  get activeCell(): ReactiveCellWidget | null {
    return this._active;
  }

  setActiveCell(cell: ReactiveCellWidget): void {
    if (this._active !== cell) {
      this._active?.removeClass('jp-mod-active');
      this._active = cell;
      cell.addClass('jp-mod-active');
    }
    this._model?.beginEdit(cell.cellId);
  }

  /** Run the active cell (its edits saved first); `advance` moves to the next one. */
  async runActive(advance: boolean): Promise<void> {
    const cell = this._active;
    if (!cell) {
      return;
    }
    await this.runCell(cell.cellId);
    if (advance) {
      const index = this._cellWidgets.indexOf(cell);
      this._cellWidgets[index + 1]?.focusEditor();
    }
  }

  async runCell(cellId: string): Promise<void> {
    if (!this._socket) {
      return;
    }
    try {
      await this._flush(cellId);
      await this._socket.send({ type: 'run_cell', cell_id: cellId });
    } catch (error) {
      Notification.error(`Could not run the cell: ${messageOf(error)}`);
    }
  }

  async runAll(): Promise<void> {
    await this._command({ type: 'run_all' }, 'run all cells');
  }

  async interrupt(): Promise<void> {
    await this._command({ type: 'interrupt' }, 'interrupt');
  }

  async insertBelow(): Promise<void> {
    const after = this._active?.cellId;
    const result = (await this._command(
      after === undefined
        ? { type: 'create_cell', cell_type: 'python' }
        : { type: 'create_cell', cell_type: 'python', after_cell_id: after },
      'add a cell'
    )) as { cell_id?: string } | undefined;
    const created = this._cellWidgets.find(w => w.cellId === result?.cell_id);
    created?.focusEditor();
  }

  async deleteActive(): Promise<void> {
    const cell = this._active;
    if (cell) {
      await this._command(
        { type: 'delete_cell', cell_id: cell.cellId },
        'delete the cell'
      );
    }
  }

  /** The user typed in a cell. */
  onLocalEdit(cellId: string, code: string): void {
    if (!this._model) {
      return;
    }
    this._model.setLocalCode(cellId, code);
    const settings = this._settings();
    if (settings.runOn === 'typing') {
      this._clearTyping();
      this._typingTimer = setTimeout(() => {
        this._typingTimer = null;
        void this.runCell(cellId);
      }, settings.debounce);
    }
  }

  /** Focus left the cell: save its code (and run it, with runOn "blur"). */
  onLeaveCell(cellId: string): void {
    const model = this._model;
    if (!model) {
      return;
    }
    const changed = model.cell(cellId)?.code !== this._savedCode.get(cellId);
    const finish = () => {
      if (!model.conflict(cellId)) {
        model.endEdit(cellId);
      }
    };
    if (changed && this._settings().runOn === 'blur') {
      void this.runCell(cellId).then(finish);
    } else {
      void this._flush(cellId)
        .catch(error =>
          Notification.error(`Could not save the cell: ${messageOf(error)}`)
        )
        .then(finish);
    }
  }

  resolveConflict(cellId: string, keep: 'local' | 'remote'): void {
    const model = this._model;
    if (!model) {
      return;
    }
    const conflict = model.conflict(cellId);
    model.resolveConflict(cellId, keep);
    if (keep === 'remote' && conflict) {
      this._savedCode.set(cellId, conflict.remote);
    } else if (keep === 'local') {
      // The server has the other version now: ours must be sent again.
      this._savedCode.delete(cellId);
      void this._flush(cellId).catch(error =>
        Notification.error(`Could not save the cell: ${messageOf(error)}`)
      );
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._clearTyping();
    this._socket?.dispose();
    super.dispose();
  }

  private async _start(): Promise<void> {
    const path = this._context.localPath ?? this._context.path;
    const notebookId = notebookIdOf(path, this._context.model.toString());
    const model = new ReactiveNotebookModel(notebookId);
    const socket = new NotebookSocket({
      serverSettings: this._serverSettings,
      notebookId
    });
    this._model = model;
    this._socket = socket;
    socket.received.connect((_, event) => model.apply(event));
    socket.statusChanged.connect((_, status) => {
      if (status === 'disconnected') {
        this._showBanner('Disconnected from the server; reconnecting…', 'warn');
      } else if (status === 'connected') {
        this._showBanner('', 'info');
      }
    });
    model.changed.connect((_, change) => this._onModelChange(change));
    socket.connect();
  }

  private _onModelChange(change: ModelChange): void {
    const model = this._model!;
    switch (change.kind) {
      case 'reset': {
        for (const widget of this._cellWidgets) {
          widget.dispose();
        }
        this._cellWidgets = [];
        this._active = null;
        for (const cell of model.cells) {
          this._savedCode.set(
            cell.id,
            model.isEditing(cell.id) ? '' : cell.code
          );
          this._insertWidget(cell, this._cellWidgets.length);
        }
        // Never set title.label: DocumentWidget renames the file after it.
        return;
      }
      case 'cell-created': {
        const cell = model.cell(change.cellId)!;
        this._savedCode.set(cell.id, cell.code);
        this._insertWidget(cell, change.index);
        return;
      }
      case 'cell-deleted': {
        const widget = this._widgetOf(change.cellId);
        if (widget) {
          this._cellWidgets.splice(this._cellWidgets.indexOf(widget), 1);
          if (this._active === widget) {
            this._active = null;
          }
          widget.dispose();
        }
        return;
      }
      case 'cell-moved': {
        const widget = this._widgetOf(change.cellId);
        if (widget) {
          this._cellWidgets.splice(this._cellWidgets.indexOf(widget), 1);
          this._cellWidgets.splice(change.to, 0, widget);
          this.insertWidget(change.to + 1, widget);
        }
        return;
      }
      case 'cell':
      case 'conflict': {
        const cell = model.cell(change.cellId);
        const widget = this._widgetOf(change.cellId);
        if (cell && widget) {
          if (change.kind === 'cell' && !model.isEditing(cell.id)) {
            this._savedCode.set(cell.id, cell.code);
          }
          widget.render(cell);
        }
        if (change.kind === 'conflict' && change.conflict) {
          Notification.warning(
            'A cell you are editing was changed by someone else: ' +
              'choose which version to keep.'
          );
        }
        return;
      }
      case 'notebook':
        return;
      case 'notebook-deleted':
        this._showBanner('This notebook was deleted.', 'warn');
        return;
      case 'kernel':
        this.node.dataset.kernel = change.state;
        return;
      case 'error':
        Notification.error(change.message);
        return;
    }
  }

  private _insertWidget(cell: ICellState, index: number): void {
    const widget = new ReactiveCellWidget(cell.id, this);
    this._cellWidgets.splice(index, 0, widget);
    this.insertWidget(index + 1, widget); // after the banner
    widget.render(cell);
  }

  private _widgetOf(cellId: string): ReactiveCellWidget | undefined {
    return this._cellWidgets.find(widget => widget.cellId === cellId);
  }

  /** Send the cell's code if it differs from what the server has. */
  private async _flush(cellId: string): Promise<void> {
    const model = this._model;
    const socket = this._socket;
    const code = model?.cell(cellId)?.code;
    if (!model || !socket || code === undefined) {
      return;
    }
    if (this._savedCode.get(cellId) === code || model.conflict(cellId)) {
      return;
    }
    model.noteSent(cellId, code);
    await socket.send({ type: 'cell_update', cell_id: cellId, code });
    this._savedCode.set(cellId, code);
  }

  private async _command(
    command: Parameters<NotebookSocket['send']>[0],
    what: string
  ): Promise<unknown> {
    if (!this._socket) {
      return undefined;
    }
    try {
      return await this._socket.send(command);
    } catch (error) {
      Notification.error(`Could not ${what}: ${messageOf(error)}`);
      return undefined;
    }
  }

  private _showBanner(text: string, kind: 'info' | 'warn'): void {
    this._banner.node.textContent = text;
    this._banner.node.dataset.kind = kind;
    this._banner.setHidden(!text);
  }

  private _clearTyping(): void {
    if (this._typingTimer !== null) {
      clearTimeout(this._typingTimer);
      this._typingTimer = null;
    }
  }

  private _context: DocumentRegistry.Context;
  private _serverSettings: ServerConnection.ISettings;
  private _settings: () => IReactiveSettings;
  private _banner: Widget;
  private _model: ReactiveNotebookModel | null = null;
  private _socket: NotebookSocket | null = null;
  private _cellWidgets: ReactiveCellWidget[] = [];
  private _active: ReactiveCellWidget | null = null;
  /** The code the server has for each cell, as far as this client knows. */
  private _savedCode = new Map<string, string>();
  private _typingTimer: ReturnType<typeof setTimeout> | null = null;
}

/** The document widget: the panel plus its toolbar. */
export class ReactiveNotebookDocument extends DocumentWidget<ReactiveNotebookPanel> {}
