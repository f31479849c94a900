/**
 * The chat's HTTP client for one notebook (docs/chat-api.md): a turn is a `POST .../chat`
 * answering a Server-Sent Events stream, read chunk by chunk through the SSE parser. A
 * stream that drops before the turn's last event is picked up again with
 * `GET .../chat/stream` and `Last-Event-ID` (a bounded number of times in a row); a stop is
 * `POST .../chat/cancel`, then the stream is closed. Every request goes through
 * `ServerConnection.makeRequest`, so the token, the XSRF header and a JupyterHub prefix
 * are the server settings'; the refusals (503, 429, 409, ...) become sentences for a person.
 */
import { ServerConnection } from '@jupyterlab/services';

import { apiURL, ReactiveAPIError, requestAPI } from './api';
import { isTerminal, parseChatEvent, turnOfEventId } from './chat-model';
import { SSEByteParser } from './chat-sse';
import { ChatEvent, IChatHistory, IRevertResult } from './chat-types';

/** A refusal or failure of a chat request, with the sentence to show the person. */
export class ChatError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Seconds to wait before trying again (a 429's `Retry-After`). */
    readonly retryAfter: number | null = null
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

/** Seconds from a `Retry-After` header (seconds, or an HTTP date), null if none. */
export function parseRetryAfter(
  value: string | null,
  now = Date.now()
): number | null {
  if (!value) {
    return null;
  }
  if (/^\s*\d+\s*$/.test(value)) {
    return Number(value);
  }
  const date = Date.parse(value);
  return Number.isNaN(date)
    ? null
    : Math.max(0, Math.ceil((date - now) / 1000));
}

/** What to tell the person about a refused chat request. */
export function refusalMessage(
  status: number,
  body: Record<string, unknown>,
  retryAfter: number | null = null
): string {
  const said =
    typeof body.message === 'string' && body.message.trim()
      ? body.message.trim()
      : '';
  switch (status) {
    case 0:
      return said || 'The server could not be reached.';
    case 503:
      // The server says what to set: verbatim.
      return said || 'No LLM provider is configured on the server.';
    case 429: {
      const wait =
        retryAfter === null
          ? 'Try again in a moment.'
          : `Try again in ${retryAfter} s.`;
      return `${said || 'Too many chat messages for now.'} ${wait}`;
    }
    case 409:
      return (
        said ||
        'The assistant is already answering in this notebook: wait for it, or stop it.'
      );
    case 404:
      return 'The server has no such notebook of yours.';
    case 400:
      return said || 'The message was refused.';
    default:
      return said || `The server answered ${status}.`;
  }
}

/** How a turn ended, for the caller (the events themselves went to `onEvent`). */
export interface ITurnOutcome {
  /** `done`/`error`: the turn's last event arrived; `cancelled`: stopped here before it
   * did; `lost`: the stream dropped and could not be picked up again. */
  status: 'done' | 'error' | 'cancelled' | 'lost';
  /** The turn's last event, when it arrived. */
  last: ChatEvent | null;
  /** For `lost`: why. */
  message?: string;
}

export interface ITurnHandlers {
  /** Each event of the turn, in order, once. */
  onEvent(event: ChatEvent): void;
  /** The stream dropped: attempt `n` (from 1) to pick it up again is about to start. */
  onReconnecting?(attempt: number): void;
}

export interface IChatClientOptions {
  serverSettings: ServerConnection.ISettings;
  notebookId: string;
  /** Attempts in a row, without a new event between them, to pick a dropped stream up. */
  maxResumes?: number;
  /** Waits before those attempts, in ms (the last one repeats). */
  resumeDelays?: number[];
  /** After a stop, how long the server gets to end the stream itself (ms). */
  cancelGrace?: number;
  /** A stream silent for this long (no event, no keep-alive) counts as dropped (ms). */
  idleTimeout?: number;
}

/** One notebook's chat on the server. */
export class ChatClient {
  constructor(options: IChatClientOptions) {
    this.serverSettings = options.serverSettings;
    this.notebookId = options.notebookId;
    this._maxResumes = options.maxResumes ?? 3;
    this._resumeDelays = options.resumeDelays ?? [250, 1000, 3000];
    this._cancelGrace = options.cancelGrace ?? 3000;
    this._idleTimeout = options.idleTimeout ?? 45000;
  }

  readonly serverSettings: ServerConnection.ISettings;
  readonly notebookId: string;

  /** Whether a turn's stream is being read. */
  get running(): boolean {
    return this._controller !== null;
  }

  /** The id of the last event received (what a resume sends as `Last-Event-ID`). */
  get lastEventId(): string {
    return this._lastEventId;
  }

  /**
   * Send `message` and follow the turn to its end. Rejects with a `ChatError` when the
   * server refuses it (nothing started); otherwise resolves with how the turn ended.
   */
  send(message: string, handlers: ITurnHandlers): Promise<ITurnOutcome> {
    return this._turn(
      signal =>
        this._request(
          'POST',
          ['chat'],
          {
            body: JSON.stringify({ message }),
            headers: {
              'Content-Type': 'application/json',
              Accept: 'text/event-stream'
            }
          },
          signal
        ),
      '',
      handlers
    );
  }

  /**
   * Follow a turn already running (the page was reloaded while it ran): its events after
   * `lastEventId`; `<turn_id>:0` for all of them.
   */
  follow(lastEventId: string, handlers: ITurnHandlers): Promise<ITurnOutcome> {
    return this._turn(
      signal => this._resumeRequest(lastEventId, signal),
      lastEventId,
      handlers
    );
  }

  /**
   * Stop the running turn: the server stops the model and the tool loop (with
   * `interrupt`, a run the assistant started too) and ends the stream with `done`; if it
   * has not within the grace time, the stream is closed here. Answers the server's
   * `cancelled`.
   */
  async cancel(interrupt = false): Promise<boolean> {
    const controller = this._controller;
    if (controller) {
      this._cancelling = true;
      if (this._cancelTimer === null) {
        this._cancelTimer = setTimeout(
          () => controller.abort(),
          this._cancelGrace
        );
      }
    }
    try {
      const reply = await this._json<{ cancelled: boolean }>(
        'POST',
        ['chat', 'cancel'],
        { interrupt }
      );
      return reply?.cancelled === true;
    } catch (error) {
      controller?.abort(); // the server did not hear it: at least stop reading
      throw error;
    }
  }

  history(): Promise<IChatHistory> {
    return this._json<IChatHistory>('GET', ['chat']);
  }

  /** Forget the conversation (a running turn is cancelled first, by the server). */
  async clear(): Promise<void> {
    await this._json<void>('DELETE', ['chat']);
  }

  /** Undo the assistant's last turn: its cells go back and the affected cells re-run. */
  revert(): Promise<IRevertResult> {
    return this._json<IRevertResult>('POST', ['chat', 'revert'], {});
  }

  /** Close the stream being read, if any, without telling the server (the page goes). */
  dispose(): void {
    this._controller?.abort();
  }

  private async _turn(
    start: (signal: AbortSignal) => Promise<Response>,
    lastEventId: string,
    handlers: ITurnHandlers
  ): Promise<ITurnOutcome> {
    if (this._controller) {
      throw new ChatError(refusalMessage(409, {}), 409);
    }
    const controller = new AbortController();
    this._controller = controller;
    this._cancelling = false;
    this._lastEventId = lastEventId;
    try {
      let response: Response | null = await start(controller.signal);
      if (!response.ok) {
        throw await errorOf(response);
      }
      let failures = 0;
      for (;;) {
        const read: IRead = response
          ? await this._read(response, controller, handlers)
          : { last: null, progressed: false };
        if (read.last) {
          return {
            status: read.last.type === 'done' ? 'done' : 'error',
            last: read.last
          };
        }
        if (controller.signal.aborted || this._cancelling) {
          return { status: 'cancelled', last: null };
        }
        failures = read.progressed ? 1 : failures + 1;
        if (failures > this._maxResumes) {
          return {
            status: 'lost',
            last: null,
            message:
              'The connection to the server was lost during the answer and could not be picked up again.'
          };
        }
        handlers.onReconnecting?.(failures);
        const wait =
          this._resumeDelays[
            Math.min(failures - 1, this._resumeDelays.length - 1)
          ] ?? 0;
        await abortableDelay(wait, controller.signal);
        if (controller.signal.aborted) {
          return { status: 'cancelled', last: null };
        }
        response = null;
        try {
          const next = await this._resumeRequest(
            this._lastEventId,
            controller.signal
          );
          if (next.ok) {
            response = next;
          } else if (next.status < 500 && next.status !== 429) {
            // The server no longer has the turn (or refuses it): nothing to pick up.
            const error = await errorOf(next);
            return { status: 'lost', last: null, message: error.message };
          }
        } catch {
          response = null; // unreachable now; counted as a failed attempt
        }
      }
    } catch (error) {
      if (controller.signal.aborted) {
        return { status: 'cancelled', last: null };
      }
      throw error instanceof ChatError
        ? error
        : new ChatError(refusalMessage(0, {}), 0);
    } finally {
      if (this._cancelTimer !== null) {
        clearTimeout(this._cancelTimer);
        this._cancelTimer = null;
      }
      this._controller = null;
      this._cancelling = false;
    }
  }

  /** Read one response's stream to its end (or its last event, or a drop). */
  private async _read(
    response: Response,
    controller: AbortController,
    handlers: ITurnHandlers
  ): Promise<IRead> {
    const result: IRead = { last: null, progressed: false };
    if (!response.body) {
      return result;
    }
    const reader = response.body.getReader();
    const parser = new SSEByteParser(this._lastEventId);
    let idle: ReturnType<typeof setTimeout> | null = null;
    const watch = () => {
      if (idle !== null) {
        clearTimeout(idle);
      }
      // Silent for too long (keep-alives stopped too): count it as dropped.
      idle = setTimeout(
        () => void reader.cancel().catch(() => {}),
        this._idleTimeout
      );
    };
    const onAbort = () => void reader.cancel().catch(() => {});
    controller.signal.addEventListener('abort', onAbort);
    const deliver = (events: ReturnType<SSEByteParser['feed']>): boolean => {
      for (const sse of events) {
        const event = parseChatEvent(sse);
        if (!event || !this._isNew(event.id)) {
          continue;
        }
        this._lastEventId = event.id || this._lastEventId;
        result.progressed = true;
        handlers.onEvent(event);
        if (isTerminal(event)) {
          result.last = event;
          return true;
        }
      }
      return false;
    };
    try {
      watch();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          deliver(parser.end());
          break;
        }
        watch();
        if (deliver(parser.feed(value))) {
          void reader.cancel().catch(() => {});
          break;
        }
      }
    } catch {
      // The network dropped the stream (or it was aborted): the caller decides.
    } finally {
      if (idle !== null) {
        clearTimeout(idle);
      }
      controller.signal.removeEventListener('abort', onAbort);
    }
    return result;
  }

  /** Whether an event id comes after the last one seen (a replay may repeat some). */
  private _isNew(id: string): boolean {
    if (!id || !this._lastEventId) {
      return true;
    }
    const turn = turnOfEventId(id);
    if (turn !== turnOfEventId(this._lastEventId)) {
      return true;
    }
    const n = Number(id.slice(turn.length + 1));
    const last = Number(this._lastEventId.slice(turn.length + 1));
    return Number.isNaN(n) || Number.isNaN(last) || n > last;
  }

  private _resumeRequest(
    lastEventId: string,
    signal: AbortSignal
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (lastEventId) {
      headers['Last-Event-ID'] = lastEventId;
    }
    return this._request('GET', ['chat', 'stream'], { headers }, signal);
  }

  private async _request(
    method: string,
    path: string[],
    init: RequestInit,
    signal: AbortSignal
  ): Promise<Response> {
    const url = apiURL(
      this.serverSettings,
      'notebooks',
      this.notebookId,
      ...path
    );
    return ServerConnection.makeRequest(
      url,
      { ...init, method, signal, cache: 'no-store' },
      this.serverSettings
    );
  }

  private async _json<T>(
    method: string,
    path: string[],
    body?: unknown
  ): Promise<T> {
    try {
      return await requestAPI<T>(
        this.serverSettings,
        method,
        ['notebooks', this.notebookId, ...path],
        body
      );
    } catch (error) {
      if (error instanceof ReactiveAPIError) {
        const retry =
          typeof error.body.retry_after === 'number'
            ? error.body.retry_after
            : null;
        throw new ChatError(
          error.status === 0
            ? error.message
            : refusalMessage(error.status, error.body, retry),
          error.status,
          retry
        );
      }
      throw error;
    }
  }

  private _controller: AbortController | null = null;
  private _cancelling = false;
  private _cancelTimer: ReturnType<typeof setTimeout> | null = null;
  private _lastEventId = '';
  private readonly _maxResumes: number;
  private readonly _resumeDelays: number[];
  private readonly _cancelGrace: number;
  private readonly _idleTimeout: number;
}

interface IRead {
  /** The turn's last event, if it came. */
  last: ChatEvent | null;
  /** Whether any new event came. */
  progressed: boolean;
}

/** A refused request as a `ChatError` (its JSON `message`, its `Retry-After`). */
async function errorOf(response: Response): Promise<ChatError> {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await response.text());
    if (parsed !== null && typeof parsed === 'object') {
      body = parsed as Record<string, unknown>;
    }
  } catch {
    body = {};
  }
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  return new ChatError(
    refusalMessage(response.status, body, retryAfter),
    response.status,
    retryAfter
  );
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted || ms <= 0) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
