"""Who made a change: a person, or the assistant acting for them.

The structural events of a notebook (a cell created, edited, moved or deleted; the
notebook renamed) carry ``actor``, so an open tab, a log reader or the audit can tell an
assistant's edit from a person's. The actor lives in a context variable: the chat sets it
around each tool call (:func:`acting_as`), and a service call made with no actor set is
the requesting person's (:func:`assume_person`). Every HTTP request and every chat turn
runs in a task of its own, with a copy of the context, so an actor never leaks from one
request into another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

Actor = dict[str, Any]

#: Event types that record a change of the notebook (and so name who made it).
ATTRIBUTED_EVENTS = frozenset(
    {"cell_created", "cell_updated", "cell_moved", "cell_deleted", "notebook_updated"}
)

#: A change made in the shared document: a JupyterLab tab or a collaborator in its room.
FROM_DOCUMENT: Actor = {"kind": "document"}

_current: ContextVar[Actor | None] = ContextVar("reactive_notebook_actor", default=None)


def person(user: str) -> Actor:
    return {"kind": "person", "user": user}


def assistant(user: str, *, provider: str, model: str, tool_call_id: str) -> Actor:
    """The assistant, acting in ``user``'s chat."""
    return {
        "kind": "assistant",
        "user": user,
        "provider": provider,
        "model": model,
        "tool_call_id": tool_call_id,
    }


def mcp_client(user: str, *, client: str, request_id: str) -> Actor:
    """An agent outside the server, acting for ``user`` over MCP (``client`` is the
    name it gave, ``request_id`` its JSON-RPC request's id)."""
    return {
        "kind": "assistant",
        "via": "mcp",
        "user": user,
        "client": client,
        "request_id": request_id,
    }


def current_actor() -> Actor | None:
    return _current.get()


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Changes made inside the block are ``actor``'s."""
    token = _current.set(actor)
    try:
        yield
    finally:
        _current.reset(token)


def assume_person(user: str) -> None:
    """With no actor set, what follows in this task is ``user``'s own doing."""
    if _current.get() is None:
        _current.set(person(user))
