/**
 * The state of one reactive notebook as the server reports it: a snapshot, then every
 * event of docs/websocket.md applied in order. Views listen to `changed`.
 *
 * Local edits: while the user types in a cell (`beginEdit` .. `endEdit`) its code is the
 * user's. A remote `cell_updated` (or snapshot) with other code does not overwrite it; it
 * is kept as a conflict for the view to show (`resolveConflict` takes a side). The
 * echoes of this client's own `cell_update`s (`noteSent`) are not conflicts.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  ICell,
  ICellError,
  INotebook,
  IServerEvent,
  KernelState
} from './types';

/** A cell as the view needs it. */
export interface ICellState extends ICell {
  /** The traceback of the last failure (`cell_error`, or the snapshot's), if any. */
  traceback: ICellError | null;
}

/** A remote version of a cell's code that arrived while the user was editing it. */
export interface IConflict {
  cellId: string;
  /** The code the user has. */
  local: string;
  /** The code someone else saved. */
  remote: string;
  /** The notebook revision the remote code belongs to. */
  revision: number;
}

export type ModelChange =
  /** Everything may have changed (a snapshot). */
  | { kind: 'reset' }
  /** One cell's content or state changed. */
  | { kind: 'cell'; cellId: string }
  /** A cell was added (at `index`). */
  | { kind: 'cell-created'; cellId: string; index: number }
  | { kind: 'cell-deleted'; cellId: string; index: number }
  | { kind: 'cell-moved'; cellId: string; from: number; to: number }
  /** Name or database connection. */
  | { kind: 'notebook'; path?: string }
  | { kind: 'notebook-deleted' }
  | { kind: 'kernel'; state: KernelState }
  /** A conflict was recorded for the cell, or resolved (then `conflict` is null). */
  | { kind: 'conflict'; cellId: string; conflict: IConflict | null }
  /** An `error` event that belongs to no request. */
  | { kind: 'error'; message: string };

interface ILocalEdit {
  code: string;
  /** Codes this client sent for the cell whose echo has not come back yet. */
  sent: string[];
}

function cellState(cell: ICell): ICellState {
  return {
    ...cell,
    stdout: cell.stdout ?? '',
    stderr: cell.stderr ?? '',
    outputs: [...(cell.outputs ?? [])],
    reads: [...(cell.reads ?? [])],
    writes: [...(cell.writes ?? [])],
    dynamic: cell.dynamic ?? null,
    stale: Boolean(cell.stale),
    trusted: cell.trusted === true,
    error: cell.error ?? null,
    traceback: cell.traceback ?? null
  };
}

export class ReactiveNotebookModel {
  constructor(readonly notebookId: string) {}

  get changed(): ISignal<this, ModelChange> {
    return this._changed;
  }

  /** False until the first snapshot. */
  get loaded(): boolean {
    return this._loaded;
  }

  get name(): string {
    return this._name;
  }

  get dbConnString(): string {
    return this._db;
  }

  /** The notebook's revision as of the last event applied. */
  get revision(): number {
    return this._revision;
  }

  /** The `seq` of the last event applied (null before the first snapshot). */
  get seq(): number | null {
    return this._seq;
  }

  get kernelState(): KernelState {
    return this._kernel;
  }

  get deleted(): boolean {
    return this._deleted;
  }

  get cells(): ReadonlyArray<ICellState> {
    return this._cells;
  }

  cell(cellId: string): ICellState | undefined {
    return this._cells.find(cell => cell.id === cellId);
  }

  indexOf(cellId: string): number {
    return this._cells.findIndex(cell => cell.id === cellId);
  }

  /**
   * The cell `cellId` takes `name` from: the nearest cell above it that writes the
   * name (what the server links it to), else the nearest one below (a definition the
   * cell cannot see yet). Null when no cell writes it.
   */
  definerOf(cellId: string, name: string): ICellState | null {
    const index = this.indexOf(cellId);
    if (index < 0) {
      return null;
    }
    const writes = (cell: ICellState) => cell.writes.includes(name);
    for (let i = index - 1; i >= 0; i--) {
      if (writes(this._cells[i])) {
        return this._cells[i];
      }
    }
    return this._cells.slice(index + 1).find(writes) ?? null;
  }

  /** The id of the cell right above `cellId` (null for the first cell). */
  cellAbove(cellId: string): string | null {
    const index = this.indexOf(cellId);
    return index > 0 ? this._cells[index - 1].id : null;
  }

  conflict(cellId: string): IConflict | null {
    return this._conflicts.get(cellId) ?? null;
  }

  isEditing(cellId: string): boolean {
    return this._edits.has(cellId);
  }

  /** Load the notebook as `GET /notebooks/<id>` (or a `snapshot`) describes it. */
  load(notebook: INotebook, seq: number | null = null): void {
    this._name = notebook.name;
    this._db = notebook.db_conn_string ?? '';
    this._revision = notebook.revision;
    this._seq = seq;
    const cells = notebook.cells.map(cellState);
    for (const cell of cells) {
      const edit = this._edits.get(cell.id);
      if (edit) {
        this._keepLocal(cell, edit, notebook.revision);
      }
    }
    const ids = new Set(cells.map(cell => cell.id));
    for (const cellId of [...this._conflicts.keys()]) {
      if (!ids.has(cellId)) {
        this._conflicts.delete(cellId);
      }
    }
    for (const cellId of [...this._edits.keys()]) {
      if (!ids.has(cellId)) {
        this._edits.delete(cellId);
      }
    }
    this._cells = cells;
    this._loaded = true;
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
      this.load(event.notebook, event.seq ?? null);
      if (event.kernel_state !== undefined) {
        this._setKernel(event.kernel_state ?? 'unknown');
      }
      return;
    }
    if (event.type === 'ack' || event.type === 'resumed') {
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
      case 'cell_status': {
        const cell = this.cell(event.cell_id);
        if (!cell) {
          return;
        }
        if (event.status === 'running' && cell.status !== 'running') {
          // A new run: what the cell showed before goes (the server drops it too), and
          // what it shows from now on comes from this run: trusted, as on the server.
          cell.outputs = [];
          cell.stdout = '';
          cell.stderr = '';
          cell.traceback = null;
          cell.trusted = true;
        }
        cell.status = event.status;
        if (event.stale !== undefined) {
          cell.stale = event.stale;
        }
        if (event.error !== undefined) {
          cell.error = event.error;
        } else if (event.status !== 'error' && event.status !== 'blocked') {
          cell.error = null;
        }
        this._emitCell(cell.id);
        return;
      }
      case 'cell_stdout': {
        const cell = this.cell(event.cell_id);
        if (!cell) {
          return;
        }
        if (event.name === 'stderr') {
          cell.stderr += event.data;
        } else {
          cell.stdout += event.data;
        }
        this._emitCell(cell.id);
        return;
      }
      case 'cell_output': {
        const cell = this.cell(event.cell_id);
        if (!cell) {
          return;
        }
        cell.outputs = [...cell.outputs, event.output];
        // One output the server does not vouch for makes the cell's outputs untrusted.
        cell.trusted = cell.trusted && event.trusted === true;
        this._emitCell(cell.id);
        return;
      }
      case 'cell_output_updated': {
        const cell = this.cell(event.cell_id);
        if (!cell) {
          return;
        }
        let changed = false;
        cell.outputs = cell.outputs.map(output => {
          if (output.metadata?.display_id !== event.display_id) {
            return output;
          }
          changed = true;
          return event.output;
        });
        if (!changed) {
          return;
        }
        cell.trusted = cell.trusted && event.trusted === true;
        this._emitCell(cell.id);
        return;
      }
      case 'cell_error': {
        const cell = this.cell(event.cell_id);
        if (!cell) {
          return;
        }
        cell.traceback = event.error;
        this._emitCell(cell.id);
        return;
      }
      case 'cell_cleared': {
        const cell = this.cell(event.cell_id);
        if (!cell) {
          return;
        }
        cell.outputs = [];
        cell.stdout = '';
        cell.stderr = '';
        this._emitCell(cell.id);
        return;
      }
      case 'cell_created': {
        if (this.cell(event.cell_id)) {
          return;
        }
        const index = Math.max(0, Math.min(event.index, this._cells.length));
        this._cells.splice(index, 0, cellState(event.cell));
        this._changed.emit({
          kind: 'cell-created',
          cellId: event.cell_id,
          index
        });
        return;
      }
      case 'cell_updated': {
        const index = this.indexOf(event.cell_id);
        if (index < 0) {
          return;
        }
        const current = this._cells[index];
        const updated: ICellState = {
          ...cellState(event.cell),
          traceback: event.cell.traceback ?? current.traceback
        };
        const edit = this._edits.get(event.cell_id);
        if (edit) {
          this._keepLocal(updated, edit, this._revision);
        }
        this._cells[index] = updated;
        this._emitCell(event.cell_id);
        return;
      }
      case 'cell_deleted': {
        const index = this.indexOf(event.cell_id);
        if (index < 0) {
          return;
        }
        this._cells.splice(index, 1);
        this._edits.delete(event.cell_id);
        this._conflicts.delete(event.cell_id);
        this._changed.emit({
          kind: 'cell-deleted',
          cellId: event.cell_id,
          index
        });
        return;
      }
      case 'cell_moved': {
        const from = this.indexOf(event.cell_id);
        if (from < 0) {
          return;
        }
        const [cell] = this._cells.splice(from, 1);
        const to = Math.max(0, Math.min(event.index, this._cells.length));
        this._cells.splice(to, 0, cell);
        this._changed.emit({ kind: 'cell-moved', cellId: cell.id, from, to });
        return;
      }
      case 'notebook_updated': {
        if (event.name !== undefined) {
          this._name = event.name;
        }
        if (event.db_conn_string !== undefined) {
          this._db = event.db_conn_string;
        }
        this._changed.emit({ kind: 'notebook', path: event.path });
        return;
      }
      case 'notebook_deleted': {
        this._deleted = true;
        this._changed.emit({ kind: 'notebook-deleted' });
        return;
      }
      case 'kernel_status': {
        this._kernel = event.state;
        this._changed.emit({ kind: 'kernel', state: event.state });
        return;
      }
      case 'error': {
        if (event.request_id === undefined) {
          this._changed.emit({ kind: 'error', message: event.message });
        }
        return;
      }
    }
  }

  /** The user started editing the cell (focus, first keystroke). */
  beginEdit(cellId: string): void {
    const cell = this.cell(cellId);
    if (cell && !this._edits.has(cellId)) {
      this._edits.set(cellId, { code: cell.code, sent: [] });
    }
  }

  /** The user's code of a cell being edited. */
  setLocalCode(cellId: string, code: string): void {
    const cell = this.cell(cellId);
    if (!cell) {
      return;
    }
    this.beginEdit(cellId);
    this._edits.get(cellId)!.code = code;
    cell.code = code;
  }

  /** This client sent `code` for the cell: its echo is not a conflict. */
  noteSent(cellId: string, code: string): void {
    this.beginEdit(cellId);
    this._edits.get(cellId)?.sent.push(code);
  }

  /** The user left the cell: remote changes apply to it again. */
  endEdit(cellId: string): void {
    this._edits.delete(cellId);
  }

  /**
   * Settle a conflict: `local` keeps the user's code (to be sent again), `remote`
   * takes the other version into the cell.
   */
  resolveConflict(cellId: string, keep: 'local' | 'remote'): void {
    const conflict = this._conflicts.get(cellId);
    const cell = this.cell(cellId);
    if (!conflict || !cell) {
      return;
    }
    this._conflicts.delete(cellId);
    if (keep === 'remote') {
      cell.code = conflict.remote;
      const edit = this._edits.get(cellId);
      if (edit) {
        edit.code = conflict.remote;
      }
    }
    this._changed.emit({ kind: 'conflict', cellId, conflict: null });
    this._emitCell(cellId);
  }

  /** Keep the user's code in `cell` (just arrived from the server); note a conflict. */
  private _keepLocal(
    cell: ICellState,
    edit: ILocalEdit,
    revision: number
  ): void {
    const remote = cell.code;
    const echo = edit.sent.indexOf(remote);
    if (echo >= 0) {
      edit.sent.splice(0, echo + 1); // this one and the older ones came back
    } else if (remote !== edit.code) {
      const conflict: IConflict = {
        cellId: cell.id,
        local: edit.code,
        remote,
        revision
      };
      this._conflicts.set(cell.id, conflict);
      this._changed.emit({ kind: 'conflict', cellId: cell.id, conflict });
    }
    cell.code = edit.code;
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

  private _cells: ICellState[] = [];
  private _edits = new Map<string, ILocalEdit>();
  private _conflicts = new Map<string, IConflict>();
  private _name = '';
  private _db = '';
  private _revision = 0;
  private _seq: number | null = null;
  private _kernel: KernelState = 'unknown';
  private _loaded = false;
  private _deleted = false;
  private _changed = new Signal<this, ModelChange>(this);
}
