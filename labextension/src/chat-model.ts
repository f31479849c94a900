/**
 * A notebook's conversation as the panel shows it: the history from the server, with the
 * running turn's events folded into its last assistant message as they arrive. Pure: no
 * DOM, no network (the client feeds it, the panel draws it).
 */
import { ISSEEvent } from './chat-sse';
import {
  ChatEvent,
  ChatMessage,
  IAssistantMessage,
  IChatHistory,
  IChatStep,
  IUsage
} from './chat-types';

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string')
    : [];
}

function usageOf(value: unknown): IUsage | null {
  const u = record(value);
  return typeof u.input_tokens === 'number' &&
    typeof u.output_tokens === 'number'
    ? { input_tokens: u.input_tokens, output_tokens: u.output_tokens }
    : null;
}

/** The turn an event id (`<turn_id>:<n>`) belongs to. */
export function turnOfEventId(id: string): string {
  const colon = id.lastIndexOf(':');
  return colon < 0 ? '' : id.slice(0, colon);
}

/** A stream event as a chat event; null for one the contract does not know (ignored). */
export function parseChatEvent(event: ISSEEvent): ChatEvent | null {
  let data: Record<string, unknown>;
  try {
    data = record(JSON.parse(event.data));
  } catch {
    return null;
  }
  const id = event.id;
  switch (event.event) {
    case 'turn':
      return {
        type: 'turn',
        id,
        turn_id: str(data.turn_id, turnOfEventId(id))
      };
    case 'text_delta':
      return { type: 'text_delta', id, text: str(data.text) };
    case 'tool_call':
      return {
        type: 'tool_call',
        id,
        call: { id: str(data.id), name: str(data.name), input: data.input }
      };
    case 'tool_result':
      return {
        type: 'tool_result',
        id,
        result: {
          id: str(data.id),
          name: str(data.name),
          ok: data.ok === true,
          error: typeof data.error === 'string' ? data.error : null,
          preview: str(data.preview),
          cell_ids: strings(data.cell_ids)
        }
      };
    case 'cells_changed':
      return { type: 'cells_changed', id, cell_ids: strings(data.cell_ids) };
    case 'done':
      return {
        type: 'done',
        id,
        turn_id: str(data.turn_id, turnOfEventId(id)),
        usage: usageOf(data.usage),
        stop_reason:
          typeof data.stop_reason === 'string' ? data.stop_reason : null
      };
    case 'error':
      return {
        type: 'error',
        id,
        message: str(data.message, 'The assistant failed.'),
        status: typeof data.status === 'number' ? data.status : null
      };
    default:
      return null;
  }
}

/** Whether `event` ends its turn. */
export function isTerminal(event: ChatEvent): boolean {
  return event.type === 'done' || event.type === 'error';
}

/** A tool call's input on one line: `cell_id=c1, code=df = load()…`. */
export function summarizeInput(input: unknown, max = 120): string {
  const one = (value: unknown): string => {
    const text =
      typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
    const firstLine = text.split(/\r\n|\r|\n/, 1)[0];
    return firstLine.length < text.length ? `${firstLine}…` : firstLine;
  };
  // The notebook is the panel's own: its id says nothing to the person.
  const entries =
    input !== null && typeof input === 'object' && !Array.isArray(input)
      ? Object.entries(input as Record<string, unknown>).filter(
          ([key]) => key !== 'notebook_id'
        )
      : [];
  const text = entries.length
    ? entries.map(([key, value]) => `${key}=${one(value)}`).join(', ')
    : input === undefined
      ? ''
      : one(input);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The cells a step names: those its result lists, then those its input names. */
export function stepCellIds(step: IChatStep): string[] {
  const ids = new Set(step.cell_ids ?? []);
  const input = record(step.input);
  for (const key of ['cell_id', 'after_cell_id']) {
    const value = input[key];
    if (typeof value === 'string' && value) {
      ids.add(value);
    }
  }
  for (const value of strings(input.cell_ids)) {
    ids.add(value);
  }
  return [...ids];
}

/**
 * A history step's `at` (code points, as the server counts) as an offset in `text`'s
 * UTF-16 code units (as JavaScript strings count); undefined stays undefined.
 */
export function utf16Offset(
  text: string,
  codePoints: number | undefined
): number | undefined {
  if (typeof codePoints !== 'number' || !(codePoints > 0)) {
    return typeof codePoints === 'number' ? 0 : undefined;
  }
  let units = 0;
  let seen = 0;
  for (const char of text) {
    if (seen === codePoints) {
      break;
    }
    units += char.length;
    seen++;
  }
  return units;
}

/**
 * An assistant message as the panel lays it out: its text cut where its steps came,
 * each piece followed by the steps made there. The last piece has no steps (the words
 * after the last call); steps without a place (old histories) come first.
 */
export function layoutAnswer(
  text: string,
  steps: IChatStep[]
): { text: string; steps: IChatStep[] }[] {
  const pieces: { text: string; steps: IChatStep[] }[] = [];
  let from = 0;
  for (const step of steps) {
    const at = Math.min(Math.max(step.at ?? 0, from), text.length);
    const last = pieces[pieces.length - 1];
    if (last && at === from) {
      last.steps.push(step);
      continue;
    }
    pieces.push({ text: text.slice(from, at), steps: [step] });
    from = at;
  }
  pieces.push({ text: text.slice(from), steps: [] });
  return pieces;
}

/** The conversation with one notebook. */
export class ChatTranscript {
  messages: ChatMessage[] = [];
  /** The turn running now (its id once the server named it; '' before). */
  running: string | null = null;
  provider: string | null = null;
  model: string | null = null;

  /** Replace everything with the server's history. A running turn's assistant message
   * is dropped: the replay of its events (from its start) rebuilds it. */
  setHistory(history: IChatHistory): void {
    this.running = history.running ?? null;
    this.provider = history.provider ?? null;
    this.model = history.model ?? null;
    this.messages = (history.messages ?? [])
      .filter(m => !(m.role === 'assistant' && m.turn_id === this.running))
      .map(m =>
        m.role === 'assistant'
          ? {
              ...m,
              text: m.text ?? '',
              steps: (m.steps ?? []).map(step => ({
                ...step,
                at: utf16Offset(m.text ?? '', step.at)
              }))
            }
          : { ...m }
      );
  }

  /** The person sent `text`: their message shows at once, the turn id comes later. */
  addUser(text: string): void {
    this.messages.push({
      role: 'user',
      turn_id: '',
      text,
      time: new Date().toISOString()
    });
    this.running = '';
  }

  /** The running turn ended before it began (the server refused it): forget it. */
  abandon(): void {
    const last = this.messages[this.messages.length - 1];
    if (last && last.role === 'user' && last.turn_id === '') {
      this.messages.pop();
    }
    this.running = null;
  }

  /** The assistant message of the running (or last) turn. */
  current(): IAssistantMessage | null {
    const last = this.messages[this.messages.length - 1];
    return last && last.role === 'assistant' ? last : null;
  }

  /**
   * The assistant message whose turn a revert would undo, when no turn runs: the last
   * one the server marks revertible (the last turn that changed cells: a later turn
   * that only read or ran them leaves it revertible).
   */
  revertible(): IAssistantMessage | null {
    if (this.running !== null) {
      return null;
    }
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i];
      if (message.role === 'assistant' && message.revertible) {
        return message;
      }
    }
    return null;
  }

  /** Fold one event of the running turn in. */
  apply(event: ChatEvent): void {
    const turnId =
      event.type === 'turn' || event.type === 'done'
        ? event.turn_id
        : turnOfEventId(event.id);
    const message = this._assistant(turnId);
    switch (event.type) {
      case 'turn':
        break;
      case 'text_delta':
        message.text += event.text;
        break;
      case 'tool_call': {
        const step = message.steps.find(s => s.id === event.call.id);
        if (step) {
          step.name = event.call.name;
          step.input = event.call.input;
        } else {
          message.steps.push({
            ...event.call,
            ok: null,
            at: message.text.length
          });
        }
        break;
      }
      case 'tool_result': {
        const { result } = event;
        let step = message.steps.find(s => s.id === result.id);
        if (!step) {
          step = {
            id: result.id,
            name: result.name,
            input: undefined,
            ok: null,
            at: message.text.length
          };
          message.steps.push(step);
        }
        step.ok = result.ok;
        step.error = result.error;
        step.preview = result.preview;
        step.cell_ids = result.cell_ids;
        break;
      }
      case 'cells_changed': {
        const changed = new Set(message.cells_changed ?? []);
        event.cell_ids.forEach(id => changed.add(id));
        message.cells_changed = [...changed];
        break;
      }
      case 'done':
        message.usage = event.usage;
        message.stop_reason = event.stop_reason;
        // The server's history says for sure; until it is read again, a turn that
        // changed cells is the one to revert.
        message.revertible = (message.cells_changed ?? []).length > 0;
        this.running = null;
        break;
      case 'error':
        message.error = event.message;
        message.revertible = (message.cells_changed ?? []).length > 0;
        this.running = null;
        break;
    }
  }

  /** The turn ended without a last event (the stream was lost for good). */
  fail(message: string): void {
    if (this.running === null) {
      return;
    }
    const assistant = this._assistant(this.running);
    assistant.error = message;
    this.running = null;
  }

  /** The running turn's assistant message, made when its first event arrives. */
  private _assistant(turnId: string): IAssistantMessage {
    if (turnId && this.running === '') {
      this.running = turnId;
    }
    const last = this.messages[this.messages.length - 1];
    if (
      last &&
      last.role === 'assistant' &&
      (!turnId || last.turn_id === turnId)
    ) {
      return last;
    }
    if (last && last.role === 'user' && last.turn_id === '' && turnId) {
      last.turn_id = turnId;
    }
    const message: IAssistantMessage = {
      role: 'assistant',
      turn_id: turnId,
      text: '',
      steps: []
    };
    this.messages.push(message);
    return message;
  }
}
