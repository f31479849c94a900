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

import { ReactiveAPI } from './api';
import { ReactiveCellWidget } from './cell';
import { notebookIdOf } from './ids';
import { ICellState, ModelChange, ReactiveNotebookModel } from './model';
import { IReactiveSettings } from './settings';
import { CellSaver } from './saver';
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
    // JupyterLab's editors leave Ctrl/Cmd+Enter to the run command (instead of
    // inserting a blank line) inside a code runner, as in its own notebooks.
    this.node.dataset.jpCodeRunner = 'true';
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

  /** The notebook's file was renamed (by any client) to this contents path: the
   * document should follow it. */
  get fileMoved(): ISignal<this, string> {
    return this._fileMoved;
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
      // As in JupyterLab: the next cell, or a new one after the last.
      const next = this._cellWidgets[this._cellWidgets.indexOf(cell) + 1];
      if (next) {
        next.focusEditor();
      } else {
        await this.insertCell(cell.cellId, 'below');
      }
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

  /** The cell being dragged by its handle (set by the cells' drag events). */
  dragging: string | null = null;

  async insertBelow(): Promise<void> {
    await this.insertCell(this._active?.cellId ?? null, 'below');
  }

  async insertAbove(): Promise<void> {
    await this.insertCell(this._active?.cellId ?? null, 'above');
  }

  /** Add an empty Python cell next to `cellId` (no cell: at the end) and focus it. */
  async insertCell(
    cellId: string | null,
    where: 'above' | 'below'
  ): Promise<void> {
    const model = this._model;
    if (!model) {
      return;
    }
    let after: string | null | undefined;
    if (cellId === null) {
      after = undefined; // at the end
    } else {
      after = where === 'below' ? cellId : model.cellAbove(cellId);
    }
    const result = (await this._command(
      after === undefined
        ? { type: 'create_cell', cell_type: 'python' }
        : { type: 'create_cell', cell_type: 'python', after_cell_id: after },
      'add a cell'
    )) as { cell_id?: string } | undefined;
    this._widgetOf(result?.cell_id ?? '')?.focusEditor();
  }

  async deleteActive(): Promise<void> {
    if (this._active) {
      await this.deleteCell(this._active.cellId);
    }
  }

  /** Delete a cell; the notice that says so can put it back (as a new cell). */
  async deleteCell(cellId: string): Promise<void> {
    const model = this._model;
    const cell = model?.cell(cellId);
    if (!model || !cell) {
      return;
    }
    const above = model.cellAbove(cellId);
    const kept = { type: cell.type, code: cell.code, output: cell.output };
    const deleted = await this._command(
      { type: 'delete_cell', cell_id: cellId },
      'delete the cell'
    );
    if (deleted === undefined && model.cell(cellId)) {
      return; // refused, and already said why
    }
    if (kept.type !== 'python' && kept.type !== 'sql') {
      return;
    }
    const restore = () =>
      void this._command(
        {
          type: 'create_cell',
          cell_type: kept.type as 'python' | 'sql',
          code: kept.code,
          after_cell_id: above !== null && model.cell(above) ? above : null,
          ...(kept.type === 'sql' && kept.output ? { output: kept.output } : {})
        },
        'restore the cell'
      );
    // One undo at a time: the notice of an earlier deletion goes.
    if (this._undoNotice !== null) {
      Notification.dismiss(this._undoNotice);
    }
    this._undoNotice = Notification.info('Cell deleted.', {
      autoClose: 6000,
      actions: [{ label: 'Undo', callback: restore }]
    });
  }

  /** Move a cell one place up (-1) or down (+1). */
  async moveCellBy(cellId: string, step: -1 | 1): Promise<void> {
    const model = this._model;
    if (!model) {
      return;
    }
    const ids = model.cells.map(cell => cell.id);
    const index = ids.indexOf(cellId);
    const target = index + step;
    if (index < 0 || target < 0 || target >= ids.length) {
      return;
    }
    // Up: after the cell two above (or first); down: after the next cell.
    const after =
      step < 0 ? (target > 0 ? ids[target - 1] : null) : ids[target];
    await this._move(cellId, after);
  }

  async moveActive(step: -1 | 1): Promise<void> {
    if (this._active) {
      await this.moveCellBy(this._active.cellId, step);
      this._active.focusEditor();
    }
  }

  /** A cell dragged onto another one: above or below it. */
  async dropCell(
    cellId: string,
    targetId: string,
    where: 'above' | 'below'
  ): Promise<void> {
    const model = this._model;
    if (!model || cellId === targetId) {
      return;
    }
    const ids = model.cells.map(cell => cell.id).filter(id => id !== cellId);
    const target = ids.indexOf(targetId);
    if (target < 0) {
      return;
    }
    const after =
      where === 'below' ? targetId : target > 0 ? ids[target - 1] : null;
    if (after === model.cellAbove(cellId)) {
      return; // dropped where it already is
    }
    await this._move(cellId, after);
  }

  /** Switch a cell between Python and SQL (its code stays; nothing runs). */
  async setCellType(cellId: string, type: string): Promise<void> {
    const cell = this._model?.cell(cellId);
    if (!cell || cell.type === type || (type !== 'python' && type !== 'sql')) {
      return;
    }
    await this._command(
      {
        type: 'cell_update',
        cell_id: cellId,
        code: cell.code,
        cell_type: type
      },
      'change the cell type'
    );
    this._saver?.markSaved(cellId, cell.code);
    this._rerender(cellId);
  }

  async setActiveType(type: 'python' | 'sql'): Promise<void> {
    if (this._active) {
      await this.setCellType(this._active.cellId, type);
    }
  }

  /** A SQL cell's result variable. */
  async setOutputVariable(cellId: string, name: string): Promise<void> {
    const cell = this._model?.cell(cellId);
    if (!cell || cell.type !== 'sql' || !name || name === cell.output) {
      this._rerender(cellId); // puts back what the server has
      return;
    }
    await this._command(
      { type: 'cell_update', cell_id: cellId, code: cell.code, output: name },
      'rename the result variable'
    );
    this._saver?.markSaved(cellId, cell.code);
    this._rerender(cellId);
  }

  /** Jump from a name a cell reads to the cell that defines it. */
  revealDefinition(cellId: string, name: string): void {
    const definer = this._model?.definerOf(cellId, name) ?? null;
    if (!definer) {
      Notification.info(`No cell defines ${name}.`, { autoClose: 4000 });
      return;
    }
    this.revealCell(definer.id);
  }

  /** Scroll to a cell, mark it for a moment and put the cursor in it. */
  revealCell(cellId: string): void {
    const widget = this._widgetOf(cellId);
    if (widget) {
      widget.reveal();
      widget.focusEditor();
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
    const changed = this._saver?.isDirty(cellId) ?? false;
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
      this._saver?.markSaved(cellId, conflict.remote);
    } else if (keep === 'local') {
      // The server has the other version now: ours must be sent again.
      this._saver?.forget(cellId);
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
    const notebookId = await this._notebookIdOf(path);
    const model = new ReactiveNotebookModel(notebookId);
    const socket = new NotebookSocket({
      serverSettings: this._serverSettings,
      notebookId
    });
    this._model = model;
    this._socket = socket;
    this._saver = new CellSaver(model, command => socket.send(command));
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

  /** The id of the notebook in the file at `path`: the server knows (copies have
   * their own); an older server without the lookup gets the id read from the file. */
  private async _notebookIdOf(path: string): Promise<string> {
    try {
      const found = await new ReactiveAPI(this._serverSettings).notebookAt(
        path
      );
      if (found) {
        return found.id;
      }
    } catch {
      // fall through: the id the file's content implies
    }
    return notebookIdOf(path, this._context.model.toString());
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
          this._saver?.markSaved(
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
        this._saver?.markSaved(cell.id, cell.code);
        this._insertWidget(cell, change.index);
        this._renumberReasons();
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
        this._renumberReasons();
        return;
      }
      case 'cell-moved': {
        const widget = this._widgetOf(change.cellId);
        if (widget) {
          this._cellWidgets.splice(this._cellWidgets.indexOf(widget), 1);
          this._cellWidgets.splice(change.to, 0, widget);
          this.insertWidget(change.to + 1, widget);
        }
        this._renumberReasons();
        return;
      }
      case 'cell':
      case 'conflict': {
        const cell = model.cell(change.cellId);
        const widget = this._widgetOf(change.cellId);
        if (cell && widget) {
          if (change.kind === 'cell' && !model.isEditing(cell.id)) {
            this._saver?.markSaved(cell.id, cell.code);
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
        if (change.path !== undefined) {
          const path = this._context.localPath ?? this._context.path;
          if (change.path !== path) {
            this._fileMoved.emit(change.path);
          }
        }
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

  /** A failed or blocked cell's reason names cells by position ("#2"): show it again
   * once positions changed (a render that changes nothing is skipped). */
  private _renumberReasons(): void {
    for (const cell of this._model?.cells ?? []) {
      if (cell.status === 'error' || cell.status === 'blocked') {
        this._widgetOf(cell.id)?.render(cell);
      }
    }
  }

  private _insertWidget(cell: ICellState, index: number): void {
    const widget = new ReactiveCellWidget(cell.id, this);
    this._cellWidgets.splice(index, 0, widget);
    this.insertWidget(index + 1, widget); // after the banner
    widget.render(cell);
  }

  /** Show a cell as the model has it (e.g. after a refused change to its header). */
  private _rerender(cellId: string): void {
    const cell = this._model?.cell(cellId);
    if (cell) {
      this._widgetOf(cellId)?.render(cell);
    }
  }

  private _widgetOf(cellId: string): ReactiveCellWidget | undefined {
    return this._cellWidgets.find(widget => widget.cellId === cellId);
  }

  /** Send the cell's code if the server does not have it (see saver.ts). */
  private async _flush(cellId: string): Promise<void> {
    await this._saver?.save(cellId);
  }

  private async _move(cellId: string, after: string | null): Promise<void> {
    await this._command(
      { type: 'move_cell', cell_id: cellId, after_cell_id: after },
      'move the cell'
    );
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
  private _saver: CellSaver | null = null;
  private _typingTimer: ReturnType<typeof setTimeout> | null = null;
  private _undoNotice: string | null = null;
  private _modelReady = new Signal<this, ReactiveNotebookModel>(this);
  private _fileMoved = new Signal<this, string>(this);
}
