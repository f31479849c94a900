// What of jupyter lab's log a lane leaves out before it fails on errors: only upstream
// tracebacks of a page that went away mid-request, each recognised by its exact shape
// (its header, its last line, and frames that name no code of ours). Tested without a
// browser in lab-log.test.mjs (make lint-ui).

/** True for a line that starts a new log record, as `[E 2026-12-06 13:32:38.803 ServerApp] ...`. */
const isLogRecord = (line) => /^\[[A-Z] /.test(line);

/** The index of the first line at or after `at` whose text (indent aside) is `text`, or -1. */
function indexOfTrimmed(lines, text, at) {
  for (let i = at; i < lines.length; i++) if (lines[i].trim() === text) return i;
  return -1;
}

/**
 * jupyter_server's own event stream (`/api/events/subscribe`, which every JupyterLab page
 * opens): jupyter_server 2.21 drops the task `write_message` returns, so an event written
 * to a page that just went away is logged as "Task exception was never retrieved ...
 * WebSocketClosedError" (not our code: our notebook socket takes those failures,
 * tests/handlers/test_websocket_dropped_clients.py).
 */
function eventStreamBlockEnd(lines, at) {
  const upstream =
    lines[at] === 'Task exception was never retrieved' &&
    /coro=<WebSocketProtocol13\.write_message\.<locals>\.wrapper\(\).*exception=WebSocketClosedError\(\)>$/.test(
      lines[at + 1] ?? '',
    );
  const end = upstream ? lines.indexOf('tornado.websocket.WebSocketClosedError', at) : -1;
  return end !== -1 && end - at <= 12 && lines.slice(at + 2, end).every((line) => !isLogRecord(line)) ? end : -1;
}

/**
 * An "Uncaught exception GET" of one of JupyterLab's own routes (not ours) whose answer
 * found the connection closed (`StreamClosedError: Stream is closed`), as a test's page
 * closing while it loads its settings. Such a block names only tornado's frames.
 */
function closedStreamBlockEnd(lines, at) {
  const request = /^\[E [^\]]+ ServerApp\] Uncaught exception GET (\S+)/.exec(lines[at]);
  if (!request || request[1].includes('/reactive/')) return -1;
  const end = lines.indexOf('    tornado.iostream.StreamClosedError: Stream is closed', at);
  if (end === -1 || end - at > 8) return -1;
  const between = lines.slice(at + 1, end);
  const onlyTornado = between.every((line) => !/^\s*File /.test(line) || /site-packages\/tornado\//.test(line));
  return onlyTornado && between.every((line) => !isLogRecord(line)) ? end : -1;
}

/**
 * A traceback from `header` to a WebSocketClosedError, at most `maxLines` long, whose every
 * frame satisfies `upstreamFrame` and with no other log record inside.
 */
function closedSocketTracebackEnd(lines, at, maxLines, upstreamFrame) {
  const end = indexOfTrimmed(lines, 'tornado.websocket.WebSocketClosedError', at);
  if (end === -1 || end - at > maxLines) return -1;
  const between = lines.slice(at + 1, end);
  const frames = between.filter((line) => /^\s*File /.test(line));
  const clean = frames.length > 0 && frames.every(upstreamFrame) && between.every((line) => !isLogRecord(line));
  return clean ? end : -1;
}

/**
 * jupyter-collaboration's room socket writing to a page that just went away: its handler
 * logs "Failed to write message" with a WebSocketClosedError traceback that names only its
 * own `send` and tornado's frames (jupyter_server_ydoc 3.0, handlers.py `send`). The
 * room drops that client itself; nothing of ours is on the path.
 */
function roomWriteBlockEnd(lines, at) {
  if (!/^\[E [^\]]+ ServerApp\] Failed to write message$/.test(lines[at])) return -1;
  return closedSocketTracebackEnd(lines, at, 8, (line) =>
    /site-packages\/(jupyter_server_ydoc\/handlers\.py", line \d+, in send|tornado\/)/.test(line),
  );
}

/**
 * jupyter_server's kernel socket (`/api/kernels/<id>/channels`, the stock notebook's
 * connection to its kernel) relaying a kernel message to a page that just went away:
 * `_on_zmq_reply` checks that the ZMQ stream is open, not the WebSocket, so
 * `write_message` raises WebSocketClosedError inside pyzmq's stream callback, which logs
 * it ("Uncaught exception in ZMQStream callback", again as "... zmqstream callback" one
 * level up) and re-raises it to asyncio ("Exception in callback
 * BaseAsyncIOLoop._handle_events"), or, when pyzmq's stream had a message waiting as it
 * updated its handler, to tornado's IOLoop ("Exception in callback
 * functools.partial(<function ZMQStream._update_handler.<locals>.<lambda> ...>)"). jupyter_server then drops that connection itself.
 * Every frame is pyzmq's, tornado's, asyncio's or that handler's; none is ours (our
 * kernel client is jupyter_client's, not a browser socket).
 */
function kernelChannelWriteBlockEnd(lines, at) {
  const header =
    /Uncaught exception in (ZMQStream|zmqstream) callback$/.test(lines[at]) ||
    /Exception in callback BaseAsyncIOLoop\._handle_events\(/.test(lines[at]) ||
    /Exception in callback functools\.partial\(<function ZMQStream\._update_handler\.<locals>\.<lambda> /.test(
      lines[at],
    );
  if (!header) return -1;
  return closedSocketTracebackEnd(lines, at, 40, (line) =>
    /(site-packages\/(zmq|tornado)\/|site-packages\/jupyter_server\/services\/kernels\/connection\/channels\.py"|\/asyncio\/)/.test(
      line,
    ),
  );
}

const UPSTREAM_BLOCKS = [eventStreamBlockEnd, closedStreamBlockEnd, roomWriteBlockEnd, kernelChannelWriteBlockEnd];

/**
 * The log's lines without the upstream tracebacks above, and how many were left out.
 * Anything else, an error of ours above all, is kept.
 */
export function withoutUpstreamWriteErrors(lines) {
  const kept = [];
  let skipped = 0;
  for (let at = 0; at < lines.length; at++) {
    const end = Math.max(...UPSTREAM_BLOCKS.map((blockEnd) => blockEnd(lines, at)));
    if (end !== -1) {
      skipped += 1;
      at = end;
      continue;
    }
    kept.push(lines[at]);
  }
  return { kept, skipped };
}
