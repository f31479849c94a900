/**
 * The notebook WebSocket (docs/websocket.md) as an event stream: `?batch=1` frames
 * unpacked into single events, reconnection with exponential backoff that resumes with
 * `?since=<last seq>`. Changes and runs go over REST (`api.ts`); edits go through the
 * shared document.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { API_PATH } from './api';
import { IServerEvent } from './types';

/** The close code with which the server ends the socket of a deleted notebook. */
export const CLOSE_NOTEBOOK_DELETED = 4404;

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
}

/** The `ws` URL of a notebook's socket, with `batch=1`, the token and `since`. */
export function socketURL(
  settings: ServerConnection.ISettings,
  notebookId: string,
  since: number | null
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
  if (settings.token && settings.appendToken) {
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
    if (this._isDisposed || this._ws) {
      return;
    }
    this._clearTimer();
    this._setStatus('connecting');
    const Socket = this.serverSettings.WebSocket;
    const ws = new Socket(
      socketURL(this.serverSettings, this.notebookId, this._lastSeq)
    );
    this._ws = ws;
    ws.onopen = () => {
      if (ws !== this._ws) {
        return;
      }
      this._attempts = 0;
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
    if (this._isDisposed) {
      return;
    }
    if (code === CLOSE_NOTEBOOK_DELETED) {
      this._setStatus('closed');
      return;
    }
    this._setStatus('disconnected');
    this._scheduleReconnect();
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
  private _received = new Signal<this, IServerEvent>(this);
  private _statusChanged = new Signal<this, ConnectionStatus>(this);
}
