// Which of jupyter lab's log lines a lane forgives (lab-log.mjs): the upstream tracebacks
// of a page that went away, and nothing else. No browser: `node --test` (make lint-ui).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { withoutUpstreamWriteErrors } from './lab-log.mjs';

const SITE = '/venv/lib/python3.11/site-packages';
const frame = (file, line, fn, code) => [`      File "${file}", line ${line}, in ${fn}`, `        ${code}`];

// As jupyter_server 2.21 logged it in CI when a page closed while its kernel answered.
const kernelChannelBlock = [
  '[E 2026-12-06 13:32:38.801 ServerApp] Uncaught exception in ZMQStream callback',
  '    Traceback (most recent call last):',
  ...frame(`${SITE}/zmq/eventloop/zmqstream.py`, 570, '_run_callback', 'f = callback(*args, **kwargs)'),
  ...frame(`${SITE}/zmq/eventloop/zmqstream.py`, 280, 'stream_callback', 'return callback(self, msg)'),
  ...frame(
    `${SITE}/jupyter_server/services/kernels/connection/channels.py`,
    583,
    'handle_outgoing_message',
    'self._on_zmq_reply(stream, parts)',
  ),
  ...frame(
    `${SITE}/jupyter_server/services/kernels/connection/channels.py`,
    634,
    '_on_zmq_reply',
    'self.write_message(bin_msg, binary=True)',
  ),
  ...frame(`${SITE}/tornado/websocket.py`, 364, 'write_message', 'raise WebSocketClosedError()'),
  '    tornado.websocket.WebSocketClosedError',
];

const asyncioBlock = [
  'Exception in callback BaseAsyncIOLoop._handle_events(42, 1)',
  'handle: <Handle BaseAsyncIOLoop._handle_events(42, 1)>',
  'Traceback (most recent call last):',
  ...frame('/usr/lib/python3.11/asyncio/events.py', 84, '_run', 'self._context.run(self._callback, *self._args)'),
  ...frame(`${SITE}/tornado/platform/asyncio.py`, 202, '_handle_events', 'handler_func(fileobj, events)'),
  ...frame(`${SITE}/zmq/eventloop/zmqstream.py`, 620, '_handle_events', 'self._handle_recv()'),
  ...frame(`${SITE}/tornado/websocket.py`, 364, 'write_message', 'raise WebSocketClosedError()'),
  'tornado.websocket.WebSocketClosedError',
];

// As CI logged it when the kernel's message was waiting while pyzmq updated its handler.
const ioloopBlock = [
  '[E 2026-12-06 18:14:23.930 ServerApp] Exception in callback functools.partial(<function ZMQStream._update_handler.<locals>.<lambda> at 0x7f22effae160>)',
  '    Traceback (most recent call last):',
  ...frame(`${SITE}/tornado/ioloop.py`, 756, '_run_callback', 'ret = callback()'),
  ...frame(`${SITE}/zmq/eventloop/zmqstream.py`, 704, '<lambda>', 'self.io_loop.add_callback(lambda: ...)'),
  ...frame(`${SITE}/zmq/eventloop/zmqstream.py`, 620, '_handle_events', 'self._handle_recv()'),
  ...frame(
    `${SITE}/jupyter_server/services/kernels/connection/channels.py`,
    634,
    '_on_zmq_reply',
    'self.write_message(bin_msg, binary=True)',
  ),
  ...frame(`${SITE}/tornado/websocket.py`, 364, 'write_message', 'raise WebSocketClosedError()'),
  '    tornado.websocket.WebSocketClosedError',
];

const roomBlock = [
  '[E 2026-12-06 13:30:01.000 ServerApp] Failed to write message',
  '    Traceback (most recent call last):',
  ...frame(`${SITE}/jupyter_server_ydoc/handlers.py`, 283, 'send', 'self.write_message(message, binary=True)'),
  ...frame(`${SITE}/tornado/websocket.py`, 364, 'write_message', 'raise WebSocketClosedError()'),
  '    tornado.websocket.WebSocketClosedError',
];

const info = '[I 2026-12-06 13:32:38.803 ServerApp] Starting buffering for d6aad10a';

test('a kernel socket writing to a page that went away is upstream noise', () => {
  const { kept, skipped } = withoutUpstreamWriteErrors([info, ...kernelChannelBlock, ...asyncioBlock, info]);
  assert.deepEqual(kept, [info, info]);
  assert.equal(skipped, 2);
});

test("a kernel socket's write raised through tornado's IOLoop callback is upstream noise", () => {
  const { kept, skipped } = withoutUpstreamWriteErrors([info, ...ioloopBlock, info]);
  assert.deepEqual(kept, [info, info]);
  assert.equal(skipped, 1);
});

test("a room's write to a page that went away is upstream noise", () => {
  const { kept, skipped } = withoutUpstreamWriteErrors([...roomBlock, info]);
  assert.deepEqual(kept, [info]);
  assert.equal(skipped, 1);
});

test('a WebSocketClosedError raised through our code is kept', () => {
  const ours = [...kernelChannelBlock];
  ours.splice(
    2,
    0,
    ...frame('/work/main/reactive_notebook/handlers/websocket.py', 90, 'send_event', 'self.write_message(text)'),
  );
  const { kept, skipped } = withoutUpstreamWriteErrors(ours);
  assert.deepEqual(kept, ours);
  assert.equal(skipped, 0);
});

test('an error logged inside a forgiven-looking traceback is kept', () => {
  const interleaved = [...kernelChannelBlock];
  interleaved.splice(4, 0, '[E 2026-12-06 13:32:38.802 ServerApp] Uncaught exception POST /api/reactive/run');
  const { kept } = withoutUpstreamWriteErrors(interleaved);
  assert.ok(kept.includes('[E 2026-12-06 13:32:38.802 ServerApp] Uncaught exception POST /api/reactive/run'));
});

test('a closed stream while answering one of our routes is kept', () => {
  const ours = [
    '[E 2026-12-06 13:30:01.000 ServerApp] Uncaught exception GET /api/reactive/notebooks (127.0.0.1)',
    '    Traceback (most recent call last):',
    ...frame(`${SITE}/tornado/web.py`, 1790, '_execute', 'result = await result'),
    '    tornado.iostream.StreamClosedError: Stream is closed',
  ];
  assert.deepEqual(withoutUpstreamWriteErrors(ours).kept, ours);
});

test("jupyter_server's event stream writing to a page that went away is upstream noise", () => {
  const block = [
    'Task exception was never retrieved',
    "future: <Task finished name='Task-9' coro=<WebSocketProtocol13.write_message.<locals>.wrapper() done, defined at x:1> exception=WebSocketClosedError()>",
    'Traceback (most recent call last):',
    ...frame(`${SITE}/tornado/websocket.py`, 1108, 'wrapper', 'raise WebSocketClosedError()'),
    'tornado.websocket.WebSocketClosedError',
  ];
  assert.deepEqual(withoutUpstreamWriteErrors([...block, info]), { kept: [info], skipped: 1 });
});
