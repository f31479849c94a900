/**
 * What the server knows of a reactive notebook that the shared document does not hold:
 * each cell's run status, whether it is stale, why it failed or is blocked, the names it
 * reads and writes. A snapshot, then every event of docs/websocket.md applied in order.
 *
 * Code, outputs and execution counts are not here: they live in the notebook's shared
 * document, which the stock notebook shows. This state is transient (never saved).
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  CellStatus,
  CellType,
  ICell,
  ICellError,
  INotebook,
  IServerEvent,
  KernelState
} from './types';

/** A cell as the decorations need it. */
export interface IReactiveCell {
  id: string;
  type: CellType;
  status: CellStatus;
  stale: boolean;
  /** Why the cell failed or is blocked, as the server words it (cells named by id). */
  error: string | null;
  reads: string[];
  writes: string[];
  dynamic: string | null;
  /** The result variable of a SQL cell. */
  output: string | null;
  /** The exception of the cell's last run. */
  traceback: ICellError | null;
}

export type StateChange =
  /** Everything may have changed (a snapshot). */
  | { kind: 'reset' }
  /** One cell's state changed. */
  | { kind: 'cell'; cellId: string }
  /** Cells were added, deleted or moved: who defines a name may have changed. */
  | { kind: 'order' }
  /** Name or database connection; `path` when the file moved. */
  | { kind: 'notebook'; path?: string }
  | { kind: 'kernel'; state: KernelState }
  | { kind: 'deleted' }
  /** An `error` event that belongs to no request. */
  | { kind: 'error'; message: string };

/** Statuses of a cell whose run has not finished. */
const PENDING: ReadonlySet<CellStatus> = new Set(['queued', 'running']);

function fromServer(cell: ICell): IReactiveCell {
  return {
    id: cell.id,
    type: cell.type,
    status: cell.status,
    stale: Boolean(cell.stale),
    error: cell.error ?? null,
    reads: [...(cell.reads ?? [])],
    writes: [...(cell.writes ?? [])],
    dynamic: cell.dynamic ?? null,
    output: cell.output ?? null,
    traceback: cell.traceback ?? null
  };
}

interface IRunWatch {
  cellId: string;
  /** A queued or running status was seen since the watch began. */
  started: boolean;
  resolve: (status: CellStatus | null) => void;
}

/** A run of one cell being waited for (see `ReactiveState.watchRun`). */
export interface IRunWatchHandle {
  /** The cell's status once the run ends; null if it never will be known. */
  readonly done: Promise<CellStatus | null>;
  /** Stop waiting (the run request failed): `done` resolves with null. */
  cancel(): void;
}

export class ReactiveState {
  get changed(): ISignal<this, StateChange> {
    return this._changed;
  }

  /** False until the first snapshot. */
  get loaded(): boolean {
    return this._loaded;
  }

  get name(): string {
    return this._name;
  }

  /** The database connection, with its password masked by the server. */
  get dbConnString(): string {
    return this._db;
  }

  get revision(): number {
    return this._revision;
  }

  get kernelState(): KernelState {
    return this._kernel;
  }

  get deleted(): boolean {
    return this._deleted;
  }

  get cells(): ReadonlyArray<IReactiveCell> {
    return this._cells;
  }

  cell(cellId: string): IReactiveCell | undefined {
    return this._byId.get(cellId);
  }

  /**
   * The cell `cellId` takes `name` from: the nearest cell above it that writes the name
   * (what the server links it to), else the nearest one below (a definition the cell
   * cannot see yet). Null when no cell writes it.
   */
  definerOf(cellId: string, name: string): IReactiveCell | null {
    const index = this._cells.findIndex(cell => cell.id === cellId);
    if (index < 0) {
      return null;
    }
    const writes = (cell: IReactiveCell) => cell.writes.includes(name);
    for (let i = index - 1; i >= 0; i--) {
      if (writes(this._cells[i])) {
        return this._cells[i];
      }
    }
    return this._cells.slice(index + 1).find(writes) ?? null;
  }

  /**
   * Wait for the next run of `cellId` to end: call it before asking for the run. The
   * watch resolves with the status the cell ends with once a queued or running status
   * was seen; a snapshot (after a reconnection, events may have been missed) resolves it
   * with the cell's status when that is no longer pending.
   */
  watchRun(cellId: string): IRunWatchHandle {
    let watch!: IRunWatch;
    const done = new Promise<CellStatus | null>(resolve => {
      watch = { cellId, started: false, resolve };
    });
    this._watches.add(watch);
    return {
      done,
      cancel: () => this._settle(watch, null)
    };
  }

  /** Load the notebook as `GET /notebooks/<id>` (or a `snapshot`) describes it. */
  load(notebook: INotebook): void {
    this._name = notebook.name;
    this._db = notebook.db_conn_string ?? '';
    this._revision = notebook.revision;
    this._cells = notebook.cells.map(fromServer);
    this._reindex();
    this._loaded = true;
    for (const watch of [...this._watches]) {
      const cell = this._byId.get(watch.cellId);
      if (!cell) {
        this._settle(watch, null);
      } else if (!PENDING.has(cell.status) && watch.started) {
        this._settle(watch, cell.status);
      } else if (PENDING.has(cell.status)) {
        watch.started = true;
      }
    }
    this._changed.emit({ kind: 'reset' });
  }

  /** Apply one server event (a `batch` applies its events in order). */
  apply(event: IServerEvent): void {
    if (event.type === 'batch') {
      for (const inner of event.events ?? []) {
        this.apply(inner);
      }
      return;
    }
    if (event.type === 'snapshot') {
      this._seq = event.seq ?? null;
      this.load(event.notebook);
      if (event.kernel_state !== undefined) {
        this._setKernel(event.kernel_state ?? 'unknown');
      }
      return;
    }
    if (typeof event.seq === 'number') {
      if (this._seq !== null && event.seq <= this._seq) {
        return; // already applied (a resume that overlaps)
      }
      this._seq = event.seq;
    }
    if (typeof event.revision === 'number') {
      this._revision = event.revision;
    }
    switch (event.type) {
      case 'cell_status':
        return this._onStatus(event.cell_id, event.status, event);
      case 'cell_error': {
        const cell = this._byId.get(event.cell_id);
        if (cell) {
          cell.traceback = event.error;
          this._emitCell(cell.id);
        }
        return;
      }
      case 'cell_created': {
        if (this._byId.has(event.cell_id)) {
          return;
        }
        const index = Math.max(0, Math.min(event.index, this._cells.length));
        this._cells.splice(index, 0, fromServer(event.cell));
        this._reindex();
        this._changed.emit({ kind: 'order' });
        return;
      }
      case 'cell_updated': {
        const index = this._cells.findIndex(c => c.id === event.cell_id);
        if (index < 0) {
          return;
        }
        const current = this._cells[index];
        const updated = fromServer(event.cell);
        updated.traceback = event.cell.traceback ?? current.traceback;
        this._cells[index] = updated;
        this._byId.set(updated.id, updated);
        // Its writes may have changed: other cells' reads may now resolve elsewhere.
        this._changed.emit({ kind: 'order' });
        return;
      }
      case 'cell_deleted': {
        const index = this._cells.findIndex(c => c.id === event.cell_id);
        if (index < 0) {
          return;
        }
        this._cells.splice(index, 1);
        this._reindex();
        for (const watch of [...this._watches]) {
          if (watch.cellId === event.cell_id) {
            this._settle(watch, null);
          }
        }
        this._changed.emit({ kind: 'order' });
        return;
      }
      case 'cell_moved': {
        const from = this._cells.findIndex(c => c.id === event.cell_id);
        if (from < 0) {
          return;
        }
        const [cell] = this._cells.splice(from, 1);
        const to = Math.max(0, Math.min(event.index, this._cells.length));
        this._cells.splice(to, 0, cell);
        this._changed.emit({ kind: 'order' });
        return;
      }
      case 'notebook_updated':
        if (event.name !== undefined) {
          this._name = event.name;
        }
        if (event.db_conn_string !== undefined) {
          this._db = event.db_conn_string;
        }
        this._changed.emit({ kind: 'notebook', path: event.path });
        return;
      case 'notebook_deleted':
        this._deleted = true;
        this.dispose();
        this._changed.emit({ kind: 'deleted' });
        return;
      case 'kernel_status':
        this._setKernel(event.state);
        return;
      case 'error':
        if (event.request_id === undefined) {
          this._changed.emit({ kind: 'error', message: event.message });
        }
        return;
      default:
        // Outputs, streams and clears reach the tab through the shared document.
        return;
    }
  }

  /** Stop every watch (the notebook is closed or gone). */
  dispose(): void {
    for (const watch of [...this._watches]) {
      this._settle(watch, null);
    }
  }

  private _onStatus(
    cellId: string,
    status: CellStatus,
    event: { stale?: boolean; error?: string | null }
  ): void {
    const cell = this._byId.get(cellId);
    if (!cell) {
      return;
    }
    if (status === 'running' && cell.status !== 'running') {
      cell.traceback = null;
    }
    cell.status = status;
    if (event.stale !== undefined) {
      cell.stale = event.stale;
    }
    if (event.error !== undefined) {
      cell.error = event.error;
    } else if (status !== 'error' && status !== 'blocked') {
      cell.error = null;
    }
    for (const watch of [...this._watches]) {
      if (watch.cellId !== cellId) {
        continue;
      }
      if (PENDING.has(status)) {
        watch.started = true;
      } else if (watch.started) {
        this._settle(watch, status);
      }
    }
    this._emitCell(cellId);
  }

  private _settle(watch: IRunWatch, status: CellStatus | null): void {
    if (this._watches.delete(watch)) {
      watch.resolve(status);
    }
  }

  private _reindex(): void {
    this._byId = new Map(this._cells.map(cell => [cell.id, cell]));
  }

  private _setKernel(state: KernelState): void {
    if (state !== this._kernel) {
      this._kernel = state;
      this._changed.emit({ kind: 'kernel', state });
    }
  }

  private _emitCell(cellId: string): void {
    this._changed.emit({ kind: 'cell', cellId });
  }

  private _cells: IReactiveCell[] = [];
  private _byId = new Map<string, IReactiveCell>();
  private _watches = new Set<IRunWatch>();
  private _name = '';
  private _db = '';
  private _revision = 0;
  private _seq: number | null = null;
  private _kernel: KernelState = 'unknown';
  private _loaded = false;
  private _deleted = false;
  private _changed = new Signal<this, StateChange>(this);
}
