/**
 * The notebook WebSocket (docs/websocket.md) as an event stream: `?batch=1` frames
 * unpacked into single events, reconnection with exponential backoff that resumes with
 * `?since=<last seq>`. Changes and runs go over REST (`api.ts`); edits go through the
 * shared document.
 *
 * Authentication: JupyterLab's cookie or Jupyter token (`?token=` when the settings
 * append it), unchanged. With a JWT (a `getToken` source given by an embedding app, or
 * a JWT as the settings' token) the token never goes in the URL: the socket sends it as
 * its first message (`auth`), renews it with `refresh_auth` before it expires, and when
 * the server closes with 4401 (token expired) reconnects at once with a fresh one.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { API_PATH } from './api';
import { IServerEvent } from './types';

/** The close code with which the server ends the socket of a deleted notebook. */
export const CLOSE_NOTEBOOK_DELETED = 4404;
/** The close code with which the server ends a socket whose JWT expired. */
export const CLOSE_TOKEN_EXPIRED = 4401;

/** A source of fresh JWTs (e.g. Clerk's `session.getToken()`); null: none now. */
export type TokenGetter = () => string | null | Promise<string | null>;

/** Whether `token` is a JWT (three parts, a JSON header with `alg`), not a Jupyter token. */
export function isJWT(token: string | null | undefined): token is string {
  const parts = (token ?? '').split('.');
  if (parts.length !== 3) {
    return false;
  }
  const header = decodePart(parts[0]);
  return typeof header?.alg === 'string';
}

/** A JWT's `exp` in ms since the epoch (null if it has none or cannot be read). */
export function tokenExpiry(token: string): number | null {
  const claims = decodePart(token.split('.')[1] ?? '');
  return typeof claims?.exp === 'number' ? claims.exp * 1000 : null;
}

function decodePart(part: string): Record<string, unknown> | null {
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const value: unknown = JSON.parse(atob(padded));
    return value && typeof value === 'object'
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Where a socket's JWTs come from: `getToken`, else a JWT as the settings' token. */
export function tokenSource(
  settings: ServerConnection.ISettings,
  getToken?: TokenGetter
): TokenGetter | null {
  if (getToken) {
    return getToken;
  }
  return isJWT(settings.token) ? () => settings.token : null;
}

export type ConnectionStatus =
  'connecting' | 'connected' | 'disconnected' | 'closed';

export interface INotebookSocketOptions {
  serverSettings: ServerConnection.ISettings;
  notebookId: string;
  /** First reconnection delay in ms (doubles per attempt). */
  minDelay?: number;
  /** Longest reconnection delay in ms. */
  maxDelay?: number;
  /** A random fraction of the delay added (0..1), so clients do not reconnect in step. */
  jitter?: number;
  /**
   * Fresh JWTs for the socket (an embedding app's, e.g. Clerk's `getToken`): sent as
   * the first message, renewed before expiry. Without it, a JWT as the settings' token
   * is used the same way; otherwise the cookie / Jupyter token authenticate as before.
   */
  getToken?: TokenGetter;
  /** Renew the JWT this many ms before it expires (at most half its remaining life). */
  refreshBefore?: number;
}

/** The `ws` URL of a notebook's socket, with `batch=1`, the token and `since`. */
export function socketURL(
  settings: ServerConnection.ISettings,
  notebookId: string,
  since: number | null,
  withToken = true
): string {
  const url = URLExt.join(
    settings.wsUrl,
    API_PATH,
    'notebooks',
    encodeURIComponent(notebookId),
    'ws'
  );
  const query: string[] = ['batch=1'];
  if (since !== null) {
    query.push(`since=${since}`);
  }
  if (withToken && settings.token && settings.appendToken) {
    query.push(`token=${encodeURIComponent(settings.token)}`);
  }
  return `${url}?${query.join('&')}`;
}

export class NotebookSocket implements IDisposable {
  constructor(options: INotebookSocketOptions) {
    this.serverSettings = options.serverSettings;
    this.notebookId = options.notebookId;
    this._minDelay = options.minDelay ?? 500;
    this._maxDelay = options.maxDelay ?? 30000;
    this._jitter = options.jitter ?? 0.25;
    this._getToken = tokenSource(options.serverSettings, options.getToken);
    this._refreshBefore = options.refreshBefore ?? 30000;
  }

  readonly serverSettings: ServerConnection.ISettings;
  readonly notebookId: string;

  /** Every server event, batches unpacked, in order (acks and errors included). */
  get received(): ISignal<this, IServerEvent> {
    return this._received;
  }

  get statusChanged(): ISignal<this, ConnectionStatus> {
    return this._statusChanged;
  }

  get status(): ConnectionStatus {
    return this._status;
  }

  /** The last `seq` seen: what a reconnect asks to resume after. */
  get lastSeq(): number | null {
    return this._lastSeq;
  }

  /** How many reconnection attempts failed in a row. */
  get attempts(): number {
    return this._attempts;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Open the socket (again). */
  connect(): void {
    if (this._isDisposed || this._ws || this._fetchingToken) {
      return;
    }
    this._clearTimer();
    this._setStatus('connecting');
    if (!this._getToken) {
      this._open(null);
      return;
    }
    this._fetchingToken = true;
    void this._freshToken().then(token => {
      this._fetchingToken = false;
      if (this._isDisposed || this._ws) {
        return;
      }
      if (token === null) {
        this._setStatus('disconnected');
        this._scheduleReconnect();
        return;
      }
      this._open(token);
    });
  }

  private async _freshToken(): Promise<string | null> {
    try {
      const token = await this._getToken?.();
      return token || null;
    } catch {
      return null;
    }
  }

  /** Open the socket; with a JWT, it goes in the first message (never the URL). */
  private _open(token: string | null): void {
    const Socket = this.serverSettings.WebSocket;
    const ws = new Socket(
      socketURL(this.serverSettings, this.notebookId, this._lastSeq, !token)
    );
    this._ws = ws;
    ws.onopen = () => {
      if (ws !== this._ws) {
        return;
      }
      this._attempts = 0;
      if (token) {
        ws.send(JSON.stringify({ type: 'auth', token }));
        this._token = token;
        this._scheduleRefresh();
      }
      this._setStatus('connected');
    };
    ws.onmessage = (message: MessageEvent) => {
      if (ws === this._ws) {
        this._onMessage(message.data);
      }
    };
    ws.onclose = (event: CloseEvent) => {
      if (ws === this._ws) {
        this._onClose(event.code);
      }
    };
    ws.onerror = () => {
      // A close always follows; reconnection is handled there.
    };
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._clearTimer();
    this._clearRefresh();
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      ws.close();
    }
    this._setStatus('closed');
    Signal.clearData(this);
  }

  private _onMessage(data: unknown): void {
    let event: IServerEvent;
    try {
      event = JSON.parse(String(data)) as IServerEvent;
    } catch {
      return;
    }
    if (event.type === 'batch') {
      for (const inner of event.events ?? []) {
        this._dispatch(inner);
      }
      if (typeof event.seq === 'number') {
        this._noteSeq(event.seq);
      }
      return;
    }
    this._dispatch(event);
  }

  private _dispatch(event: IServerEvent): void {
    if (typeof event.seq === 'number') {
      this._noteSeq(event.seq);
    }
    this._received.emit(event);
  }

  private _noteSeq(seq: number): void {
    // A snapshot restarts the sequence (e.g. after a server restart): take it as is.
    this._lastSeq = seq;
  }

  private _onClose(code: number): void {
    this._ws = null;
    this._clearRefresh();
    this._token = null;
    if (this._isDisposed) {
      return;
    }
    if (code === CLOSE_NOTEBOOK_DELETED) {
      this._setStatus('closed');
      return;
    }
    this._setStatus('disconnected');
    if (code === CLOSE_TOKEN_EXPIRED && this._getToken) {
      this.connect(); // at once, with a fresh token
      return;
    }
    this._scheduleReconnect();
  }

  /** Renew the JWT `refreshBefore` ms before it expires (at most half its life left). */
  private _scheduleRefresh(): void {
    this._clearRefresh();
    const expiry = this._token ? tokenExpiry(this._token) : null;
    if (expiry === null) {
      return;
    }
    const left = expiry - Date.now();
    const delay = Math.max(
      1000,
      left - Math.min(this._refreshBefore, left / 2)
    );
    this._refreshTimer = setTimeout(() => {
      this._refreshTimer = null;
      void this._refresh();
    }, delay);
  }

  private async _refresh(): Promise<void> {
    const ws = this._ws;
    const current = this._token;
    const token = await this._freshToken();
    if (ws !== this._ws || !ws || current !== this._token) {
      return; // reconnected or closed meanwhile
    }
    const fresher =
      token !== null &&
      token !== current &&
      (tokenExpiry(token) ?? 0) > (current ? (tokenExpiry(current) ?? 0) : 0);
    if (fresher) {
      ws.send(JSON.stringify({ type: 'refresh_auth', token }));
      this._token = token;
    }
    // Not fresher (the source still holds the old one): try again later; if none comes,
    // the server closes with 4401 and the socket reconnects with whatever comes next.
    this._scheduleRefresh();
  }

  private _clearRefresh(): void {
    if (this._refreshTimer !== null) {
      clearTimeout(this._refreshTimer);
      this._refreshTimer = null;
    }
  }

  private _scheduleReconnect(): void {
    const base = Math.min(
      this._maxDelay,
      this._minDelay * 2 ** Math.min(this._attempts, 30)
    );
    const delay = Math.min(
      this._maxDelay,
      base + base * this._jitter * Math.random()
    );
    this._attempts += 1;
    this._timer = setTimeout(() => {
      this._timer = null;
      this.connect();
    }, delay);
  }

  /** The delay before the next reconnection attempt would start (for display). */
  nextDelay(): number {
    return Math.min(this._maxDelay, this._minDelay * 2 ** this._attempts);
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _setStatus(status: ConnectionStatus): void {
    if (this._status !== status) {
      this._status = status;
      this._statusChanged.emit(status);
    }
  }

  private _ws: WebSocket | null = null;
  private _status: ConnectionStatus = 'disconnected';
  private _lastSeq: number | null = null;
  private _attempts = 0;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _isDisposed = false;
  private _minDelay: number;
  private _maxDelay: number;
  private _jitter: number;
  private _getToken: TokenGetter | null;
  private _refreshBefore: number;
  private _token: string | null = null;
  private _fetchingToken = false;
  private _refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private _received = new Signal<this, IServerEvent>(this);
  private _statusChanged = new Signal<this, ConnectionStatus>(this);
}
