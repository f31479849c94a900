"""The notebook WebSocket with JWT users (issue 18), against a real server whose identity
provider is ``JWTIdentityProvider`` and the real issuer of conftest: a socket opened with
no credential is authenticated by its first message (``auth``) or closed with 4403; a
connection's JWT expiring closes it with 4401 unless ``refresh_auth`` gave a fresh token
of the same user; another user's token is refused. ``?token=`` keeps working."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from reactive_notebook.handlers.ws_auth import CLOSE_AUTH_FAILED, CLOSE_TOKEN_EXPIRED

from ..handlers.wsclient import WsClient
from .conftest import Issuer
from .test_jwt_provider import NOTEBOOKS, bearer

#: The provider's leeway in these tests (seconds past ``exp`` a token still counts).
LEEWAY = 0.3
#: How long a socket opened without a credential waits for its ``auth`` message.
AUTH_TIMEOUT = 1.0
#: No credential on the upgrade: jp_ws_fetch adds the Jupyter token unless told otherwise.
NO_CREDENTIAL = {"Authorization": ""}


@pytest.fixture
def provider_config(provider_config: dict[str, Any]) -> dict[str, Any]:
    return {**provider_config, "leeway": LEEWAY, "websocket_auth_timeout": AUTH_TIMEOUT}


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return {**jp_server_config, "ReactiveNotebook": {"per_user_notebooks": True}}


async def alice_notebook(jp_fetch: Any, issuer: Issuer) -> str:
    response = await jp_fetch(
        *NOTEBOOKS, method="POST", body=json.dumps({"name": "ws"}), headers=bearer(issuer.mint())
    )
    return str(json.loads(response.body)["notebook_id"])


async def add_cell(jp_fetch: Any, issuer: Issuer, notebook_id: str, code: str) -> None:
    """A cell added over REST by alice (its event goes to her notebook's sockets)."""
    await jp_fetch(
        *NOTEBOOKS,
        notebook_id,
        "cells",
        method="POST",
        body=json.dumps({"type": "python", "code": code}),
        headers=bearer(issuer.mint()),
    )


async def connect(jp_ws_fetch: Any, notebook_id: str, token: str | None = None) -> WsClient:
    """A socket with no credential on its upgrade, or with ``?token=<token>``."""
    params = {"token": token} if token is not None else None
    return await WsClient.connect(jp_ws_fetch, notebook_id, headers=NO_CREDENTIAL, params=params)


def expiring(issuer: Issuer, seconds: int, **claims: Any) -> str:
    return issuer.mint(exp=int(time.time()) + seconds, **claims)


async def test_the_first_message_authenticates_and_events_follow(
    jp_fetch: Any, jp_ws_fetch: Any, issuer: Issuer
) -> None:
    notebook_id = await alice_notebook(jp_fetch, issuer)
    async with await connect(jp_ws_fetch, notebook_id) as ws:
        await add_cell(jp_fetch, issuer, notebook_id, "early = 0")
        assert await ws.quiet(0.2) == []  # nothing before it is authenticated
        token = issuer.mint()
        ws.send({"type": "auth", "token": token, "request_id": "a1"})
        snapshot = await ws.next()
        assert snapshot["type"] == "snapshot"
        assert snapshot["notebook"]["id"] == notebook_id
        assert [cell["code"] for cell in snapshot["notebook"]["cells"]][-1] == "early = 0"
        ack = await ws.next()
        assert ack["type"] == "ack"
        assert ack["request_id"] == "a1"
        assert ack["result"]["username"] == "user_alice"
        assert ack["result"]["expires_at"] == json.loads(_payload(token))["exp"]
        # The notebook's events reach it, and its commands run as alice.
        await add_cell(jp_fetch, issuer, notebook_id, "x = 1")
        created = await ws.until(lambda m: m["type"] == "cell_created")
        assert created[-1]["cell"]["code"] == "x = 1"
        assert "cell_id" in await ws.command({"type": "create_cell", "cell_type": "python"})
        # auth again is refused (the socket stays open): renewing is refresh_auth's.
        answer = await ws.request({"type": "auth", "token": issuer.mint()})
        assert answer["type"] == "error"
        assert "refresh_auth" in answer["message"]


def _payload(token: str) -> str:
    """The claims of a JWT as JSON text (the test reads back what it minted)."""
    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


BAD_FIRST_MESSAGES: dict[str, Any] = {
    "a command": {"type": "sync"},
    "not JSON": "{auth",
    "no token": {"type": "auth"},
    "an expired token": {"type": "auth", "token": "expired"},
    "another issuer's token": {"type": "auth", "token": "evil"},
    "not a JWT": {"type": "auth", "token": "the-jupyter-token"},
}


@pytest.mark.parametrize("case", sorted(BAD_FIRST_MESSAGES))
async def test_a_bad_first_message_closes_the_socket(
    jp_fetch: Any, jp_ws_fetch: Any, issuer: Issuer, case: str
) -> None:
    notebook_id = await alice_notebook(jp_fetch, issuer)
    message = BAD_FIRST_MESSAGES[case]
    if isinstance(message, dict) and message.get("token") == "expired":
        message = {**message, "token": issuer.mint(exp=int(time.time()) - 60)}
    if isinstance(message, dict) and message.get("token") == "evil":
        message = {**message, "token": issuer.mint(iss="https://evil.example.test")}
    ws = await connect(jp_ws_fetch, notebook_id)
    ws.send(message if isinstance(message, str) else json.dumps(message))
    assert await ws.wait_closed(5) == CLOSE_AUTH_FAILED
    assert ws.received == []  # not even a snapshot
    await ws.close()


async def test_no_first_message_closes_the_socket_after_the_timeout(
    jp_fetch: Any, jp_ws_fetch: Any, issuer: Issuer
) -> None:
    notebook_id = await alice_notebook(jp_fetch, issuer)
    ws = await connect(jp_ws_fetch, notebook_id)
    started = time.monotonic()
    assert await ws.wait_closed(5) == CLOSE_AUTH_FAILED
    assert AUTH_TIMEOUT - 0.1 <= time.monotonic() - started < AUTH_TIMEOUT + 2
    assert ws.close_reason == "no auth message in time"
    assert ws.received == []
    await ws.close()


class TestWaitingSocketsAreCapped:
    @pytest.fixture
    def provider_config(self, provider_config: dict[str, Any]) -> dict[str, Any]:
        return {**provider_config, "websocket_max_pending": 2}

    async def test_waiting_sockets_are_capped_and_a_freed_place_is_reused(
        self, jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any, issuer: Issuer
    ) -> None:
        notebook_id = await alice_notebook(jp_fetch, issuer)
        waiting = [await connect(jp_ws_fetch, notebook_id) for _ in range(2)]
        with pytest.raises(HTTPClientError) as refused:
            await connect(jp_ws_fetch, notebook_id)
        assert refused.value.code == 503
        assert refused.value.response is not None
        assert refused.value.response.headers["Retry-After"] == "1"
        # one authenticates: its place is free again, and a token in the upgrade never waits
        waiting[0].send({"type": "auth", "token": issuer.mint()})
        await waiting[0].next()
        third = await connect(jp_ws_fetch, notebook_id)
        assert len(jp_serverapp.identity_provider.pending_websockets) == 2
        for ws in (*waiting, third):
            await ws.close()
        with_token = await connect(jp_ws_fetch, notebook_id, token=issuer.mint())
        await with_token.next()  # its snapshot
        await with_token.close()


async def test_the_first_message_of_another_user_finds_no_notebook(
    jp_fetch: Any, jp_ws_fetch: Any, issuer: Issuer
) -> None:
    notebook_id = await alice_notebook(jp_fetch, issuer)
    ws = await connect(jp_ws_fetch, notebook_id)
    ws.send({"type": "auth", "token": issuer.mint(sub="user_bob")})
    assert await ws.wait_closed(5) == 4404  # as bob's upgrade with the token: 404
    assert ws.received == []
    await ws.close()


async def test_an_expired_token_closes_the_socket(
    jp_fetch: Any, jp_ws_fetch: Any, issuer: Issuer
) -> None:
    notebook_id = await alice_notebook(jp_fetch, issuer)
    for how in ("first message", "?token="):
        token = expiring(issuer, 2)
        deadline = json.loads(_payload(token))["exp"] + LEEWAY
        if how == "?token=":
            ws = await connect(jp_ws_fetch, notebook_id, token)
        else:
            ws = await connect(jp_ws_fetch, notebook_id)
            ws.send({"type": "auth", "token": token})
        assert (await ws.next())["type"] == "snapshot"
        assert await ws.wait_closed(5) == CLOSE_TOKEN_EXPIRED, how
        assert ws.close_reason == "token expired"
        late = time.time() - deadline
        assert -0.05 <= late < 1.0, (how, late)
        await ws.close()


async def test_a_refresh_keeps_the_socket_open_past_the_first_expiry(
    jp_fetch: Any, jp_ws_fetch: Any, issuer: Issuer
) -> None:
    notebook_id = await alice_notebook(jp_fetch, issuer)
    first = expiring(issuer, 2)
    ws = await connect(jp_ws_fetch, notebook_id, first)
    assert (await ws.next())["type"] == "snapshot"
    # A token that fails verification changes nothing (an error; the socket stays).
    refused = await ws.request(
        {"type": "refresh_auth", "token": issuer.mint(iss="https://evil.example.test")}
    )
    assert refused["type"] == "error"
    fresh = expiring(issuer, 4)
    result = await ws.command({"type": "refresh_auth", "token": fresh})
    assert result == {"expires_at": json.loads(_payload(fresh))["exp"]}
    first_deadline = json.loads(_payload(first))["exp"] + LEEWAY
    await asyncio.sleep(first_deadline + 0.5 - time.time())
    assert await ws.command({"type": "sync"}) == {}  # still open, still alice
    assert await ws.wait_closed(5) == CLOSE_TOKEN_EXPIRED
    assert time.time() >= json.loads(_payload(fresh))["exp"] + LEEWAY - 0.05
    await ws.close()


async def test_a_refresh_with_another_users_token_is_refused(
    jp_fetch: Any, jp_ws_fetch: Any, issuer: Issuer
) -> None:
    notebook_id = await alice_notebook(jp_fetch, issuer)
    async with await connect(jp_ws_fetch, notebook_id, issuer.mint()) as ws:
        assert (await ws.next())["type"] == "snapshot"
        ws.send({"type": "refresh_auth", "token": issuer.mint(sub="user_bob"), "request_id": 1})
        assert await ws.wait_closed(5) == CLOSE_AUTH_FAILED
        assert ws.close_reason == "refresh_auth token names another user"
        assert [m["type"] for m in ws.received] == ["snapshot"]  # no ack


async def test_the_operator_has_no_token_to_expire_or_refresh(
    jp_fetch: Any, jp_ws_fetch: Any, jp_serverapp: Any
) -> None:
    # The Jupyter token (jp_ws_fetch's header) still opens sockets, for the operator.
    created = await jp_fetch(*NOTEBOOKS, method="POST", body=json.dumps({"name": "op"}))
    notebook_id = json.loads(created.body)["notebook_id"]
    async with await WsClient.connect(jp_ws_fetch, notebook_id) as ws:
        assert (await ws.next())["type"] == "snapshot"
        answer = await ws.request({"type": "refresh_auth", "token": "x.y.z"})
        assert answer["type"] == "error"
        assert "not authenticated with a JWT" in answer["message"]


async def test_a_refused_query_token_is_still_refused_at_the_upgrade(
    jp_fetch: Any, jp_ws_fetch: Any, issuer: Issuer
) -> None:
    notebook_id = await alice_notebook(jp_fetch, issuer)
    with pytest.raises(HTTPClientError) as refused:
        await connect(jp_ws_fetch, notebook_id, issuer.mint(iss="https://evil.example.test"))
    assert refused.value.code == 403
    with pytest.raises(HTTPClientError) as missing:
        await connect(jp_ws_fetch, notebook_id, issuer.mint(sub="user_bob"))
    assert missing.value.code == 404
