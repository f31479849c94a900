/**
 * The Reactive Notebook's content: the list of cells, kept in step with the server
 * through the notebook WebSocket.
 */
import { Notification } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { ReactiveCellWidget } from './cell';
import { notebookIdOf } from './ids';
import { ICellState, ModelChange, ReactiveNotebookModel } from './model';
import { IReactiveSettings } from './settings';
import { NotebookSocket } from './socket';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

  /** Emitted once `model` and `socket` are set (the document's context is ready). */
  get modelReady(): ISignal<this, ReactiveNotebookModel> {
    return this._modelReady;
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
    this._modelReady.emit(model);
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
  private _modelReady = new Signal<this, ReactiveNotebookModel>(this);
}
