/**
 * The REST client: every endpoint of `/reactive/api/v1` (design.md section 4), through
 * JupyterLab's `ServerConnection`, so the URL, token, XSRF cookie and a JupyterHub
 * `/user/<name>/` prefix all come from `serverSettings`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { ICapabilities, ICell, INotebook, INotebookSummary } from './types';
import type { TokenGetter } from './socket';
import type { IWelcome } from './welcome';

/** The API's path under the server's base URL. */
export const API_PATH = 'reactive/api/v1';

/** A failed call, with the server's JSON `message` (and `field`, `revision`). */
export class ReactiveAPIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown> = {}
  ) {
    super(message);
    this.name = 'ReactiveAPIError';
  }

  /** The notebook's current revision, on a 409 for a stale `expected_revision`. */
  get revision(): number | undefined {
    const revision = this.body.revision;
    return typeof revision === 'number' ? revision : undefined;
  }

  /** The body field at fault, on a 400. */
  get field(): string | undefined {
    const field = this.body.field;
    return typeof field === 'string' ? field : undefined;
  }
}

/** The URL of an API path, e.g. `notebooks/<id>`. */
export function apiURL(
  settings: ServerConnection.ISettings,
  ...parts: string[]
): string {
  return URLExt.join(
    settings.baseUrl,
    API_PATH,
    ...parts.map(part => encodeURIComponent(part))
  );
}

/**
 * Call the API: `path` parts are URL-encoded and joined under `/reactive/api/v1`.
 * Resolves with the parsed JSON body (undefined for 204); rejects with a
 * `ReactiveAPIError` carrying the server's message.
 */
export async function requestAPI<T>(
  settings: ServerConnection.ISettings,
  method: string,
  path: string[],
  body?: unknown,
  query?: Record<string, string>
): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const url =
    apiURL(settings, ...path) +
    (query ? URLExt.objectToQueryString(query) : '');
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ReactiveAPIError(
      `The server could not be reached: ${String(error)}`,
      0
    );
  }
  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!response.ok) {
    const parsed =
      data !== null && typeof data === 'object'
        ? (data as Record<string, unknown>)
        : {};
    const message =
      typeof parsed.message === 'string' && parsed.message
        ? parsed.message
        : `${method} ${url} failed: ${response.status} ${response.statusText}`;
    throw new ReactiveAPIError(message, response.status, parsed);
  }
  return data as T;
}

/** Options every mutating call accepts. */
export interface IRevisionOptions {
  /** Refuse the change (409) unless the notebook is still at this revision. */
  expectedRevision?: number;
}

function withRevision(
  body: Record<string, unknown>,
  options: IRevisionOptions = {}
): Record<string, unknown> {
  return options.expectedRevision === undefined
    ? body
    : { ...body, expected_revision: options.expectedRevision };
}

/** Typed calls for every REST endpoint, bound to one server. */
export class ReactiveAPI {
  /**
   * @param getToken - a source of fresh JWTs (an embedding app's): notebook sockets
   * authenticate with it by their first message and renew it before it expires
   * (`socket.ts`). Without it they use the settings' cookie or token.
   */
  constructor(
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings(),
    readonly getToken?: TokenGetter
  ) {}

  /** `GET /reactive/health` (outside the versioned API). */
  async health(): Promise<{ status: string; version: string }> {
    const url = URLExt.join(this.serverSettings.baseUrl, 'reactive/health');
    const response = await ServerConnection.makeRequest(
      url,
      {},
      this.serverSettings
    );
    if (!response.ok) {
      throw new ReactiveAPIError(
        `health check failed: ${response.status}`,
        response.status
      );
    }
    return (await response.json()) as { status: string; version: string };
  }

  private call<T>(
    method: string,
    path: string[],
    body?: unknown,
    query?: Record<string, string>
  ): Promise<T> {
    return requestAPI<T>(this.serverSettings, method, path, body, query);
  }

  /**
   * The notebook in the file at contents path `path` (null if the caller has none
   * there). Ask this rather than reading the id in the file: a copied file still holds
   * its original's id, and only the server knows the copy's own.
   */
  async notebookAt(path: string): Promise<INotebookSummary | null> {
    const reply = await this.call<{ notebooks: INotebookSummary[] }>(
      'GET',
      ['notebooks'],
      undefined,
      { path }
    );
    return reply.notebooks[0] ?? null;
  }

  async listNotebooks(): Promise<INotebookSummary[]> {
    const reply = await this.call<{ notebooks: INotebookSummary[] }>('GET', [
      'notebooks'
    ]);
    return reply.notebooks;
  }

  /**
   * The user's first visit: the server makes a new user's welcome notebook, once
   * (welcome.ts); says what it decided.
   */
  welcome(): Promise<IWelcome> {
    return this.call('POST', ['welcome'], {});
  }

  /** What the server offers beyond notebooks (whether the chat has an LLM provider). */
  capabilities(): Promise<ICapabilities> {
    return this.call('GET', ['capabilities']);
  }

  /** A new notebook; `path` is its file under the contents root (file-backed stores). */
  /** A new notebook named `name` (default: Untitled) in `folder` (a contents path;
   * default: the user's notebooks folder). */
  createNotebook(options: { name?: string; folder?: string } = {}): Promise<{
    notebook_id: string;
    name?: string;
    revision?: number;
    path?: string;
  }> {
    const body: { name?: string; folder?: string } = {};
    if (options.name !== undefined) {
      body.name = options.name;
    }
    if (options.folder !== undefined) {
      body.folder = options.folder;
    }
    return this.call('POST', ['notebooks'], body);
  }

  getNotebook(notebookId: string): Promise<INotebook> {
    return this.call('GET', ['notebooks', notebookId]);
  }

  renameNotebook(
    notebookId: string,
    name: string,
    options?: IRevisionOptions
  ): Promise<{ name: string; revision: number; path?: string }> {
    return this.call(
      'PUT',
      ['notebooks', notebookId, 'name'],
      withRevision({ name }, options)
    );
  }

  setDbConnection(
    notebookId: string,
    connectionString: string,
    options?: IRevisionOptions
  ): Promise<{ db_conn_string: string; revision: number }> {
    return this.call(
      'PUT',
      ['notebooks', notebookId, 'db'],
      withRevision({ connection_string: connectionString }, options)
    );
  }

  async deleteNotebook(notebookId: string): Promise<void> {
    await this.call<void>('DELETE', ['notebooks', notebookId]);
  }

  createCell(
    notebookId: string,
    cell: {
      type: 'python' | 'sql';
      code?: string;
      after_cell_id?: string | null;
      output?: string;
    },
    options?: IRevisionOptions
  ): Promise<{
    cell_id: string;
    index?: number;
    revision?: number;
    cell?: ICell;
  }> {
    return this.call(
      'POST',
      ['notebooks', notebookId, 'cells'],
      withRevision({ ...cell }, options)
    );
  }

  updateCell(
    notebookId: string,
    cellId: string,
    code: string,
    options?: IRevisionOptions & { output?: string }
  ): Promise<ICell & { revision: number }> {
    const body: Record<string, unknown> = { code };
    if (options?.output !== undefined) {
      body.output = options.output;
    }
    return this.call(
      'PUT',
      ['notebooks', notebookId, 'cells', cellId],
      withRevision(body, options)
    );
  }

  moveCell(
    notebookId: string,
    cellId: string,
    afterCellId: string | null,
    options?: IRevisionOptions
  ): Promise<{ index: number; revision: number }> {
    return this.call(
      'POST',
      ['notebooks', notebookId, 'cells', cellId, 'move'],
      withRevision({ after_cell_id: afterCellId }, options)
    );
  }

  async deleteCell(notebookId: string, cellId: string): Promise<void> {
    await this.call<void>('DELETE', ['notebooks', notebookId, 'cells', cellId]);
  }

  getCell(
    notebookId: string,
    cellId: string
  ): Promise<ICell & { revision: number }> {
    return this.call('GET', ['notebooks', notebookId, 'cells', cellId]);
  }

  /**
   * Queue a run of the cell and its dependents (202), or with `wait` run it and get the
   * notebook after the run. `code`: the cell's source as the editor shows it; the server
   * waits for its shared document to hold it before running (409 if it never does).
   */
  runCell(
    notebookId: string,
    cellId: string,
    options: { wait?: boolean; code?: string } = {}
  ): Promise<{ status: string } | INotebook> {
    const body: Record<string, unknown> = {};
    if (options.wait) {
      body.wait = true;
    }
    if (options.code !== undefined) {
      body.code = options.code;
    }
    return this.call(
      'POST',
      ['notebooks', notebookId, 'cells', cellId, 'run'],
      body
    );
  }

  /**
   * Queue a run of these cells and their dependents in one request; `codes` as
   * `runCell`'s `code`, for each cell.
   */
  runCells(
    notebookId: string,
    cellIds: string[],
    codes: Record<string, string> = {}
  ): Promise<{ status: string }> {
    return this.call('POST', ['notebooks', notebookId, 'run'], {
      cell_ids: cellIds,
      codes
    });
  }

  runAll(notebookId: string): Promise<{ status: string }> {
    return this.call('POST', ['notebooks', notebookId, 'run'], {});
  }

  interrupt(notebookId: string): Promise<{ status: string }> {
    return this.call('POST', ['notebooks', notebookId, 'interrupt'], {});
  }
}
