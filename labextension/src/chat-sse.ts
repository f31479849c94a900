/**
 * An incremental parser of Server-Sent Events (the WHATWG `text/event-stream` format):
 * give it the stream in chunks as they arrive, cut anywhere, and it hands back each event
 * whole once its blank line has arrived.
 *
 * Two layers: `SSEParser.feed(text)` takes decoded text (a chunk may end in the middle of
 * a line, or between the `\r` and `\n` of a line end); `SSEByteParser.feed(bytes)` takes
 * the network's bytes, which may also end inside a multi-byte UTF-8 character, and keeps
 * the character's first bytes until the rest arrives (`TextDecoder`, `stream: true`).
 */

/** One dispatched event. */
export interface ISSEEvent {
  /** The last event id the stream set (at this event or before), '' if none. */
  id: string;
  /** The event's type (`message` when the stream names none). */
  event: string;
  /** Its data lines, joined with `\n`. */
  data: string;
}

/** Parses decoded text; feed it the stream's text in any pieces. */
export class SSEParser {
  /** `lastEventId`: resume after this id (the id the previous stream of the turn reached). */
  constructor(lastEventId = '') {
    this._lastEventId = lastEventId;
    this._idBuffer = lastEventId;
  }

  /** The id to send as `Last-Event-ID` to resume after the whole events seen so far. */
  get lastEventId(): string {
    return this._lastEventId;
  }

  /** The server's `retry:` advice in milliseconds, if it gave one. */
  get retry(): number | null {
    return this._retry;
  }

  /** Comment lines seen (keep-alives): they carry no event, only show the stream is alive. */
  get comments(): number {
    return this._comments;
  }

  /** Parse the next piece of the stream; answers the events it completed, in order. */
  feed(chunk: string): ISSEEvent[] {
    const events: ISSEEvent[] = [];
    let text = chunk;
    if (this._atStart && text.length) {
      // A byte order mark at the start of the stream is not part of the first line.
      if (text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1);
      }
      this._atStart = false;
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) {
        continue;
      }
      if (c === 0x0a && this._afterCR && i === start && !this._line) {
        // The `\n` of a `\r\n` whose `\r` ended the previous chunk (or line).
        this._afterCR = false;
        start = i + 1;
        continue;
      }
      this._line += text.slice(start, i);
      this._afterCR = c === 0x0d;
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) {
        i++;
        this._afterCR = false;
      }
      start = i + 1;
      const line = this._line;
      this._line = '';
      this._processLine(line, events);
    }
    if (start < text.length) {
      this._line += text.slice(start);
      this._afterCR = false;
    }
    return events;
  }

  private _processLine(line: string, events: ISSEEvent[]): void {
    if (line === '') {
      this._dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* : */) {
      this._comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) {
      value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this._event = value;
        break;
      case 'data':
        this._data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) {
          this._idBuffer = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) {
          this._retry = Number(value);
        }
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private _dispatch(events: ISSEEvent[]): void {
    // The id counts once its event is whole (as in a browser's EventSource).
    this._lastEventId = this._idBuffer;
    const data = this._data;
    const event = this._event;
    this._data = [];
    this._event = '';
    if (!data.length) {
      return; // an event with no data is not dispatched (its id still counts)
    }
    events.push({
      id: this._lastEventId,
      event: event || 'message',
      data: data.join('\n')
    });
  }

  private _line = '';
  private _afterCR = false;
  private _atStart = true;
  private _data: string[] = [];
  private _event = '';
  private _lastEventId: string;
  private _idBuffer: string;
  private _retry: number | null = null;
  private _comments = 0;
}

/** Parses the stream's bytes (UTF-8), cut anywhere, even inside a character. */
export class SSEByteParser {
  constructor(lastEventId = '') {
    this.text = new SSEParser(lastEventId);
  }

  /** The text layer (its `lastEventId`, `comments`, `retry`). */
  readonly text: SSEParser;

  get lastEventId(): string {
    return this.text.lastEventId;
  }

  feed(bytes: Uint8Array): ISSEEvent[] {
    return this.text.feed(this._decoder.decode(bytes, { stream: true }));
  }

  /** The stream ended: flush what the decoder holds (an unfinished event is dropped). */
  end(): ISSEEvent[] {
    return this.text.feed(this._decoder.decode());
  }

  private _decoder = new TextDecoder('utf-8');
}
