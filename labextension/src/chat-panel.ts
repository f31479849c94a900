/**
 * The chat panel of JupyterLab's right sidebar. It follows the active notebook: for a
 * reactive one (the ReactiveNotebooks registry knows its server id) it shows that
 * notebook's conversation and an input; for a plain notebook, or none, a sentence saying
 * the chat works on reactive notebooks. Answers are markdown drawn by JupyterLab's
 * renderer (sanitized, untrusted), redrawn at most every 100 ms while they stream; each
 * tool call is a collapsible step whose cells link to the cells in the notebook.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ReactiveAPI } from './api';
import { isReactive, ReactiveNotebooks } from './notebooks';
import { labelOfCell, revealCell } from './cell-links';
import { ICapability } from './types';
import { ChatSession } from './chat-session';
import { button, element, MessageView, plural } from './chat-message-view';

const CHAT_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/>
</svg>`;

export const chatIcon = new LabIcon({
  name: 'reactive-notebook:chat',
  svgstr: CHAT_SVG
});

/** How often a streaming answer is redrawn, at most (ms). */
const RENDER_INTERVAL = 100;

export interface IChatPanelOptions {
  api: ReactiveAPI;
  tracker: INotebookTracker;
  notebooks: ReactiveNotebooks;
  rendermime: IRenderMimeRegistry;
  /** Bring a notebook panel to the front (the shell's `activateById`). */
  activate: (panel: NotebookPanel) => void;
}

export class ChatPanel extends Widget {
  constructor(private readonly _options: IChatPanelOptions) {
    super();
    this.id = 'reactive-notebook-chat';
    this.addClass('jp-ReactiveChat');
    this.node.tabIndex = -1; // focusable, so the toggle knows the panel is in use
    this.title.icon = chatIcon;
    this.title.caption = 'Reactive chat';
    this.title.label = '';

    const header = element('div', 'jp-ReactiveChat-header');
    const title = element('div', 'jp-ReactiveChat-title', 'Reactive chat');
    this._where = element('div', 'jp-ReactiveChat-where');
    this._clearButton = button('Clear conversation', 'jp-ReactiveChat-clear');
    this._clearButton.title = 'Forget this notebook’s conversation';
    this._clearButton.addEventListener('click', () => void this._clear());
    header.append(title, this._where, this._clearButton);

    this._notice = element('div', 'jp-ReactiveChat-notice');
    this._notice.setAttribute('role', 'status');
    this._messages = element('div', 'jp-ReactiveChat-messages');
    this._messages.setAttribute('aria-live', 'polite');

    const composer = element('div', 'jp-ReactiveChat-composer');
    this._input = document.createElement('textarea');
    this._input.className = 'jp-ReactiveChat-input';
    this._input.rows = 3;
    this._input.placeholder =
      'Ask about this notebook, or ask for cells (Enter sends, Shift+Enter for a new line)';
    this._input.setAttribute('aria-label', 'Message to the assistant');
    this._input.addEventListener('keydown', event => this._onKey(event));
    this._sendButton = button('Send', 'jp-ReactiveChat-send');
    this._sendButton.addEventListener('click', () => void this._send());
    this._stopButton = button('Stop', 'jp-ReactiveChat-stop');
    this._stopButton.title =
      'Stop the assistant (a cell run it started is left to finish)';
    this._stopButton.addEventListener('click', () => void this._stop());
    const buttons = element('div', 'jp-ReactiveChat-buttons');
    buttons.append(this._sendButton, this._stopButton);
    composer.append(this._input, buttons);

    this.node.append(header, this._notice, this._messages, composer);

    _options.tracker.currentChanged.connect(this._follow, this);
    _options.notebooks.connectionChanged.connect(this._follow, this);
    this._follow();
  }

  /** Put the cursor in the input (the panel itself while the input is disabled). */
  focusInput(): void {
    if (this._input.disabled) {
      this.node.focus();
    } else {
      this._input.focus();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.tracker.currentChanged.disconnect(this._follow, this);
    this._options.notebooks.connectionChanged.disconnect(this._follow, this);
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    for (const session of this._sessions.values()) {
      session.dispose();
    }
    this._views.forEach(view => view.dispose());
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._render();
  }

  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this.focusInput();
  }

  /** The notebook in front changed, or a notebook's connection did: show its chat. */
  private _follow(): void {
    const panel = this._options.tracker.currentWidget;
    this._panel = panel && !panel.isDisposed ? panel : null;
    const connection = this._panel
      ? this._options.notebooks.connection(this._panel)
      : null;
    let session: ChatSession | null = null;
    if (connection) {
      session = this._sessions.get(connection.notebookId) ?? null;
      if (!session) {
        session = new ChatSession(
          this._options.api.serverSettings,
          connection.notebookId
        );
        session.changed.connect(this._onSessionChanged, this);
        this._sessions.set(connection.notebookId, session);
      }
      void session.load();
      // Asked once a reactive notebook is in front: a plain notebook never calls our API.
      this._loadCapability();
    }
    if (session !== this._session) {
      this._session = session;
      this._views.forEach(view => view.dispose());
      this._views = [];
      this._messages.replaceChildren();
    }
    this._render();
  }

  private _onSessionChanged(session: ChatSession): void {
    if (session === this._session) {
      this._schedule();
    }
  }

  /** Redraw soon: at most once per RENDER_INTERVAL while an answer streams. */
  private _schedule(): void {
    if (this._timer !== null) {
      return;
    }
    const wait = Math.max(0, this._lastRender + RENDER_INTERVAL - Date.now());
    this._timer = setTimeout(() => {
      this._timer = null;
      this._render();
    }, wait);
  }

  private _loadCapability(): void {
    if (this._capabilityAsked) {
      return;
    }
    this._capabilityAsked = true;
    this._options.api
      .capabilities()
      .then(capabilities => {
        this._capability = capabilities.chat;
        this._render();
      })
      .catch(() => {
        this._capability = null; // unknown: the chat's own answers will tell
        this._capabilityAsked = false; // ask again with the next notebook
      });
  }

  private _render(): void {
    this._lastRender = Date.now();
    if (this.isDisposed) {
      return;
    }
    const session = this._session;
    const panel = this._panel;
    const unavailable =
      this._capability && !this._capability.available
        ? this._capability.message ||
          'The chat has no LLM provider configured on the server.'
        : '';
    let notice = '';
    let noticeKind = 'info';
    if (!panel) {
      notice = 'Open a reactive notebook to chat with the assistant about it.';
    } else if (!session) {
      notice = isReactive(panel.model)
        ? 'Connecting to this notebook on the server…'
        : 'The chat works on reactive notebooks: this one is a plain notebook (turn it reactive with the Reactive toggle of its toolbar).';
    } else if (unavailable) {
      notice = unavailable;
      noticeKind = 'warning';
    } else if (session.notice) {
      notice = session.notice;
      noticeKind = session.noticeKind;
    } else if (session.reconnecting) {
      notice = 'The connection dropped: picking the answer up again…';
    }
    this._notice.textContent = notice;
    this._notice.hidden = !notice;
    this._notice.dataset.kind = noticeKind;
    this.node.dataset.state = !session
      ? 'none'
      : session.busy
        ? 'busy'
        : 'idle';

    this._where.textContent = panel ? panel.title.label : '';
    const transcript = session?.transcript;
    this._where.title =
      transcript?.provider && transcript.model
        ? `${transcript.provider} · ${transcript.model}`
        : '';
    const busy = session?.busy ?? false;
    this._input.disabled = !session || !!unavailable;
    this._sendButton.disabled = !session || !!unavailable || busy;
    this._stopButton.hidden = !busy;
    this._sendButton.hidden = busy;
    this._clearButton.disabled =
      !session || !transcript || transcript.messages.length === 0;

    if (!session || !transcript) {
      return;
    }
    this._renderMessages(session);
  }

  private _renderMessages(session: ChatSession): void {
    const messages = session.transcript.messages;
    const atBottom =
      this._messages.scrollHeight -
        this._messages.scrollTop -
        this._messages.clientHeight <
      40;
    // A new history (loaded, cleared, reverted) replaces the messages: start over.
    if (
      this._views.length > messages.length ||
      this._views.some((view, i) => view.message !== messages[i])
    ) {
      this._views.forEach(view => view.dispose());
      this._views = [];
      this._messages.replaceChildren();
    }
    for (let i = this._views.length; i < messages.length; i++) {
      const view = new MessageView(messages[i], this._options.rendermime, {
        label: id => this._cellLabel(id),
        reveal: id => this._reveal(id),
        revert: () => void this._revert()
      });
      this._views.push(view);
      this._messages.append(view.node);
    }
    const revertible = session.transcript.revertible();
    this._views.forEach(view =>
      view.update(view.message === revertible, session.busy)
    );
    if (atBottom) {
      this._messages.scrollTop = this._messages.scrollHeight;
    }
  }

  private _onKey(event: KeyboardEvent): void {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void this._send();
    }
  }

  private async _send(): Promise<void> {
    const session = this._session;
    const text = this._input.value.trim();
    if (!session || !text || session.busy) {
      return;
    }
    this._input.value = '';
    const sent = await session.send(text);
    if (!sent && !this._input.value) {
      this._input.value = text; // refused: give the words back
    }
    if (!sent && session.noticeStatus === 503) {
      this._loadCapability();
    }
  }

  private async _stop(): Promise<void> {
    await this._session?.stop(false);
  }

  private async _clear(): Promise<void> {
    const session = this._session;
    if (!session) {
      return;
    }
    const answer = await showDialog({
      title: 'Clear the conversation?',
      body: 'The assistant forgets this notebook’s conversation. The cells stay as they are.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Clear' })]
    });
    if (answer.button.accept) {
      await session.clear();
    }
  }

  private async _revert(): Promise<void> {
    const session = this._session;
    if (!session) {
      return;
    }
    const answer = await showDialog({
      title: 'Revert the assistant’s last turn?',
      body: 'The cells it created, edited, moved or deleted go back to how they were before it, and the affected cells run again.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Revert' })]
    });
    if (!answer.button.accept) {
      return;
    }
    const result = await session.revert();
    if (result) {
      const parts = [
        `Reverted ${plural(result.reverted.length, 'cell')}`,
        result.rerun.length
          ? `${plural(result.rerun.length, 'cell')} ran again`
          : ''
      ].filter(Boolean);
      const skipped = result.skipped.map(
        s => `${this._cellLabel(s.cell_id)}: ${s.reason}`
      );
      session.notice =
        parts.join('; ') +
        '.' +
        (skipped.length ? ` Not reverted: ${skipped.join('; ')}.` : '');
      session.noticeKind = 'info';
      session.noticeStatus = null;
      this._render();
    }
  }

  /** The notebook panel showing the session's notebook (the one in front, normally). */
  private _sessionPanel(): NotebookPanel | null {
    const id = this._session?.notebookId;
    if (!id) {
      return null;
    }
    const { notebooks, tracker } = this._options;
    if (this._panel && notebooks.connection(this._panel)?.notebookId === id) {
      return this._panel;
    }
    return (
      tracker.find(panel => notebooks.connection(panel)?.notebookId === id) ??
      null
    );
  }

  /** A cell as the person sees it: its prompt number, else its position. */
  private _cellLabel(cellId: string): string {
    return labelOfCell(this._sessionPanel()?.content ?? null, cellId);
  }

  /** Bring the notebook to the front, select the cell and scroll to it. */
  private _reveal(cellId: string): void {
    const panel = this._sessionPanel();
    if (panel && panel.content.widgets.some(w => w.model.id === cellId)) {
      this._options.activate(panel);
      revealCell(panel.content, cellId);
    }
  }

  private readonly _where: HTMLElement;
  private readonly _notice: HTMLElement;
  private readonly _messages: HTMLElement;
  private readonly _input: HTMLTextAreaElement;
  private readonly _sendButton: HTMLButtonElement;
  private readonly _stopButton: HTMLButtonElement;
  private readonly _clearButton: HTMLButtonElement;
  private _sessions = new Map<string, ChatSession>();
  private _session: ChatSession | null = null;
  private _panel: NotebookPanel | null = null;
  private _views: MessageView[] = [];
  private _capability: ICapability | null = null;
  private _capabilityAsked = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _lastRender = 0;
}
