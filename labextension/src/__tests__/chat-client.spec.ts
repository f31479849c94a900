/**
 * The chat client against a fake server at the `fetch` level (`ServerConnection.makeRequest`
 * answers real `Response`s whose bodies are streams the test writes, cuts and drops): a
 * turn's events arrive once each and in order through drops and resumes, resumes are
 * bounded, a stop cancels on the server, refusals become sentences for a person.
 */
import { ServerConnection } from '@jupyterlab/services';

import { ChatClient, ChatError, parseRetryAfter } from '../chat-client';
import { ChatEvent } from '../chat-types';

jest.mock('@jupyterlab/services', () => ({
  ServerConnection: { makeRequest: jest.fn(), makeSettings: jest.fn() }
}));

const makeRequest = ServerConnection.makeRequest as jest.Mock;
const settings = {
  baseUrl: 'http://localhost:8888/user/ada/'
} as ServerConnection.ISettings;
const BASE =
  'http://localhost:8888/user/ada/reactive/api/v1/notebooks/nb%201/chat';
const encoder = new TextEncoder();

interface IRecorded {
  method: string;
  url: string;
  headers: Headers;
  body: unknown;
}

type Handler = (request: IRecorded, signal?: AbortSignal) => Response;

/** A server scripted per request: each route answers with its next handler. */
class FakeServer {
  requests: IRecorded[] = [];

  on(method: string, suffix: string, ...handlers: Handler[]): this {
    const key = `${method} ${suffix}`;
    this._routes.set(key, [...(this._routes.get(key) ?? []), ...handlers]);
    return this;
  }

  handle = async (url: string, init: RequestInit): Promise<Response> => {
    const method = init.method ?? 'GET';
    const body =
      typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    const recorded = {
      method,
      url,
      headers: new Headers(init.headers),
      body
    };
    this.requests.push(recorded);
    const suffix = url.startsWith(BASE) ? url.slice(BASE.length) : url;
    const queue = this._routes.get(`${method} ${suffix}`) ?? [];
    const handler = queue.length > 1 ? queue.shift()! : queue[0];
    if (!handler) {
      return json(404, { message: `no route ${method} ${suffix}` });
    }
    return handler(recorded, init.signal ?? undefined);
  };

  private _routes = new Map<string, Handler[]>();
}

function json(
  status: number,
  body?: unknown,
  headers: Record<string, string> = {}
): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers }
  });
}

function frame(id: string, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A whole turn as the server frames it. */
const TURN = [
  frame('t1:1', 'turn', { turn_id: 't1' }),
  ': keep-alive\n',
  frame('t1:2', 'text_delta', { text: 'Créons ' }),
  frame('t1:3', 'tool_call', {
    id: 'toolu_1',
    name: 'create_cell',
    input: { code: 'x = 1' }
  }),
  frame('t1:4', 'tool_result', {
    id: 'toolu_1',
    name: 'create_cell',
    ok: true,
    error: null,
    preview: 'created c1',
    cell_ids: ['c1']
  }),
  frame('t1:5', 'cells_changed', { cell_ids: ['c1'] }),
  frame('t1:6', 'text_delta', { text: 'la cellule 😀.' }),
  frame('t1:7', 'done', {
    turn_id: 't1',
    usage: { input_tokens: 10, output_tokens: 4 },
    stop_reason: 'end_turn'
  })
];

/** The stream's bytes cut into `pieces` chunks at fixed odd places (inside characters). */
function cut(text: string, pieces = 9): Uint8Array[] {
  const bytes = encoder.encode(text);
  const chunks: Uint8Array[] = [];
  const size = Math.max(1, Math.floor(bytes.length / pieces) | 1);
  for (let i = 0; i < bytes.length; i += size) {
    chunks.push(bytes.subarray(i, i + size));
  }
  return chunks;
}

/**
 * An event stream writing `chunks`, then ending as `end` says: `close` (the server ended
 * it), `drop` (the network failed) or `hang` (open until the client aborts, or `release`).
 */
function stream(
  chunks: Uint8Array[],
  end: 'close' | 'drop' | 'hang' = 'close',
  hooks: { release?: (write: (text: string) => void) => void } = {}
): Handler {
  return (_request, signal) => {
    // Chunks go out one per read, so the client has read them all when the end comes
    // (an errored stream drops what it still holds, as a cut connection does).
    let next = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller): Promise<void> | void {
        if (next < chunks.length) {
          controller.enqueue(chunks[next++]);
          return;
        }
        if (end === 'close') {
          controller.close();
          return;
        }
        if (end === 'drop') {
          controller.error(new TypeError('network error'));
          return;
        }
        return new Promise<void>(resolve => {
          signal?.addEventListener('abort', () => {
            controller.error(new DOMException('aborted', 'AbortError'));
            resolve();
          });
          hooks.release?.(text => {
            controller.enqueue(encoder.encode(text));
            controller.close();
            resolve();
          });
        });
      }
    });
    return new Response(body, {
      status: 200,
      headers: { 'Content-Type': 'text/event-stream' }
    });
  };
}

function collect(): { events: ChatEvent[]; onEvent: (e: ChatEvent) => void } {
  const events: ChatEvent[] = [];
  return { events, onEvent: e => events.push(e) };
}

const client = (
  options: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}
) =>
  new ChatClient({
    serverSettings: settings,
    notebookId: 'nb 1',
    resumeDelays: [0],
    ...options
  });

let server: FakeServer;
beforeEach(() => {
  server = new FakeServer();
  makeRequest.mockReset();
  makeRequest.mockImplementation((url: string, init: RequestInit) =>
    server.handle(url, init)
  );
});

const ids = (events: ChatEvent[]) => events.map(e => e.id);
const ALL_IDS = ['t1:1', 't1:2', 't1:3', 't1:4', 't1:5', 't1:6', 't1:7'];

describe('ChatClient.send', () => {
  it('posts the message and hands over each event of the stream, cut anywhere', async () => {
    server.on('POST', '', stream(cut(TURN.join(''), 23)));
    const { events, onEvent } = collect();
    const outcome = await client().send('plot sales', { onEvent });
    expect(outcome.status).toBe('done');
    expect(ids(events)).toEqual(ALL_IDS);
    const texts = events.flatMap(e =>
      e.type === 'text_delta' ? [e.text] : []
    );
    expect(texts.join('')).toBe('Créons la cellule 😀.');
    expect(outcome.last).toMatchObject({
      type: 'done',
      usage: { input_tokens: 10, output_tokens: 4 },
      stop_reason: 'end_turn'
    });
    const [post] = server.requests;
    expect(post.method).toBe('POST');
    expect(post.url).toBe(BASE);
    expect(post.body).toEqual({ message: 'plot sales' });
    expect(post.headers.get('Accept')).toBe('text/event-stream');
    expect(server.requests).toHaveLength(1);
  });

  it('picks a dropped stream up after the last whole event, each event once', async () => {
    const before = TURN.slice(0, 4).join('');
    const half = TURN[4].slice(0, 25); // t1:4 is cut off mid-event by the drop
    server.on('POST', '', stream(cut(before + half), 'drop'));
    // The replay repeats t1:3, which the client has already seen.
    server.on('GET', '/stream', stream(cut(TURN.slice(3).join(''), 5)));
    const { events, onEvent } = collect();
    const attempts: number[] = [];
    const outcome = await client().send('go', {
      onEvent,
      onReconnecting: n => attempts.push(n)
    });
    expect(outcome.status).toBe('done');
    expect(ids(events)).toEqual(ALL_IDS);
    expect(attempts).toEqual([1]);
    const resume = server.requests[1];
    expect(resume.method).toBe('GET');
    expect(resume.url).toBe(`${BASE}/stream`);
    expect(resume.headers.get('Last-Event-ID')).toBe('t1:3');
  });

  it('resumes again after each drop that brought new events', async () => {
    server.on('POST', '', stream(cut(TURN.slice(0, 2).join('')), 'drop'));
    server.on(
      'GET',
      '/stream',
      stream(cut(TURN.slice(2, 4).join('')), 'close'), // ends without done: a drop too
      stream(cut(TURN.slice(4, 6).join('')), 'drop'),
      stream(cut(TURN.slice(6).join('')))
    );
    const { events, onEvent } = collect();
    const outcome = await client({ maxResumes: 1 }).send('go', { onEvent });
    expect(outcome.status).toBe('done');
    expect(ids(events)).toEqual(ALL_IDS);
    expect(
      server.requests.slice(1).map(r => r.headers.get('Last-Event-ID'))
    ).toEqual(['t1:1', 't1:3', 't1:5']);
  });

  it('gives up after a bounded number of resumes that bring nothing', async () => {
    server.on('POST', '', stream(cut(TURN.slice(0, 3).join('')), 'drop'));
    server.on(
      'GET',
      '/stream',
      () => json(502, { message: 'bad gateway' }),
      stream([], 'drop'),
      stream(cut(': keep-alive\n'), 'close')
    );
    const { events, onEvent } = collect();
    const outcome = await client({ maxResumes: 3 }).send('go', { onEvent });
    expect(outcome.status).toBe('lost');
    expect(outcome.message).toMatch(/connection .* lost/);
    expect(ids(events)).toEqual(['t1:1', 't1:2']);
    expect(server.requests.filter(r => r.method === 'GET')).toHaveLength(3);
  });

  it('stops resuming when the server no longer has the turn', async () => {
    server.on('POST', '', stream(cut(TURN.slice(0, 2).join('')), 'drop'));
    server.on('GET', '/stream', () =>
      json(404, { message: 'No chat turn is running.' })
    );
    const outcome = await client().send('go', collect());
    expect(outcome).toMatchObject({ status: 'lost' });
    expect(server.requests).toHaveLength(2);
  });

  it('ends with the error event of a failed turn', async () => {
    server.on(
      'POST',
      '',
      stream(
        cut(
          TURN[0] +
            frame('t1:2', 'error', {
              message: 'The model is overloaded.',
              status: 529
            })
        )
      )
    );
    const outcome = await client().send('go', collect());
    expect(outcome.status).toBe('error');
    expect(outcome.last).toMatchObject({
      type: 'error',
      message: 'The model is overloaded.',
      status: 529
    });
  });

  it('counts a stream gone silent (no keep-alive either) as dropped', async () => {
    server.on('POST', '', stream(cut(TURN.slice(0, 2).join('')), 'hang'));
    server.on('GET', '/stream', stream(cut(TURN.slice(2).join(''))));
    const { events, onEvent } = collect();
    const outcome = await client({ idleTimeout: 30 }).send('go', { onEvent });
    expect(outcome.status).toBe('done');
    expect(ids(events)).toEqual(ALL_IDS);
  });
});

describe('ChatClient refusals', () => {
  it('shows the not-configured message verbatim (503)', async () => {
    const message =
      'No LLM provider is configured: set ReactiveNotebook.llm_provider.';
    server.on('POST', '', () => json(503, { message }));
    await expect(client().send('hi', collect())).rejects.toMatchObject({
      name: 'ChatError',
      status: 503,
      message
    });
  });

  it('tells how long to wait on the rate limit (429, Retry-After)', async () => {
    server.on('POST', '', () =>
      json(
        429,
        { message: 'At most 20 messages a minute.' },
        { 'Retry-After': '17' }
      )
    );
    const error: ChatError = await client()
      .send('hi', collect())
      .catch(e => e);
    expect(error).toBeInstanceOf(ChatError);
    expect(error.retryAfter).toBe(17);
    expect(error.message).toBe(
      'At most 20 messages a minute. Try again in 17 s.'
    );
  });

  it('says a turn is already running (409)', async () => {
    server.on('POST', '', () => json(409, {}));
    await expect(client().send('hi', collect())).rejects.toThrow(
      /already answering/
    );
  });

  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.parse('2026-12-06T13:40:00Z');
    expect(parseRetryAfter('5', now)).toBe(5);
    expect(parseRetryAfter('Sun, 06 Dec 2026 13:40:30 GMT', now)).toBe(30);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });
});

describe('ChatClient.cancel', () => {
  it('asks the server to stop, and reads the stream to its cancelled end', async () => {
    let finish: ((text: string) => void) | null = null;
    server.on(
      'POST',
      '',
      stream(cut(TURN.slice(0, 3).join('')), 'hang', {
        release: write => (finish = write)
      })
    );
    server.on('POST', '/cancel', () => {
      finish!(
        frame('t1:4', 'done', {
          turn_id: 't1',
          usage: { input_tokens: 3, output_tokens: 1 },
          stop_reason: 'cancelled'
        })
      );
      return json(200, { cancelled: true });
    });
    const chat = client();
    const { events, onEvent } = collect();
    const turn = chat.send('go', { onEvent });
    await until(() => events.length === 2);
    expect(chat.running).toBe(true);
    await expect(chat.cancel(true)).resolves.toBe(true);
    const outcome = await turn;
    expect(outcome.status).toBe('done');
    expect(outcome.last).toMatchObject({ stop_reason: 'cancelled' });
    expect(server.requests[1].body).toEqual({ interrupt: true });
    expect(chat.running).toBe(false);
  });

  it('closes the stream itself when the server does not end it in time', async () => {
    server.on('POST', '', stream(cut(TURN.slice(0, 3).join('')), 'hang'));
    server.on('POST', '/cancel', () => json(200, { cancelled: true }));
    const chat = client({ cancelGrace: 20 });
    const { events, onEvent } = collect();
    const turn = chat.send('go', { onEvent });
    await until(() => events.length === 2);
    await chat.cancel();
    await expect(turn).resolves.toMatchObject({ status: 'cancelled' });
    // A stop is not a drop: nothing is resumed.
    expect(
      server.requests.map(r => `${r.method} ${r.url.slice(BASE.length)}`)
    ).toEqual(['POST ', 'POST /cancel']);
  });
});

describe('ChatClient JSON calls', () => {
  it('reads, clears and reverts the conversation', async () => {
    const history = {
      messages: [],
      running: null,
      provider: 'anthropic',
      model: 'm'
    };
    const reverted = {
      turn_id: 't1',
      reverted: ['c1'],
      skipped: [],
      rerun: ['c2']
    };
    server
      .on('GET', '', () => json(200, history))
      .on('DELETE', '', () => new Response(null, { status: 204 }))
      .on('POST', '/revert', () => json(200, reverted));
    const chat = client();
    await expect(chat.history()).resolves.toEqual(history);
    await expect(chat.clear()).resolves.toBeUndefined();
    await expect(chat.revert()).resolves.toEqual(reverted);
    expect(server.requests.map(r => [r.method, r.url, r.body])).toEqual([
      ['GET', BASE, undefined],
      ['DELETE', BASE, undefined],
      ['POST', `${BASE}/revert`, {}]
    ]);
  });

  it('turns a refused revert into a sentence (409)', async () => {
    server.on('POST', '/revert', () =>
      json(409, { message: 'Nothing to revert.' })
    );
    await expect(client().revert()).rejects.toMatchObject({
      status: 409,
      message: 'Nothing to revert.'
    });
  });

  it('follows a turn already running from its start', async () => {
    server.on('GET', '/stream', stream(cut(TURN.join(''))));
    const { events, onEvent } = collect();
    const outcome = await client().follow('t1:0', { onEvent });
    expect(outcome.status).toBe('done');
    expect(ids(events)).toEqual(ALL_IDS);
    expect(server.requests[0].headers.get('Last-Event-ID')).toBe('t1:0');
  });
});

async function until(predicate: () => boolean, timeout = 2000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeout) {
      throw new Error('timed out');
    }
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}
