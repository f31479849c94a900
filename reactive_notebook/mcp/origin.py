"""The ``Origin`` check of the MCP endpoint: stricter than the REST API's.

jupyter_server skips the ``Origin`` check for token-authenticated requests (a page of
another site cannot know the token). The MCP specification asks servers to validate
``Origin`` on every request against DNS rebinding, so the endpoint checks it whatever
the credentials: a request without ``Origin`` (an agent, a script), from the server's
own origin, or from an origin the server allows (``ServerApp.allow_origin``,
``allow_origin_pat``: set them for a browser-based MCP client) passes; any other is
refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse


def origin_allowed(origin: str | None, host: str | None, settings: Mapping[str, Any]) -> bool:
    if not origin:
        return True
    allow_origin = settings.get("allow_origin", "")
    if allow_origin == "*":
        return True
    origin = origin.lower()
    if host and urlparse(origin).netloc == host.lower():
        return True
    if allow_origin:
        return bool(allow_origin == origin)
    pattern: str | re.Pattern[str] | None = settings.get("allow_origin_pat")
    return bool(pattern) and re.fullmatch(pattern or "", origin) is not None
