"""A notebook's variables as the service answers them: the kernel's listing (see
:meth:`.session.KernelSession.list_variables`), or why there is none, never an exception.

``kernel`` says which: ``"ready"`` (the listing), ``"not started"`` (no kernel serves the
notebook yet: nothing is defined, and none is started just to list nothing), ``"busy"``
(a run held the kernel longer than the listing waits) or ``"failed"`` (the listing raised,
hung and was interrupted, or the kernel died; ``error`` says which).
"""

from __future__ import annotations

from typing import Any

from .kernel_side.connection_strings import secret_values
from .session import KernelBusy, KernelSession, QueryFailed

#: How long a listing waits for the run in progress, and for the kernel's answer.
LISTING_WAIT = 10.0
LISTING_TIMEOUT = 10.0


async def variable_listing(
    kernel: KernelSession, *, limit: int = 200, max_bytes: int = 48_000, connection: str = ""
) -> dict[str, Any]:
    """``{"kernel", "variables", "total", "truncated"}`` (and ``error`` when it failed).

    ``connection``: the notebook's database connection, whose secrets are masked in the
    reprs before they are cut (every tool answer is scrubbed again afterwards)."""
    empty: dict[str, Any] = {"variables": [], "total": 0, "truncated": 0}
    secrets = secret_values(connection) if connection.strip() else []
    try:
        listed = await kernel.list_variables(
            limit=limit,
            max_bytes=max_bytes,
            wait=LISTING_WAIT,
            timeout=LISTING_TIMEOUT,
            secrets=secrets,
        )
    except KernelBusy as busy:
        return {"kernel": "busy", "error": f"{busy}: try again when it ends", **empty}
    except QueryFailed as failed:
        return {"kernel": "failed", "error": f"listing the variables failed: {failed}", **empty}
    if listed is None:
        return {"kernel": "not started", **empty}
    return {
        "kernel": "ready",
        "variables": listed.get("variables", []),
        "total": listed.get("total", 0),
        "truncated": listed.get("truncated", 0),
    }
