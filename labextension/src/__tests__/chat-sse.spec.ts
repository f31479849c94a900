/**
 * The chat's SSE parser: a turn's stream, recorded as the server frames it (docs/chat-api.md),
 * cut into network chunks anywhere (inside a line, between `\r` and `\n`, inside a
 * multi-byte UTF-8 character) parses into the same whole events as the stream read at once.
 */
import { ISSEEvent, SSEByteParser, SSEParser } from '../chat-sse';

const encoder = new TextEncoder();

function frame(id: string, event: string, data: unknown, eol = '\n'): string {
  return `id: ${id}${eol}event: ${event}${eol}data: ${JSON.stringify(data)}${eol}${eol}`;
}

/** A recorded turn: keep-alives, non-ASCII text (2, 3 and 4-byte characters), CRLF and
 * CR line ends, a multi-line data field, and an event whose data holds a colon. */
const RECORDED =
  ': keep-alive\n' +
  frame('t3:1', 'turn', { turn_id: 't3' }) +
  frame('t3:2', 'text_delta', { text: 'Café — naïve 😀 数据' }, '\r\n') +
  ':\n' +
  frame('t3:3', 'tool_call', {
    id: 'toolu_1',
    name: 'create_cell',
    input: { code: 'x = "→"\nprint(x)' }
  }) +
  ': keep-alive\r\n' +
  frame(
    't3:4',
    'tool_result',
    {
      id: 'toolu_1',
      ok: true,
      preview: '🎉 ok: done',
      cell_ids: ['c1']
    },
    '\r'
  ) +
  'id: t3:5\nevent: text_delta\ndata: {"text":\ndata:  "two lines"}\n\n' +
  frame('t3:6', 'done', {
    turn_id: 't3',
    usage: { input_tokens: 12, output_tokens: 3 },
    stop_reason: 'end_turn'
  });

const BYTES = encoder.encode(RECORDED);

function parseChunks(chunks: Uint8Array[]): {
  events: ISSEEvent[];
  parser: SSEByteParser;
} {
  const parser = new SSEByteParser();
  const events: ISSEEvent[] = [];
  for (const chunk of chunks) {
    events.push(...parser.feed(chunk));
  }
  events.push(...parser.end());
  return { events, parser };
}

/** A small seeded generator, so a failure names a reproducible split. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('SSEByteParser', () => {
  const whole = parseChunks([BYTES]);

  it('parses the recorded stream read at once into its events', () => {
    expect(whole.events.map(e => [e.id, e.event])).toEqual([
      ['t3:1', 'turn'],
      ['t3:2', 'text_delta'],
      ['t3:3', 'tool_call'],
      ['t3:4', 'tool_result'],
      ['t3:5', 'text_delta'],
      ['t3:6', 'done']
    ]);
    expect(JSON.parse(whole.events[1].data).text).toBe('Café — naïve 😀 数据');
    expect(JSON.parse(whole.events[2].data).input.code).toBe(
      'x = "→"\nprint(x)'
    );
    expect(JSON.parse(whole.events[3].data).preview).toBe('🎉 ok: done');
    // Two data lines are joined with a newline; one leading space is dropped per line.
    expect(whole.events[4].data).toBe('{"text":\n "two lines"}');
    expect(whole.parser.lastEventId).toBe('t3:6');
    expect(whole.parser.text.comments).toBe(3);
  });

  it('gives the same events for a cut at every byte boundary', () => {
    expect(BYTES.length).toBeGreaterThan(RECORDED.length); // multi-byte characters
    for (let cut = 0; cut <= BYTES.length; cut++) {
      const { events, parser } = parseChunks([
        BYTES.subarray(0, cut),
        BYTES.subarray(cut)
      ]);
      expect({ cut, events }).toEqual({ cut, events: whole.events });
      expect(parser.lastEventId).toBe('t3:6');
    }
  });

  it('gives the same events fed one byte at a time', () => {
    const chunks = Array.from(BYTES, (_, i) => BYTES.subarray(i, i + 1));
    expect(parseChunks(chunks).events).toEqual(whole.events);
  });

  it('gives the same events for random cuts into many chunks', () => {
    const next = random(16);
    for (let trial = 0; trial < 300; trial++) {
      const cuts = new Set<number>();
      const count = 1 + Math.floor(next() * 40);
      while (cuts.size < count) {
        cuts.add(1 + Math.floor(next() * (BYTES.length - 1)));
      }
      const sorted = [0, ...[...cuts].sort((a, b) => a - b), BYTES.length];
      const chunks = sorted
        .slice(1)
        .map((end, i) => BYTES.subarray(sorted[i], end));
      expect({ sorted, events: parseChunks(chunks).events }).toEqual({
        sorted,
        events: whole.events
      });
    }
  });

  it('hands each event over as soon as its blank line arrives', () => {
    const parser = new SSEByteParser();
    const end = RECORDED.indexOf('\n\n') + 2; // the end of the `turn` event
    const head = encoder.encode(RECORDED.slice(0, end - 1));
    expect(parser.feed(head)).toEqual([]);
    expect(parser.feed(encoder.encode('\n'))).toEqual([whole.events[0]]);
  });

  it('drops an event the stream cut off before its blank line', () => {
    const cut = RECORDED.indexOf('id: t3:6');
    const { events, parser } = parseChunks([
      encoder.encode(RECORDED.slice(0, cut + 30))
    ]);
    expect(events.map(e => e.id)).toEqual([
      't3:1',
      't3:2',
      't3:3',
      't3:4',
      't3:5'
    ]);
    // The resume asks for what came after the last whole event.
    expect(parser.lastEventId).toBe('t3:5');
  });
});

describe('SSEParser', () => {
  it('ignores keep-alive comments: they dispatch nothing', () => {
    const parser = new SSEParser();
    expect(parser.feed(': keep-alive\n\n: keep-alive\n\n')).toEqual([]);
    expect(parser.comments).toBe(2);
    expect(parser.lastEventId).toBe('');
  });

  it('tracks the last event id, starting from the one it resumes after', () => {
    const parser = new SSEParser('t1:4');
    expect(parser.lastEventId).toBe('t1:4');
    // An event with no id keeps the last one.
    expect(parser.feed('data: {}\n\n')).toEqual([
      { id: 't1:4', event: 'message', data: '{}' }
    ]);
    parser.feed('id: t1:5\nevent: text_delta\ndata: {}\n\n');
    expect(parser.lastEventId).toBe('t1:5');
    // An id alone (no data) moves it without dispatching anything.
    expect(parser.feed('id: t1:6\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('t1:6');
  });

  it('takes a CRLF cut between its CR and its LF as one line end', () => {
    const parser = new SSEParser();
    const events = [
      ...parser.feed('event: a\r'),
      ...parser.feed('\ndata: 1\r'),
      ...parser.feed('\n\r'),
      ...parser.feed('\n')
    ];
    expect(events).toEqual([{ id: '', event: 'a', data: '1' }]);
  });

  it('takes lone CRs as line ends', () => {
    const parser = new SSEParser();
    expect(parser.feed('event: a\rdata: x\rdata: y\r\r')).toEqual([
      { id: '', event: 'a', data: 'x\ny' }
    ]);
  });

  it('ignores a byte order mark at the start, unknown fields and a bad retry', () => {
    const parser = new SSEParser();
    expect(
      parser.feed('\ufeffevent: a\nfoo: bar\nretry: soon\ndata\n\n')
    ).toEqual([{ id: '', event: 'a', data: '' }]);
    expect(parser.retry).toBeNull();
    parser.feed('retry: 1500\n');
    expect(parser.retry).toBe(1500);
  });
});
