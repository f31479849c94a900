/**
 * The shapes the server sends and accepts (design.md section 4, docs/websocket.md).
 */

export type CellType = 'python' | 'sql' | 'markdown' | 'raw';

export type CellStatus =
  'idle' | 'queued' | 'running' | 'success' | 'error' | 'blocked';

export type KernelState =
  'unknown' | 'starting' | 'idle' | 'busy' | 'restarting' | 'dead';

/** A rich output: `{mime_type, data, metadata}`. */
export interface IOutput {
  mime_type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

/** A table output's data (`application/json` with `type: "table"`). */
export interface ITableData {
  type: 'table';
  columns: string[];
  rows: unknown[][];
  truncated: string | null;
  /** Rows in the whole frame (`rows` holds at most the first 1000 or so). */
  total_rows?: number;
  /** How many leading columns are the frame's index (pandas), 0 for none. */
  index_columns?: number;
}

export interface ICellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** A cell as the REST API describes it. */
export interface ICell {
  id: string;
  type: CellType;
  code: string;
  status: CellStatus;
  stale: boolean;
  stdout: string;
  stderr: string;
  outputs: IOutput[];
  /**
   * Whether `outputs` may be rendered as they are (HTML and markdown unsanitized, script
   * run): they were made by a run on the server, or the notebook file carries a valid
   * Jupyter signature. Untrusted outputs are rendered as JupyterLab renders them for an
   * untrusted notebook.
   */
  trusted: boolean;
  /** Why the cell failed or is blocked, as text. */
  error: string | null;
  reads: string[];
  writes: string[];
  /**
   * Why the cell counts as reading every name defined above it ("reads names dynamically
   * (eval in show)"): it reaches names by string, itself or through a function of the
   * notebook. Null (or absent, from an older server) when it does not.
   */
  dynamic?: string | null;
  /** The result variable of a SQL cell. */
  output?: string | null;
  /** The exception of the cell's last run, if it raised. */
  traceback?: ICellError | null;
}

export interface INotebook {
  id: string;
  name: string;
  db_conn_string: string;
  revision: number;
  cells: ICell[];
}

/** One feature of the server (`GET /capabilities`): usable, or why not. */
export interface ICapability {
  available: boolean;
  /** Why it is unavailable, for a person (empty when available). */
  message: string;
}

/** `GET /reactive/api/v1/capabilities`. */
export interface ICapabilities {
  /** The notebook chat: available once an LLM provider is configured. */
  chat: ICapability;
}

export interface INotebookSummary {
  id: string;
  name: string;
  /** The file's contents path (answers to a lookup by path). */
  path?: string;
}

/** Server -> client events. */
interface IEventBase {
  seq?: number;
  revision?: number;
}

export interface ISnapshotEvent extends IEventBase {
  type: 'snapshot';
  notebook: INotebook;
  /** The last `kernel_status` state (null: the kernel has not started yet). */
  kernel_state?: KernelState | null;
}
export interface IResumedEvent extends IEventBase {
  type: 'resumed';
}
export interface IBatchEvent extends IEventBase {
  type: 'batch';
  events: IServerEvent[];
}
export interface ICellStatusEvent extends IEventBase {
  type: 'cell_status';
  cell_id: string;
  status: CellStatus;
  stale?: boolean;
  error?: string | null;
}
export interface ICellStdoutEvent extends IEventBase {
  type: 'cell_stdout';
  cell_id: string;
  name?: 'stdout' | 'stderr';
  data: string;
}
export interface ICellOutputEvent extends IEventBase {
  type: 'cell_output';
  cell_id: string;
  output: IOutput;
  /** True: the output comes from a run on the server (absent: treated as untrusted). */
  trusted?: boolean;
}
/**
 * A display the cell shows (an output whose `metadata.display_id` is `display_id`) was
 * updated, by this cell or another (`update_display`, or a new display re-using the id):
 * every output of the cell with that display id is replaced by `output`.
 */
export interface ICellOutputUpdatedEvent extends IEventBase {
  type: 'cell_output_updated';
  cell_id: string;
  display_id: string;
  output: IOutput;
  /** Whether the cell is trusted (an update never makes an untrusted cell trusted). */
  trusted?: boolean;
}
export interface ICellErrorEvent extends IEventBase {
  type: 'cell_error';
  cell_id: string;
  error: ICellError;
}
export interface ICellClearedEvent extends IEventBase {
  type: 'cell_cleared';
  cell_id: string;
}
export interface ICellCreatedEvent extends IEventBase {
  type: 'cell_created';
  cell_id: string;
  index: number;
  cell: ICell;
}
export interface ICellUpdatedEvent extends IEventBase {
  type: 'cell_updated';
  cell_id: string;
  cell: ICell;
}
export interface ICellDeletedEvent extends IEventBase {
  type: 'cell_deleted';
  cell_id: string;
}
export interface ICellMovedEvent extends IEventBase {
  type: 'cell_moved';
  cell_id: string;
  index: number;
}
export interface INotebookUpdatedEvent extends IEventBase {
  type: 'notebook_updated';
  name?: string;
  /** The file's new path (contents root relative), when it was renamed. */
  path?: string;
  db_conn_string?: string;
}
export interface INotebookDeletedEvent extends IEventBase {
  type: 'notebook_deleted';
}
export interface IKernelStatusEvent extends IEventBase {
  type: 'kernel_status';
  state: KernelState;
}
export interface IAckEvent extends IEventBase {
  type: 'ack';
  request_id: string | number;
  result?: unknown;
}
export interface IErrorEvent extends IEventBase {
  type: 'error';
  message: string;
  request_id?: string | number;
  field?: string;
}

export type IServerEvent =
  | ISnapshotEvent
  | IResumedEvent
  | IBatchEvent
  | ICellStatusEvent
  | ICellStdoutEvent
  | ICellOutputEvent
  | ICellOutputUpdatedEvent
  | ICellErrorEvent
  | ICellClearedEvent
  | ICellCreatedEvent
  | ICellUpdatedEvent
  | ICellDeletedEvent
  | ICellMovedEvent
  | INotebookUpdatedEvent
  | INotebookDeletedEvent
  | IKernelStatusEvent
  | IAckEvent
  | IErrorEvent;
