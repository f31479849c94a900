"""The users a JWT identity provider names (issue 18).

A ``JWTUser`` is an API user: the identity provider made it from a verified token, and
the authorizer (``ReactiveAuthorizer``) lets it use the reactive API, its WebSocket, the
chat and MCP, not the raw Jupyter APIs that would bypass ownership. An operator who came
in with the Jupyter token is a plain ``User`` and keeps everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jupyter_server.auth import User


@dataclass
class JWTUser(User):
    """A user named by a verified JWT: ``username`` is its ``sub`` (or the claim the
    provider is configured to take), ``expires_at`` its ``exp`` (seconds since the epoch)."""

    expires_at: float = 0.0
    #: The verified claims (never the token itself).
    claims: dict[str, Any] = field(default_factory=dict)


def is_jwt_user(user: object) -> bool:
    return isinstance(user, JWTUser)
