/**
 * One notebook's chat while JupyterLab is open: its transcript, its client, the turn that
 * runs. A session outlives the panel's attention: a turn keeps streaming into it while the
 * person looks at another notebook, and it is there, whole, when they come back.
 */
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ChatClient,
  ChatError,
  ITurnHandlers,
  ITurnOutcome
} from './chat-client';
import { ChatTranscript } from './chat-model';
import { IRevertResult } from './chat-types';

export class ChatSession {
  constructor(serverSettings: ServerConnection.ISettings, notebookId: string) {
    this.notebookId = notebookId;
    this.client = new ChatClient({ serverSettings, notebookId });
  }

  readonly notebookId: string;
  readonly client: ChatClient;
  readonly transcript = new ChatTranscript();

  /** Something to draw changed (an event, the history, a notice). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** A sentence for the person: the last thing that went wrong, or what an action did. */
  notice = '';
  /** Whether `notice` reports a failure ('error') or an outcome ('info'). */
  noticeKind: 'info' | 'error' = 'error';
  /** The last refusal's status (503: no provider; 429: rate limit). */
  noticeStatus: number | null = null;
  /** While a dropped stream is being picked up again. */
  reconnecting = false;
  /** The history has been read from the server at least once. */
  loaded = false;

  /** Whether a turn is running (here or, per the history, elsewhere). */
  get busy(): boolean {
    return this.transcript.running !== null || this.client.running;
  }

  /** Read the history (once, unless `force`); follow a turn that runs already. */
  async load(force = false): Promise<void> {
    if (this._loading && !force) {
      return this._loading;
    }
    this._loading = this._load();
    return this._loading;
  }

  /** Send the person's message; false if the server refused it (see `notice`). */
  async send(text: string): Promise<boolean> {
    this._setNotice('');
    this.transcript.addUser(text);
    this._emit();
    try {
      const outcome = await this.client.send(text, this._handlers());
      this._finish(outcome);
      return true;
    } catch (error) {
      this.transcript.abandon();
      this._setNotice(error);
      return false;
    } finally {
      this.reconnecting = false;
      this._emit();
    }
  }

  /** Stop the running turn (`interrupt`: a run it started too). */
  async stop(interrupt = false): Promise<void> {
    try {
      await this.client.cancel(interrupt);
    } catch (error) {
      this._setNotice(error);
    }
    if (!this.client.running) {
      // The turn ran elsewhere (another tab): the server ended it; read where it is.
      await this.load(true);
    }
  }

  /** Forget the conversation. */
  async clear(): Promise<void> {
    try {
      await this.client.clear();
      this.transcript.setHistory({ messages: [], running: null });
      this._setNotice('');
    } catch (error) {
      this._setNotice(error);
    }
    this._emit();
  }

  /** Undo the last turn; answers what the server did (null if it refused). */
  async revert(): Promise<IRevertResult | null> {
    try {
      const result = await this.client.revert();
      await this.load(true);
      return result;
    } catch (error) {
      this._setNotice(error);
      this._emit();
      return null;
    }
  }

  dispose(): void {
    this.client.dispose();
    Signal.clearData(this);
  }

  private async _load(): Promise<void> {
    try {
      const history = await this.client.history();
      if (this.client.running) {
        return; // a turn of ours runs: its events are newer than this history
      }
      this.transcript.setHistory(history);
      this.loaded = true;
      if (history.running) {
        // Running without us (the page was reloaded): replay it from its start.
        void this.client
          .follow(`${history.running}:0`, this._handlers())
          .then(outcome => this._finish(outcome))
          .catch(error => this._setNotice(error))
          .finally(() => {
            this.reconnecting = false;
            this._emit();
          });
      }
    } catch (error) {
      this._setNotice(error);
    } finally {
      this._emit();
    }
  }

  private _handlers(): ITurnHandlers {
    return {
      onEvent: event => {
        this.reconnecting = false;
        this.transcript.apply(event);
        this._emit();
      },
      onReconnecting: () => {
        this.reconnecting = true;
        this._emit();
      }
    };
  }

  private _finish(outcome: ITurnOutcome): void {
    if (outcome.status === 'lost') {
      this.transcript.fail(
        outcome.message ?? 'The connection to the server was lost.'
      );
    } else if (outcome.status === 'cancelled') {
      this.transcript.fail('Stopped.');
    }
    // The server's record has the last word (which turn can be reverted).
    void this.load(true);
  }

  private _setNotice(error: unknown): void {
    if (!error) {
      this.notice = '';
      this.noticeStatus = null;
      return;
    }
    this.notice =
      error instanceof Error ? error.message : String(error ?? 'Failed.');
    this.noticeKind = 'error';
    this.noticeStatus = error instanceof ChatError ? error.status : null;
  }

  private _emit(): void {
    this._changed.emit();
  }

  private _loading: Promise<void> | null = null;
  private _changed = new Signal<this, void>(this);
}
