"""``Retry-After`` on the 503 of a busy storage, for jupyter_server's own handlers.

A contents manager that gives up on a throttled store raises an ``HTTPError(503)`` with a
``retry_after`` attribute (seconds; see ``contents.dynamodb.retry.StorageBusyError``).
jupyter_server's ``APIHandler.write_error`` sets no headers, and tornado's ``send_error``
clears those set before it, so ``/api/contents`` would answer 503 with no hint of when to
come back. At load, the extension swaps the contents and files routes' handler classes
for subclasses whose ``write_error`` adds the header: same behaviour otherwise, and
``isinstance`` checks on the stock classes still hold.
"""

from __future__ import annotations

from typing import Any

from tornado import web
from tornado.routing import Router, Rule

#: The modules whose handlers read or write through the contents manager.
CONTENTS_HANDLER_MODULES = (
    "jupyter_server.services.contents.handlers",
    "jupyter_server.files.handlers",
)


def retry_after(error: BaseException | None) -> int | None:
    """The seconds a client should wait, if ``error`` is a 503 that says so."""
    if not isinstance(error, web.HTTPError) or error.status_code != 503:
        return None
    seconds = getattr(error, "retry_after", None)
    return seconds if isinstance(seconds, int) and seconds >= 0 else None


class RetryAfterMixin:
    """``write_error`` that sets ``Retry-After`` from the error, then answers as before."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        seconds = retry_after(exc_info[1] if exc_info else None)
        if seconds is not None:
            self.set_header("Retry-After", str(seconds))  # type: ignore[attr-defined]
        super().write_error(status_code, **kwargs)  # type: ignore[misc]


_subclasses: dict[type, type] = {}


def with_retry_after(handler: type[web.RequestHandler]) -> type[web.RequestHandler]:
    """``handler`` with :class:`RetryAfterMixin` first in its bases (made once)."""
    if issubclass(handler, RetryAfterMixin):
        return handler
    if handler not in _subclasses:
        # It stays jupyter_server's handler in every check that goes by where a handler
        # comes from (ReactiveAuthorizer and the JWT provider serve API users only on
        # reactive_notebook.* handlers): only the header is added.
        attributes = {"__module__": handler.__module__, "__qualname__": handler.__qualname__}
        _subclasses[handler] = type(handler.__name__, (RetryAfterMixin, handler), attributes)
    return _subclasses[handler]


def install(app: web.Application, modules: tuple[str, ...] = CONTENTS_HANDLER_MODULES) -> int:
    """Swap the handler classes of ``modules`` in ``app``'s routes; the number swapped."""
    swapped = 0
    routers: list[Router] = [app.default_router, app.wildcard_router]
    while routers:
        router = routers.pop()
        for rule in getattr(router, "rules", []):
            assert isinstance(rule, Rule)
            target = rule.target
            if isinstance(target, Router):
                routers.append(target)
            elif (
                isinstance(target, type)
                and issubclass(target, web.RequestHandler)
                and target.__module__ in modules
            ):
                rule.target = with_retry_after(target)
                swapped += 1
    return swapped
