"""A fake LLM provider for the tests: a real HTTP server on 127.0.0.1 that answers
Anthropic's Messages API (``POST /v1/messages``) and OpenAI's chat completions
(``POST /v1/chat/completions``), streamed or not, from replies a test scripts.

The official SDKs pointed at it parse its answers as they parse the providers': point
``anthropic.AsyncAnthropic(base_url=fake.url)`` or ``openai.AsyncOpenAI(base_url=fake.url +
"/v1")`` at it (``fake.anthropic_base_url``, ``fake.openai_base_url``). It runs in its own
threads (stdlib only), so it serves beside any event loop in the test process, or alone:
``python tests/agent/fake_llm.py --port 0`` prints its URL and serves until killed.

Each request to a model route takes the next reply from one queue (whichever protocol it came
on) and records the request: path, headers, JSON body, whether the client went away before
the answer ended. No reply scripted: a 500 saying so, in the provider's error shape.

Streams are written as a provider writes them, and worse: text in 4-character deltas, a tool
call's JSON arguments in three pieces, and every event split across two socket writes (the
tail of one event shares a write with the head of the next), so a client that assumes one
event per chunk breaks.

The JSON form of a reply (``POST /_fake/replies`` takes a list of them; ``Reply(**obj)``
in Python is the same, with ``ToolCall`` objects)::

    {"text": "Hello", "tool_calls": [{"name": "run_cell", "input": {"cell_id": "a"},
     "id": "optional"}], "usage": [12, 7], "stop_reason": "optional"}
    {"status_code": 429, "retry_after": 1, "message": "optional"}  # also 500, 400...
    {"status_code": 529}            # overloaded: Anthropic 529 overloaded_error, OpenAI 503
    {"text": "...", "interrupt": "cut", "after_events": 3}   # close mid-event
    {"text": "...", "interrupt": "hang", "after_events": 1}  # wait for the client to close
    {"text": "...", "interrupt": "overloaded", "after_events": 3}  # in-stream error event
    {"text": "...", "delay": 0.2}   # seconds before each event

``after_events`` counts the protocol's SSE events (Anthropic: message_start, ping,
content_block_start...; OpenAI: each ``data:`` chunk). ``stop_reason`` is Anthropic's
("end_turn", "tool_use", "max_tokens"; mapped to OpenAI's finish_reason); by default
"tool_use" when there are tool calls, else "end_turn". A request without ``"stream": true``
gets the whole message (or the error status, or a hang); cut, overloaded and delay apply to
streams only. Tool call ids default to ``toolu_fake0001`` / ``call_fake0001``, numbered per
server.

In Python (the ``fake_llm`` fixture of ``tests/agent/conftest.py``)::

    fake_llm.add(Reply(text="Done.", tool_calls=[ToolCall("run_cell", {"cell_id": "a"})]),
                 Reply.status(429, retry_after=1), Reply.overloaded(), Reply.cut(3),
                 Reply.hang(after_events=2), Reply.slow(0.2))
    fake_llm.requests          # [Recorded(index, method, path, headers, body, disconnected)]
    await fake_llm.wait_ended(0)  # the answer to request 0 is over: .disconnected says how

A request's ``ended`` is set just before the answer's last write, so once an SDK call has
returned, its request reads as ended; a client that leaves mid-answer is seen at the next
write or while a reply waits (delay, hang), hence ``wait_ended``.

Control API: ``POST /_fake/replies`` (a list, or ``{"replies": [...]}``), ``GET
/_fake/requests`` (each with index, path, headers, body, ended, disconnected), ``POST
/_fake/reset`` (forgets replies and requests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import select
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

TEXT_PIECE = 4  # characters per text delta
JSON_PARTS = 3  # pieces of a tool call's JSON arguments
HANG_LIMIT = 60.0  # seconds a hanging reply waits for the client before closing on it

# ---------------------------------------------------------------------------------------
# The script: what a test enqueues
# ---------------------------------------------------------------------------------------


@dataclass
class ToolCall:
    name: str
    input: dict[str, Any]
    id: str | None = None  # default: toolu_fake0001 / call_fake0001, numbered per server


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: tuple[int, int] = (10, 20)  # input tokens, output tokens
    stop_reason: str | None = None
    status_code: int = 200
    message: str | None = None  # an error's message
    retry_after: float | None = None
    interrupt: str | None = None  # "cut", "hang" or "overloaded", after `after_events`
    after_events: int = 0
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.interrupt not in (None, "cut", "hang", "overloaded"):
            raise ValueError(f"unknown interrupt {self.interrupt!r}")
        self.tool_calls = [c if isinstance(c, ToolCall) else ToolCall(**c) for c in self.tool_calls]
        self.usage = (int(self.usage[0]), int(self.usage[1]))

    @classmethod
    def status(
        cls, code: int, retry_after: float | None = None, message: str | None = None
    ) -> Reply:
        return cls(status_code=code, retry_after=retry_after, message=message)

    @classmethod
    def overloaded(cls, after_events: int | None = None, text: str = "Partial answer") -> Reply:
        """HTTP 529 (Anthropic) / 503 (OpenAI); or, after `after_events` events of a stream
        already answered 200, an overloaded error event."""
        if after_events is None:
            return cls(status_code=529)
        return cls(text=text, interrupt="overloaded", after_events=after_events)

    @classmethod
    def cut(cls, after_events: int, text: str = "This answer is cut short") -> Reply:
        return cls(text=text, interrupt="cut", after_events=after_events)

    @classmethod
    def hang(cls, after_events: int = 1, text: str = "Never finished") -> Reply:
        return cls(text=text, interrupt="hang", after_events=after_events)

    @classmethod
    def slow(cls, delay: float, text: str = "A slow answer, one piece at a time") -> Reply:
        return cls(text=text, delay=delay)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown reply fields {sorted(unknown)}")
        return cls(**data)

    def stop(self) -> str:
        return self.stop_reason or ("tool_use" if self.tool_calls else "end_turn")


# ---------------------------------------------------------------------------------------
# Rendering a reply in each protocol
# ---------------------------------------------------------------------------------------


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _parts(text: str, n: int) -> list[str]:
    return _pieces(text, max(1, -(-len(text) // n)))


def _sse(data: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def openai_error(status: int, message: str) -> dict[str, Any]:
    kind = {429: "rate_limit_exceeded", 400: "invalid_request_error"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def anthropic_message(reply: Reply, model: str, msg_id: str, ids: list[str]) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
    for call, call_id in zip(reply.tool_calls, ids, strict=True):
        content.append({"type": "tool_use", "id": call_id, "name": call.name, "input": call.input})
    usage = {"input_tokens": reply.usage[0], "output_tokens": reply.usage[1]}
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reply.stop(),
        "stop_sequence": None,
        "usage": usage,
    }


def anthropic_events(reply: Reply, model: str, msg_id: str, ids: list[str]) -> list[bytes]:
    start = anthropic_message(reply, model, msg_id, ids)
    start.update(content=[], stop_reason=None)
    start["usage"] = {"input_tokens": reply.usage[0], "output_tokens": 1}
    events = [_sse({"type": "message_start", "message": start}, "message_start")]
    events.append(_sse({"type": "ping"}, "ping"))
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if reply.text:
        deltas = [{"type": "text_delta", "text": t} for t in _pieces(reply.text, TEXT_PIECE)]
        blocks.append(({"type": "text", "text": ""}, deltas))
    for call, call_id in zip(reply.tool_calls, ids, strict=True):
        args = _parts(json.dumps(call.input), JSON_PARTS)
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in ["", *args]]
        blocks.append(({"type": "tool_use", "id": call_id, "name": call.name, "input": {}}, deltas))
    for index, (block, deltas) in enumerate(blocks):
        events.append(
            _sse(
                {"type": "content_block_start", "index": index, "content_block": block},
                "content_block_start",
            )
        )
        for delta in deltas:
            payload = {"type": "content_block_delta", "index": index, "delta": delta}
            events.append(_sse(payload, "content_block_delta"))
        events.append(_sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    end = {"stop_reason": reply.stop(), "stop_sequence": None}
    usage = {"output_tokens": reply.usage[1]}
    events.append(_sse({"type": "message_delta", "delta": end, "usage": usage}, "message_delta"))
    events.append(_sse({"type": "message_stop"}, "message_stop"))
    return events


FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


def openai_completion(reply: Reply, model: str, msg_id: str, ids: list[str]) -> dict[str, Any]:
    calls = [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.input)},
        }
        for call, call_id in zip(reply.tool_calls, ids, strict=True)
    ]
    message = {
        "role": "assistant",
        "content": reply.text or None,
        "refusal": None,
        "tool_calls": calls or None,
    }
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": FINISH.get(reply.stop(), reply.stop()),
    }
    return {
        "id": msg_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": _openai_usage(reply),
    }


def _openai_usage(reply: Reply) -> dict[str, int]:
    i, o = reply.usage
    return {"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o}


def openai_events(
    reply: Reply, model: str, msg_id: str, ids: list[str], include_usage: bool
) -> list[bytes]:
    base = {
        "id": msg_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
    }
    if include_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _sse({**base, "choices": [choice]})

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": piece}) for piece in _pieces(reply.text, TEXT_PIECE)]
    for index, (call, call_id) in enumerate(zip(reply.tool_calls, ids, strict=True)):
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        events.append(chunk({"tool_calls": [head]}))
        for part in _parts(json.dumps(call.input), JSON_PARTS):
            events.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
            )
    events.append(chunk({}, FINISH.get(reply.stop(), reply.stop())))
    if include_usage:
        events.append(_sse({**base, "choices": [], "usage": _openai_usage(reply)}))
    return [*events, b"data: [DONE]\n\n"]


# ---------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------


@dataclass
class Recorded:
    index: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    disconnected: bool = False  # the client went away before the answer ended
    #: ``time.monotonic()`` when the stream's first event was written (None: no stream).
    streaming_at: float | None = None
    ended: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in vars(self).items() if k != "ended"},
            "ended": self.ended.is_set(),
        }


class _ClientGone(Exception):
    pass


class FakeLLM:
    """One fake provider: ``start()``/``stop()`` or ``with FakeLLM() as fake:``."""

    def __init__(self, port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.anthropic_base_url = self.url
        self.openai_base_url = f"{self.url}/v1"
        self._lock = threading.Lock()
        self._replies: deque[Reply | Callable[[Recorded], Reply]] = deque()
        self._requests: list[Recorded] = []
        self._ids = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._connections: set[socket.socket] = set()
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> FakeLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections, hanging answers
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, *replies: Reply | Callable[[Recorded], Reply]) -> None:
        """Enqueue replies: each answers one upstream request, in order. A callable is
        called with the request when it comes (in the server's thread) and answers the
        reply: a script that reads what the model was sent, such as the id of the cell
        a tool just created."""
        with self._lock:
            self._replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self._requests.clear()

    @property
    def pending(self) -> int:
        """Replies not yet taken by a request."""
        with self._lock:
            return len(self._replies)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests]

    async def wait_requests(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        """Wait until at least `count` requests have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.requests)} requests came, not {count}")
            await asyncio.sleep(0.01)
        return self.requests

    async def wait_ended(self, index: int = -1, timeout: float = 10.0) -> Recorded:
        """Wait until the answer to request `index` has ended (finished, cut, or the client
        went away: see ``.disconnected``)."""
        record = (await self.wait_requests(index + 1 if index >= 0 else 1, timeout))[index]
        deadline = time.monotonic() + timeout
        while not record.ended.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the answer to request {record.index} has not ended")
            await asyncio.sleep(0.01)
        return record

    def _take(self, record: Recorded) -> Reply | None:
        with self._lock:
            record.index = len(self._requests)
            self._requests.append(record)
            reply = self._replies.popleft() if self._replies else None
        return reply(record) if callable(reply) else reply

    def _next_id(self, tool_call: bool = False) -> int:
        with self._lock:
            return next(self._call_ids if tool_call else self._ids)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    record: Recorded | None = None  # the model request being answered

    @property
    def fake(self) -> FakeLLM:
        return self.server.fake  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/_fake/requests":
            self._json(200, [r.to_json() for r in self.fake.requests])
        else:
            self._json(404, {"error": f"no route GET {self.path}"})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        path = urlsplit(self.path).path
        if path == "/_fake/replies":
            try:
                items = body["replies"] if isinstance(body, dict) else body
                self.fake.add(*[Reply.from_json(item) for item in items])
            except (TypeError, ValueError, KeyError) as error:
                self._json(400, {"error": f"bad replies: {error}"})
            else:
                self._json(200, {"pending": self.fake.pending})
        elif path == "/_fake/reset":
            self.fake.reset()
            self._json(200, {"pending": 0})
        elif path in ("/v1/messages", "/v1/chat/completions"):
            self._model(path == "/v1/messages", body)
        else:
            self._json(404, {"error": f"no route POST {self.path}"})

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._end()
        self.wfile.write(payload)

    def _model(self, anthropic: bool, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.record = record = Recorded(-1, "POST", urlsplit(self.path).path, headers, body)
        reply = self.fake._take(record)
        try:
            self._answer(anthropic, record, reply, body if isinstance(body, dict) else {})
        except (_ClientGone, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            record.disconnected = not record.ended.is_set()
        finally:
            record.ended.set()
            self.record = None

    def _end(self) -> None:
        """The answer's state is final: set before its last write, so that a test sees it
        as soon as its client has read the answer."""
        if self.record is not None:
            self.record.ended.set()

    def _answer(
        self, anthropic: bool, record: Recorded, reply: Reply | None, body: dict[str, Any]
    ) -> None:
        error = anthropic_error if anthropic else openai_error
        n = self.fake._next_id()
        request_id = f"req_fake{n:04d}"
        if reply is None:
            message = (
                f"fake_llm: no reply scripted for request #{record.index} "
                f"(POST {record.path}); enqueue one with fake_llm.add(Reply(...))"
            )
            self._json(500, error(500, message), {"request-id": request_id})
            return
        if reply.status_code != 200:
            status = reply.status_code if anthropic or reply.status_code != 529 else 503
            message = reply.message or {429: "Rate limited", 529: "Overloaded"}.get(
                reply.status_code, f"Fake upstream error {reply.status_code}"
            )
            extra = {"request-id": request_id, "x-request-id": request_id}
            if reply.retry_after is not None:
                extra["retry-after"] = str(reply.retry_after)
            self._json(status, error(reply.status_code, message), extra)
            return
        model = str(body.get("model", "fake-model"))
        msg_id = f"msg_fake{n:04d}" if anthropic else f"chatcmpl-fake{n:04d}"
        prefix = "toolu_fake" if anthropic else "call_fake"
        ids = [
            c.id or f"{prefix}{self.fake._next_id(tool_call=True):04d}" for c in reply.tool_calls
        ]
        if not body.get("stream"):
            render = anthropic_message if anthropic else openai_completion
            if reply.interrupt == "hang":
                self._hang()
                return
            self._json(200, render(reply, model, msg_id, ids), {"request-id": request_id})
            return
        if anthropic:
            events = anthropic_events(reply, model, msg_id, ids)
        else:
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = openai_events(reply, model, msg_id, ids, usage)
        self._stream(anthropic, reply, events, request_id)

    def _stream(self, anthropic: bool, reply: Reply, events: list[bytes], request_id: str) -> None:
        self.send_response(200)
        for name, value in (
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("transfer-encoding", "chunked"),
            ("request-id", request_id),
        ):
            self.send_header(name, value)
        self.end_headers()
        if self.record is not None:
            self.record.streaming_at = time.monotonic()
        carry = b""
        stop = reply.after_events if reply.interrupt else len(events)
        for event in events[:stop]:
            if reply.delay:
                self._send(carry)
                carry = b""
                if self._wait_for_close(reply.delay):
                    raise _ClientGone
            half = len(event) // 2
            self._send(carry + event[:half])  # the tail of one event, the head of the next
            carry = event[half:]
        if reply.interrupt is None:
            self._send(carry, last=True, end=True)
            return
        self._send(carry)
        if reply.interrupt == "cut":
            following = events[stop] if stop < len(events) else b"data: {"
            self._send(following[: len(following) // 2], last=True)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif reply.interrupt == "hang":
            self._hang()
        else:  # overloaded
            error = anthropic_error(529, "Overloaded") if anthropic else None
            event = _sse(error, "error") if error else _sse(openai_error(503, "Overloaded"))
            self._send(event, last=True, end=True)

    def _hang(self) -> None:
        """Write nothing more until the client closes; past HANG_LIMIT (or when the server
        stops), close the connection on it."""
        if self._wait_for_close(HANG_LIMIT):
            raise _ClientGone
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, data: bytes, last: bool = False, end: bool = False) -> None:
        """Write `data` as one chunk (`end`: with the chunked body's end, in one write)."""
        if self._peer_closed(0):
            raise _ClientGone
        if last:
            self._end()
        frame = b"%x\r\n%s\r\n" % (len(data), data) if data else b""
        if frame or end:
            self.wfile.write(frame + (b"0\r\n\r\n" if end else b""))

    def _peer_closed(self, timeout: float) -> bool:
        readable, _, _ = select.select([self.connection], [], [], timeout)
        if not readable:
            return False
        try:
            return not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True

    def _wait_for_close(self, seconds: float) -> bool:
        """Wait `seconds`, or less if the client closes the connection: True if it did."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and not self.fake.stopping.is_set():
            if self._peer_closed(min(left, 0.05)):
                return True
        return False


# ---------------------------------------------------------------------------------------
# Standalone: python tests/agent/fake_llm.py --port N
# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with FakeLLM(args.port) as fake:
        print(fake.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
