/**
 * The chat's shapes on the wire (docs/chat-api.md): the history's messages and the
 * events of a turn's stream.
 */

/** One tool call of an assistant message. */
export interface IChatStep {
  id: string;
  name: string;
  input: unknown;
  /** null while the call has no result yet. */
  ok: boolean | null;
  error?: string | null;
  preview?: string;
  cell_ids?: string[];
  /**
   * Where the call came in the answer: the length of the message's `text` then, in
   * UTF-16 code units (the history's code points are converted when it is read). Absent
   * in histories written before it was recorded: such steps come first.
   */
  at?: number;
}

export interface IUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface IUserMessage {
  role: 'user';
  turn_id: string;
  text: string;
  time?: string;
}

export interface IAssistantMessage {
  role: 'assistant';
  turn_id: string;
  text: string;
  steps: IChatStep[];
  usage?: IUsage | null;
  error?: string | null;
  revertible?: boolean;
  /** Cells the turn created, edited, moved, deleted or ran (from `cells_changed`). */
  cells_changed?: string[];
  /** Why the turn stopped (`done`'s `stop_reason`), when known. */
  stop_reason?: string | null;
}

export type ChatMessage = IUserMessage | IAssistantMessage;

/** `GET .../chat`. */
export interface IChatHistory {
  messages: ChatMessage[];
  /** The turn running now, if any. */
  running: string | null;
  provider?: string | null;
  model?: string | null;
}

/** `POST .../chat/revert`. */
export interface IRevertResult {
  turn_id: string;
  reverted: string[];
  skipped: { cell_id: string; reason: string }[];
  rerun: string[];
}

/** The events of a turn's stream, parsed. */
export type ChatEvent =
  | { type: 'turn'; id: string; turn_id: string }
  | { type: 'text_delta'; id: string; text: string }
  | {
      type: 'tool_call';
      id: string;
      call: { id: string; name: string; input: unknown };
    }
  | {
      type: 'tool_result';
      id: string;
      result: {
        id: string;
        name: string;
        ok: boolean;
        error: string | null;
        preview: string;
        cell_ids: string[];
      };
    }
  | { type: 'cells_changed'; id: string; cell_ids: string[] }
  | {
      type: 'done';
      id: string;
      turn_id: string;
      usage: IUsage | null;
      stop_reason: string | null;
    }
  | { type: 'error'; id: string; message: string; status: number | null };
