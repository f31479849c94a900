import { ServerConnection } from '@jupyterlab/services';

import {
  CLOSE_TOKEN_EXPIRED,
  NotebookSocket,
  isJWT,
  socketURL,
  tokenExpiry
} from '../socket';
import { IServerEvent } from '../types';

/** A WebSocket stand-in the test drives by hand. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function settings(
  extra: Partial<ServerConnection.ISettings> = {}
): ServerConnection.ISettings {
  return {
    baseUrl: 'http://localhost:8888/user/ada/',
    wsUrl: 'ws://localhost:8888/user/ada/',
    token: 'secret',
    appendToken: true,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    ...extra
  } as ServerConnection.ISettings;
}

function latest(): FakeSocket {
  return FakeSocket.instances[FakeSocket.instances.length - 1];
}

describe('socketURL', () => {
  it('asks for batches, carries the token and the prefix, and resumes with since', () => {
    expect(socketURL(settings(), 'n b', null)).toBe(
      'ws://localhost:8888/user/ada/reactive/api/v1/notebooks/n%20b/ws?batch=1&token=secret'
    );
    expect(socketURL(settings({ appendToken: false }), 'nb', 42)).toBe(
      'ws://localhost:8888/user/ada/reactive/api/v1/notebooks/nb/ws?batch=1&since=42'
    );
  });
});

describe('NotebookSocket', () => {
  let socket: NotebookSocket;
  let events: IServerEvent[];

  beforeEach(() => {
    jest.useFakeTimers();
    FakeSocket.instances = [];
    socket = new NotebookSocket({
      serverSettings: settings(),
      notebookId: 'nb',
      minDelay: 100,
      maxDelay: 1000,
      jitter: 0
    });
    events = [];
    socket.received.connect((_, event) => events.push(event));
  });

  afterEach(() => {
    socket.dispose();
    jest.useRealTimers();
  });

  it('unpacks batch frames and tracks the last seq', () => {
    socket.connect();
    latest().open();
    expect(socket.status).toBe('connected');
    latest().receive({ type: 'snapshot', seq: 10, notebook: {} });
    latest().receive({
      type: 'batch',
      events: [
        { type: 'cell_status', seq: 11, cell_id: 'a', status: 'queued' },
        { type: 'cell_status', seq: 12, cell_id: 'a', status: 'running' }
      ]
    });
    expect(events.map(e => e.type)).toEqual([
      'snapshot',
      'cell_status',
      'cell_status'
    ]);
    expect(socket.lastSeq).toBe(12);
  });

  it('reconnects with exponential backoff and resumes after the last seq', async () => {
    socket.connect();
    latest().open();
    latest().receive({ type: 'snapshot', seq: 10, notebook: {} });
    latest().receive({ type: 'cell_stdout', seq: 11, cell_id: 'a', data: 'x' });
    latest().drop();
    expect(socket.status).toBe('disconnected');

    jest.advanceTimersByTime(99);
    expect(FakeSocket.instances).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(latest().url).toContain('since=11');
    latest().drop(); // failed attempt: next delay doubles
    jest.advanceTimersByTime(199);
    expect(FakeSocket.instances).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
    latest().drop();
    jest.advanceTimersByTime(400);
    expect(FakeSocket.instances).toHaveLength(4);
    latest().open();
    expect(socket.attempts).toBe(0);
    expect(latest().sent).toEqual([]); // the Jupyter token: nothing to send first
    latest().receive({ type: 'resumed', seq: 13 });
    latest().receive({ type: 'cell_stdout', seq: 12, cell_id: 'a', data: 'y' });
    expect(socket.lastSeq).toBe(12);
  });

  it('caps the backoff', () => {
    socket.connect();
    for (let i = 0; i < 8; i++) {
      latest().drop();
      jest.advanceTimersByTime(1000);
    }
    expect(FakeSocket.instances).toHaveLength(9);
  });

  it('does not reconnect to a deleted notebook, nor after dispose', () => {
    socket.connect();
    latest().open();
    latest().drop(4404);
    expect(socket.status).toBe('closed');
    jest.advanceTimersByTime(10000);
    expect(FakeSocket.instances).toHaveLength(1);
    socket.dispose();
    expect(socket.status).toBe('closed');
    socket.connect();
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

/** An unsigned JWT-shaped token for `sub`, expiring at `exp` (seconds). */
function jwt(sub: string, exp: number): string {
  const part = (value: object) =>
    btoa(JSON.stringify(value))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  return `${part({ alg: 'RS256', kid: 'k' })}.${part({ sub, exp })}.c2ln`;
}

/** Let the token getter's promise (and what follows it) settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

describe('isJWT and tokenExpiry', () => {
  it('tells a JWT from a Jupyter token and reads its exp', () => {
    expect(isJWT(jwt('ada', 1000))).toBe(true);
    expect(tokenExpiry(jwt('ada', 1000))).toBe(1000 * 1000);
    expect(isJWT('a1b2c3d4e5')).toBe(false);
    expect(isJWT('a.b.c')).toBe(false);
    expect(isJWT(null)).toBe(false);
  });
});

describe('NotebookSocket with a JWT', () => {
  const start = Date.UTC(2026, 0, 1);
  let socket: NotebookSocket;
  let issued: string[];
  let lifetime: number;

  /** The getter of an embedding app: a new token (valid `lifetime` s) per call. */
  function getToken(): Promise<string> {
    const token = jwt('ada', Math.floor(Date.now() / 1000) + lifetime);
    issued.push(token);
    return Promise.resolve(token);
  }

  beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(start);
    FakeSocket.instances = [];
    issued = [];
    lifetime = 60;
    socket = new NotebookSocket({
      serverSettings: settings(),
      notebookId: 'nb',
      minDelay: 100,
      maxDelay: 1000,
      jitter: 0,
      getToken
    });
  });

  afterEach(() => {
    socket.dispose();
    jest.useRealTimers();
  });

  it('sends the token as the first message, never in the URL', async () => {
    socket.connect();
    await settle();
    expect(latest().url).not.toContain('token=');
    expect(latest().sent).toEqual([]);
    latest().open();
    expect(latest().sent).toEqual([{ type: 'auth', token: issued[0] }]);
    expect(socket.status).toBe('connected');
  });

  it('sends refresh_auth with a fresh token before the old one expires', async () => {
    socket.connect();
    await settle();
    latest().open();
    // 60 s tokens are renewed 30 s before they expire.
    jest.advanceTimersByTime(29999);
    await settle();
    expect(issued).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await settle();
    expect(issued).toHaveLength(2);
    expect(latest().sent).toEqual([
      { type: 'auth', token: issued[0] },
      { type: 'refresh_auth', token: issued[1] }
    ]);
    jest.advanceTimersByTime(30000); // and the next one too
    await settle();
    expect(latest().sent).toHaveLength(3);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('renews a short-lived token halfway through its life', async () => {
    lifetime = 4;
    socket.connect();
    await settle();
    latest().open();
    jest.advanceTimersByTime(1999);
    await settle();
    expect(latest().sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await settle();
    expect(latest().sent[1]).toEqual({
      type: 'refresh_auth',
      token: issued[1]
    });
  });

  it('reconnects at once with a fresh token when the server says it expired', async () => {
    socket.connect();
    await settle();
    latest().open();
    latest().receive({ type: 'snapshot', seq: 7, notebook: {} });
    latest().drop(CLOSE_TOKEN_EXPIRED);
    expect(socket.status).not.toBe('closed');
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(latest().url).toContain('since=7');
    expect(latest().url).not.toContain('token=');
    latest().open();
    expect(latest().sent).toEqual([{ type: 'auth', token: issued[1] }]);
    // The old connection's refresh timer died with it: one refresh, on the new one.
    jest.advanceTimersByTime(30000);
    await settle();
    expect(FakeSocket.instances[0].sent).toHaveLength(1);
    expect(latest().sent).toHaveLength(2);
  });

  it('backs off when the getter has no token', async () => {
    socket.dispose();
    socket = new NotebookSocket({
      serverSettings: settings(),
      notebookId: 'nb',
      minDelay: 100,
      jitter: 0,
      getToken: () => null
    });
    socket.connect();
    await settle();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(socket.status).toBe('disconnected');
    expect(socket.attempts).toBe(1);
  });

  it('uses a JWT given as the settings token the same way', async () => {
    socket.dispose();
    const token = jwt('ada', Math.floor(start / 1000) + 60);
    socket = new NotebookSocket({
      serverSettings: settings({ token }),
      notebookId: 'nb'
    });
    socket.connect();
    await settle();
    expect(latest().url).not.toContain('token=');
    latest().open();
    expect(latest().sent).toEqual([{ type: 'auth', token }]);
  });
});
