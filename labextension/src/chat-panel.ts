/**
 * The chat panel of JupyterLab's right sidebar. It follows the active notebook: for a
 * reactive one (the ReactiveNotebooks registry knows its server id) it shows that
 * notebook's conversation and an input; for a plain notebook, or none, a sentence saying
 * the chat works on reactive notebooks. Answers are markdown drawn by JupyterLab's
 * renderer (sanitized, untrusted), redrawn at most every 100 ms while they stream; each
 * tool call is a collapsible step whose cells link to the cells in the notebook.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ICodeCellModel } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import {
  IRenderMime,
  IRenderMimeRegistry,
  MimeModel
} from '@jupyterlab/rendermime';
import { LabIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ReactiveAPI } from './api';
import { isReactive, ReactiveNotebooks } from './notebooks';
import { cellLabel } from './reasons';
import { ICapability } from './types';
import { stepCellIds, summarizeInput } from './chat-model';
import { ChatSession } from './chat-session';
import { ChatMessage, IAssistantMessage, IChatStep } from './chat-types';

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
    this._loadCapability();
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
    this._options.api
      .capabilities()
      .then(capabilities => {
        this._capability = capabilities.chat;
        this._render();
      })
      .catch(() => {
        this._capability = null; // unknown: the chat's own answers will tell
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
      noticeKind = 'error';
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
    const widgets = this._sessionPanel()?.content.widgets ?? [];
    const index = widgets.findIndex(widget => widget.model.id === cellId);
    const model = index >= 0 ? widgets[index].model : null;
    const count =
      model && model.type === 'code'
        ? (model as ICodeCellModel).executionCount
        : null;
    return cellLabel(index, count);
  }

  /** Bring the notebook to the front, select the cell and scroll to it. */
  private _reveal(cellId: string): void {
    const panel = this._sessionPanel();
    if (!panel) {
      return;
    }
    const notebook = panel.content;
    const index = notebook.widgets.findIndex(w => w.model.id === cellId);
    if (index < 0) {
      return;
    }
    this._options.activate(panel);
    notebook.deselectAll();
    notebook.activeCellIndex = index;
    void notebook.scrollToCell(notebook.widgets[index], 'center');
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
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _lastRender = 0;
}

interface IMessageActions {
  label: (cellId: string) => string;
  reveal: (cellId: string) => void;
  revert: () => void;
}

/** One message of the conversation, redrawn in place as its turn streams. */
class MessageView {
  constructor(
    readonly message: ChatMessage,
    private readonly _rendermime: IRenderMimeRegistry,
    private readonly _actions: IMessageActions
  ) {
    this.node = element('div', 'jp-ReactiveChat-message');
    this.node.dataset.role = message.role;
    if (message.role === 'user') {
      this.node.append(
        element('div', 'jp-ReactiveChat-userText', message.text)
      );
      return;
    }
    this._body = element('div', 'jp-ReactiveChat-answer');
    this._steps = element('div', 'jp-ReactiveChat-steps');
    this._footer = element('div', 'jp-ReactiveChat-footer');
    this.node.append(this._steps, this._body, this._footer);
  }

  readonly node: HTMLElement;

  update(revertible: boolean, busy: boolean): void {
    const message = this.message;
    if (message.role !== 'assistant') {
      return;
    }
    this._renderText(message.text);
    const stepsKey = JSON.stringify(message.steps);
    if (stepsKey !== this._stepsKey) {
      this._stepsKey = stepsKey;
      this._renderSteps(message.steps);
    }
    const footerKey = JSON.stringify([
      message.error,
      message.stop_reason,
      message.cells_changed,
      message.usage,
      revertible,
      busy
    ]);
    if (footerKey !== this._footerKey) {
      this._footerKey = footerKey;
      this._renderFooter(message, revertible);
    }
  }

  dispose(): void {
    this._renderer?.dispose();
    this._renderer = null;
    this.node.remove();
  }

  /** Markdown through JupyterLab's renderer, one render at a time, the latest text last. */
  private _renderText(text: string): void {
    if (text === this._text) {
      return;
    }
    this._text = text;
    if (this._rendering) {
      return; // the render under way starts another when it ends
    }
    if (!this._renderer) {
      this._renderer = this._rendermime.createRenderer('text/markdown');
      this._renderer.addClass('jp-ReactiveChat-markdown');
      this._body!.append(this._renderer.node);
    }
    const renderer = this._renderer;
    const model = new MimeModel({
      data: { 'text/markdown': text },
      trusted: false // sanitized: the model's words are not the person's
    });
    this._rendering = renderer
      .renderModel(model)
      .catch(() => {
        renderer.node.textContent = text;
      })
      .then(() => {
        this._rendering = null;
        const latest = this._text;
        if (latest !== null && latest !== text && !renderer.isDisposed) {
          this._text = text;
          this._renderText(latest);
        }
      });
  }

  private _renderSteps(steps: IChatStep[]): void {
    const open = new Set(
      [...this._steps!.querySelectorAll('details')]
        .filter(node => node.open)
        .map(node => node.dataset.stepId)
    );
    this._steps!.replaceChildren(
      ...steps.map(step => this._step(step, open.has(step.id)))
    );
  }

  private _step(step: IChatStep, open: boolean): HTMLElement {
    const details = element('details', 'jp-ReactiveChat-step');
    details.dataset.stepId = step.id;
    details.dataset.ok =
      step.ok === null ? 'running' : step.ok ? 'ok' : 'error';
    details.open = open;
    const summary = element('summary', 'jp-ReactiveChat-stepSummary');
    const mark = element(
      'span',
      'jp-ReactiveChat-stepMark',
      step.ok === null ? '…' : step.ok ? '✓' : '✗'
    );
    mark.title = step.ok === null ? 'running' : step.ok ? 'done' : 'failed';
    const inputLine = summarizeInput(step.input);
    summary.append(
      mark,
      element('code', 'jp-ReactiveChat-stepName', step.name),
      element('span', 'jp-ReactiveChat-stepInput', inputLine)
    );
    summary.title = inputLine;
    details.append(summary);
    const cells = stepCellIds(step);
    if (cells.length) {
      details.append(this._cellLinks('Cells: ', cells));
    }
    if (step.error) {
      details.append(element('div', 'jp-ReactiveChat-stepError', step.error));
    }
    if (step.preview) {
      details.append(element('pre', 'jp-ReactiveChat-preview', step.preview));
    }
    if (step.input !== undefined) {
      const input = element('pre', 'jp-ReactiveChat-stepInputFull');
      input.textContent = JSON.stringify(step.input, null, 2);
      details.append(input);
    }
    return details;
  }

  private _renderFooter(message: IAssistantMessage, revertible: boolean): void {
    const parts: HTMLElement[] = [];
    if (message.error) {
      parts.push(element('div', 'jp-ReactiveChat-error', message.error));
    } else if (message.stop_reason === 'cancelled') {
      parts.push(element('div', 'jp-ReactiveChat-meta', 'Stopped.'));
    } else if (message.stop_reason === 'max_turns') {
      parts.push(
        element(
          'div',
          'jp-ReactiveChat-meta',
          'Stopped after the most tool calls allowed for one message.'
        )
      );
    }
    if (message.cells_changed?.length) {
      parts.push(this._cellLinks('Changed: ', message.cells_changed));
    }
    const meta = element('div', 'jp-ReactiveChat-meta');
    if (message.usage) {
      meta.append(
        `${message.usage.input_tokens} tokens in · ${message.usage.output_tokens} out`
      );
    }
    if (revertible) {
      const revert = button('Revert last turn', 'jp-ReactiveChat-revert');
      revert.title =
        'Put back the cells this turn created, edited, moved or deleted, and re-run what they affect';
      revert.addEventListener('click', () => this._actions.revert());
      meta.append(revert);
    }
    if (meta.childNodes.length) {
      parts.push(meta);
    }
    this._footer!.replaceChildren(...parts);
  }

  private _cellLinks(prefix: string, cellIds: string[]): HTMLElement {
    const line = element('div', 'jp-ReactiveChat-cells', prefix);
    cellIds.forEach((id, i) => {
      const label = this._actions.label(id);
      const link = element('button', 'jp-ReactiveChat-cellLink', label);
      link.type = 'button';
      link.dataset.cellId = id;
      const gone = label === cellLabel(-1, null);
      link.disabled = gone;
      link.title = gone
        ? 'This cell is no longer in the notebook'
        : `Go to cell ${label}`;
      link.addEventListener('click', () => this._actions.reveal(id));
      line.append(...(i ? [', '] : []), link);
    });
    return line;
  }

  private _body: HTMLElement | null = null;
  private _steps: HTMLElement | null = null;
  private _footer: HTMLElement | null = null;
  private _renderer: IRenderMime.IRenderer | null = null;
  private _rendering: Promise<void> | null = null;
  private _text: string | null = null;
  private _stepsKey = '';
  private _footerKey = '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function button(label: string, className: string): HTMLButtonElement {
  const node = element('button', `jp-ReactiveChat-button ${className}`, label);
  node.type = 'button';
  return node;
}
