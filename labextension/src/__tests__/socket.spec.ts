import { ServerConnection } from '@jupyterlab/services';

import { NotebookSocket, socketURL } from '../socket';
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
