/**
 * One message of the chat panel's conversation, redrawn in place as its turn streams:
 * a person's text, or the assistant's answer (markdown through JupyterLab's renderer,
 * sanitized and untrusted) with its tool steps where the model made them (collapsible,
 * their cells linked to the notebook), and its footer (usage, error, the revert action).
 */
import {
  IRenderMime,
  IRenderMimeRegistry,
  MimeModel
} from '@jupyterlab/rendermime';

import { layoutAnswer, stepCellIds, summarizeInput } from './chat-model';
import { cellLabel } from './reasons';
import { ChatMessage, IAssistantMessage, IChatStep } from './chat-types';

export interface IMessageActions {
  label: (cellId: string) => string;
  reveal: (cellId: string) => void;
  revert: () => void;
}

/** One message of the conversation, redrawn in place as its turn streams. */
export class MessageView {
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
    this._footer = element('div', 'jp-ReactiveChat-footer');
    this.node.append(this._body, this._footer);
  }

  readonly node: HTMLElement;

  update(revertible: boolean, busy: boolean): void {
    const message = this.message;
    if (message.role !== 'assistant') {
      return;
    }
    this._renderAnswer(message);
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
    this._pieces.forEach(piece => piece.text.dispose());
    this._pieces = [];
    this.node.remove();
  }

  /**
   * The answer as it came: its words cut where the model called a tool, each call's step
   * drawn there. While a turn streams only the last words grow and new pieces are added;
   * a step's details keep their open state across redraws.
   */
  private _renderAnswer(message: IAssistantMessage): void {
    const layout = layoutAnswer(message.text, message.steps);
    while (this._pieces.length < layout.length) {
      const text = new MarkdownText(this._rendermime);
      const steps = element('div', 'jp-ReactiveChat-steps');
      this._body!.append(text.node, steps);
      this._pieces.push({ text, steps, key: '' });
    }
    layout.forEach((part, i) => {
      const piece = this._pieces[i];
      piece.text.render(part.text);
      const key = JSON.stringify(part.steps);
      if (key !== piece.key) {
        piece.key = key;
        this._renderSteps(piece.steps, part.steps);
      }
    });
  }

  private _renderSteps(node: HTMLElement, steps: IChatStep[]): void {
    const open = new Set(
      [...node.querySelectorAll('details')]
        .filter(details => details.open)
        .map(details => details.dataset.stepId)
    );
    node.hidden = steps.length === 0;
    node.replaceChildren(
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
      const link = element(
        'button',
        'jp-ReactiveFooter-cellLink jp-ReactiveChat-cellLink',
        label
      );
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
  private _footer: HTMLElement | null = null;
  private _pieces: { text: MarkdownText; steps: HTMLElement; key: string }[] =
    [];
  private _footerKey = '';
}

/**
 * Markdown through JupyterLab's renderer (sanitized, untrusted: the model's words are not
 * the person's), one render at a time, the latest text last; hidden while blank.
 */
class MarkdownText {
  constructor(private readonly _rendermime: IRenderMimeRegistry) {
    this.node = element('div', 'jp-ReactiveChat-text');
    this.node.hidden = true;
  }

  readonly node: HTMLElement;

  render(text: string): void {
    if (text === this._text) {
      return;
    }
    this._text = text;
    this.node.hidden = !text.trim();
    if (this._rendering || this.node.hidden) {
      return; // the render under way starts another when it ends
    }
    if (!this._renderer) {
      this._renderer = this._rendermime.createRenderer('text/markdown');
      this._renderer.addClass('jp-ReactiveChat-markdown');
      this.node.append(this._renderer.node);
    }
    const renderer = this._renderer;
    const model = new MimeModel({
      data: { 'text/markdown': text },
      trusted: false
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
          this.render(latest);
        }
      });
  }

  dispose(): void {
    this._renderer?.dispose();
    this._renderer = null;
  }

  private _renderer: IRenderMime.IRenderer | null = null;
  private _rendering: Promise<void> | null = null;
  private _text: string | null = null;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function element<K extends keyof HTMLElementTagNameMap>(
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

export function button(label: string, className: string): HTMLButtonElement {
  const node = element('button', `jp-ReactiveChat-button ${className}`, label);
  node.type = 'button';
  return node;
}
