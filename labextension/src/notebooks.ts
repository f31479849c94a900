/**
 * Which open notebooks are reactive, and the server connection of each one.
 *
 * A reactive notebook is an ordinary notebook whose metadata has `reactive_notebook`.
 * While one is open, a `ReactiveConnection` follows its reactive state over the
 * notebook's WebSocket (statuses, stale marks, reads and writes: what the decorations
 * show). A plain notebook gets no connection: the server never hears of it.
 */
import { Notification } from '@jupyterlab/apputils';
import { Cell } from '@jupyterlab/cells';
import {
  INotebookModel,
  INotebookTracker,
  NotebookPanel
} from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { ReactiveAPI } from './api';
import { RunBatcher } from './run-batch';
import { ConnectionStatus, NotebookSocket } from './socket';
import { ReactiveState } from './state';

/** The notebook metadata key that makes a notebook reactive (the file format's). */
export const REACTIVE_KEY = 'reactive_notebook';

/** Whether the notebook `model` is reactive. */
export function isReactive(model: INotebookModel | null | undefined): boolean {
  const ours = model?.getMetadata(REACTIVE_KEY);
  return ours !== undefined && ours !== null;
}

/** The notebook panel a cell belongs to (null while it is not in one). */
export function panelOfCell(cell: Widget | null): NotebookPanel | null {
  let widget: Widget | null = cell;
  while (widget && !(widget instanceof NotebookPanel)) {
    widget = widget.parent;
  }
  return widget;
}

/** One reactive notebook's link to the server: its id, socket and state. */
export class ReactiveConnection implements IDisposable {
  constructor(
    readonly api: ReactiveAPI,
    readonly notebookId: string
  ) {
    this.socket = new NotebookSocket({
      serverSettings: api.serverSettings,
      notebookId,
      getToken: api.getToken
    });
    this.socket.received.connect((_, event) => this.state.apply(event));
    this.socket.statusChanged.connect((_, status) => {
      this._everConnected ||= status === 'connected';
      this._statusChanged.emit(status);
    });
    this.state.changed.connect((_, change) => {
      if (change.kind === 'error') {
        Notification.error(change.message, { autoClose: 8000 });
      }
    });
    this.socket.connect();
    this.runs = new RunBatcher(async runs => {
      if (runs.length === 1) {
        const [{ cellId, code }] = runs;
        await api.runCell(notebookId, cellId, { code });
        return;
      }
      const codes = Object.fromEntries(runs.map(run => [run.cellId, run.code]));
      await api.runCells(notebookId, Object.keys(codes), codes);
    });
  }

  readonly socket: NotebookSocket;
  /** Runs of this notebook's cells asked for together go to the server together. */
  readonly runs: RunBatcher;
  readonly state = new ReactiveState();

  get status(): ConnectionStatus {
    return this.socket.status;
  }

  get statusChanged(): ISignal<this, ConnectionStatus> {
    return this._statusChanged;
  }

  /** The connection was up and is down now (reconnecting, or the notebook is gone). */
  get offline(): boolean {
    return this._everConnected && this.socket.status !== 'connected';
  }

  get isDisposed(): boolean {
    return this.socket.isDisposed;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.state.dispose();
    this.socket.dispose();
    Signal.clearData(this);
  }

  private _statusChanged = new Signal<this, ConnectionStatus>(this);
  private _everConnected = false;
}

/**
 * The reactive connections of the open notebook panels. Made before JupyterLab's
 * notebook tracker exists (the cells' content factory needs it, and the tracker needs
 * the factory): `track` hands it the tracker.
 */
export class ReactiveNotebooks implements IDisposable {
  constructor(readonly api: ReactiveAPI) {}

  /** Follow the notebooks `tracker` opens (once). */
  track(tracker: INotebookTracker): void {
    if (this._tracker) {
      return;
    }
    this._tracker = tracker;
    tracker.widgetAdded.connect((_, panel) => this._follow(panel));
    tracker.forEach(panel => this._follow(panel));
  }

  /** The connection of a panel went down, or came back up. */
  get statusChanged(): ISignal<this, NotebookPanel> {
    return this._statusChanged;
  }

  /** A panel got or lost its connection. */
  get connectionChanged(): ISignal<this, NotebookPanel> {
    return this._connectionChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The panel's connection, if it is reactive and connected (or connecting). */
  connection(panel: NotebookPanel): ReactiveConnection | null {
    return this._connections.get(panel) ?? null;
  }

  /** The panel showing the notebook `model`. */
  panelOf(model: INotebookModel): NotebookPanel | null {
    return this._tracker?.find(panel => panel.model === model) ?? null;
  }

  /** The connection of a reactive panel, made (the notebook's id looked up) if need be. */
  connect(panel: NotebookPanel): Promise<ReactiveConnection> {
    const existing = this._connections.get(panel);
    if (existing) {
      return Promise.resolve(existing);
    }
    let pending = this._connecting.get(panel);
    if (!pending) {
      pending = this._open(panel).finally(() => this._connecting.delete(panel));
      this._connecting.set(panel, pending);
    }
    return pending;
  }

  /** Drop the panel's connection (it became plain, moved or closed). */
  disconnect(panel: NotebookPanel): void {
    const connection = this._connections.get(panel);
    if (connection) {
      this._connections.delete(panel);
      connection.dispose();
      this._connectionChanged.emit(panel);
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    for (const panel of [...this._connections.keys()]) {
      this.disconnect(panel);
    }
    Signal.clearData(this);
  }

  private async _open(panel: NotebookPanel): Promise<ReactiveConnection> {
    const path = panel.context.path;
    const summary = await this.api.notebookAt(path);
    if (!summary) {
      throw new Error(`The server has no notebook at ${path}.`);
    }
    const current = this._connections.get(panel);
    if (current) {
      return current;
    }
    const connection = new ReactiveConnection(this.api, summary.id);
    if (panel.isDisposed || panel.context.path !== path) {
      connection.dispose(); // closed or moved meanwhile
      throw new Error(`The notebook ${path} is no longer open.`);
    }
    connection.statusChanged.connect(() => this._statusChanged.emit(panel));
    this._connections.set(panel, connection);
    this._connectionChanged.emit(panel);
    return connection;
  }

  /** Connect the panel while it is reactive; follow its moves; forget it when closed. */
  private _follow(panel: NotebookPanel): void {
    const sync = () => {
      if (panel.isDisposed) {
        return;
      }
      if (isReactive(panel.model)) {
        this.connect(panel).catch(error =>
          Notification.warning(
            `This reactive notebook cannot reach the server: ${
              error instanceof Error ? error.message : String(error)
            }`,
            { autoClose: 8000 }
          )
        );
      } else {
        this.disconnect(panel);
      }
    };
    void panel.context.ready.then(() => {
      sync();
      panel.model?.metadataChanged.connect((_, change) => {
        if (change.key === REACTIVE_KEY) {
          sync();
        }
      });
      panel.context.pathChanged.connect(() => {
        // The server keeps its notebook id across a rename: reconnect by the new path.
        this.disconnect(panel);
        sync();
      });
    });
    panel.disposed.connect(() => this.disconnect(panel));
  }

  private _tracker: INotebookTracker | null = null;
  private _connections = new Map<NotebookPanel, ReactiveConnection>();
  private _connecting = new Map<NotebookPanel, Promise<ReactiveConnection>>();
  private _connectionChanged = new Signal<this, NotebookPanel>(this);
  private _statusChanged = new Signal<this, NotebookPanel>(this);
  private _isDisposed = false;
}

/** The cell widget's id in the shared document (the id the server knows it by). */
export function cellId(cell: Cell): string {
  return cell.model.id;
}
