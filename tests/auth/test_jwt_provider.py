"""``JWTIdentityProvider`` in a real Jupyter server, against a real issuer on 127.0.0.1
(see conftest): which tokens get in, how the keys are fetched, and what an outage of the
issuer does."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from jupyter_server.serverapp import ServerApp
from tornado.httpclient import HTTPClientError
from traitlets import TraitError
from traitlets.config import Config

from reactive_notebook.auth import JWTIdentityProvider
from reactive_notebook.auth.jwks import MAX_DOCUMENT_BYTES, KeySet
from reactive_notebook.auth.users import JWTUser

from .conftest import Issuer

NOTEBOOKS = ("reactive", "api", "v1", "notebooks")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def status(jp_fetch: Any, token: str, *parts: str) -> int:
    response = await jp_fetch(*(parts or NOTEBOOKS), headers=bearer(token), raise_error=False)
    return int(response.code)


def provider(app: ServerApp) -> JWTIdentityProvider:
    identity = app.identity_provider
    assert isinstance(identity, JWTIdentityProvider)
    return identity


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    """A token made by hand (PyJWT refuses to make these): unsigned, or HMAC-signed."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = b""
    if secret is not None:
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def public_pem(issuer: Issuer) -> bytes:
    return (
        issuer.keys[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


async def test_a_valid_token_names_its_user(jp_fetch: Any, issuer: Issuer) -> None:
    token = issuer.mint()
    me = await jp_fetch("api", "me", headers=bearer(token))
    identity = json.loads(me.body)["identity"]
    assert identity["username"] == "user_alice"
    assert identity["name"] == identity["display_name"] == "Alice Example"
    assert await status(jp_fetch, token) == 200
    assert await status(jp_fetch, token, "api", "status") == 200
    # The EC key of the same set works too.
    assert await status(jp_fetch, issuer.mint(issuer.keys[1], sub="user_bob")) == 200


async def test_the_user_is_a_jwt_user_with_expiry_and_claims(
    jp_serverapp: ServerApp, issuer: Issuer
) -> None:
    exp = int(time.time()) + 45
    user = await provider(jp_serverapp).verify(issuer.mint(exp=exp, sub="user_carol"))
    assert isinstance(user, JWTUser)
    assert (user.username, user.expires_at, user.claims["sub"]) == ("user_carol", exp, "user_carol")


def swapped_signature(issuer: Issuer) -> str:
    """Alice's claims under the signature of a token for Mallory (same key)."""
    alice, mallory = issuer.mint(), issuer.mint(sub="user_mallory")
    return alice.rsplit(".", 1)[0] + "." + mallory.rsplit(".", 1)[1]


def _now() -> int:
    return int(time.time())


REFUSED: dict[str, Callable[[Issuer], str]] = {
    "expired": lambda i: i.mint(exp=_now() - 60, iat=_now() - 120, nbf=_now() - 120),
    "not yet valid (nbf)": lambda i: i.mint(nbf=_now() + 120),
    "issued in the future (iat)": lambda i: i.mint(iat=_now() + 120, nbf=None),
    "without exp": lambda i: i.mint(exp=None),
    "without iat": lambda i: i.mint(iat=None),
    "without sub": lambda i: i.mint(sub=None),
    "naming the operator": lambda i: i.mint(sub="jupyter-operator"),
    "alg none": lambda i: forged({"alg": "none", "typ": "JWT", "kid": "rsa-1"}, i.claims(), None),
    "HS256 signed with the public key": lambda i: forged(
        {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, i.claims(), public_pem(i)
    ),
    "wrong issuer": lambda i: i.mint(iss="https://evil.example.test"),
    "wrong audience": lambda i: i.mint(aud="another-api"),
    "no audience": lambda i: i.mint(aud=None),
    "azp not allowed": lambda i: i.mint(azp="https://evil.example.test"),
    "no azp": lambda i: i.mint(azp=None),
    "another token's signature": lambda i: swapped_signature(i),
    "signed by a key not in the set, under a listed kid": lambda i: i.mint(i.keys[2], kid="rsa-1"),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_bad_token_is_refused(jp_fetch: Any, issuer: Issuer, case: str) -> None:
    assert await status(jp_fetch, issuer.mint()) == 200  # the same server takes a good one
    token = REFUSED[case](issuer)
    assert await status(jp_fetch, token) == 403
    assert await status(jp_fetch, token, "api", "status") == 403


async def test_leeway_tolerates_a_little_clock_skew(jp_fetch: Any, issuer: Issuer) -> None:
    assert await status(jp_fetch, issuer.mint(nbf=_now() + 5, iat=_now() + 5)) == 200
    assert await status(jp_fetch, issuer.mint(exp=_now() - 5, iat=_now() - 60)) == 200


async def test_an_unknown_kid_refetches_once_per_cooldown(
    jp_fetch: Any, jp_serverapp: ServerApp, issuer: Issuer
) -> None:
    assert await status(jp_fetch, issuer.mint()) == 200
    keys = provider(jp_serverapp).keys
    fetched = issuer.requests["/jwks.json"]
    assert keys.counters.refetches == 0

    assert await status(jp_fetch, issuer.mint(kid="made-up-1")) == 403
    assert issuer.requests["/jwks.json"] == fetched + 1
    assert keys.counters.refetches == 1

    for attempt in range(5):
        assert await status(jp_fetch, issuer.mint(kid=f"made-up-{attempt + 2}")) == 403
    assert issuer.requests["/jwks.json"] == fetched + 1
    assert (keys.counters.refetches, keys.counters.refetches_skipped) == (1, 5)
    assert await status(jp_fetch, issuer.mint()) == 200


async def test_known_keys_keep_working_when_the_issuer_is_down(
    jp_fetch: Any, jp_serverapp: ServerApp, issuer: Issuer
) -> None:
    assert await status(jp_fetch, issuer.mint()) == 200
    issuer.stop()
    keys = provider(jp_serverapp).keys
    assert await status(jp_fetch, issuer.mint(kid="made-up")) == 403
    assert keys.counters.failures == 1
    assert sorted(k or "" for k in keys.kids) == ["ec-1", "rsa-1"]
    assert await status(jp_fetch, issuer.mint()) == 200
    assert await status(jp_fetch, issuer.mint(issuer.keys[1])) == 200


async def test_the_server_answers_while_a_key_fetch_hangs(
    jp_fetch: Any, jp_serverapp: ServerApp, issuer: Issuer
) -> None:
    timeout = provider(jp_serverapp).jwks_timeout
    assert await status(jp_fetch, issuer.mint()) == 200
    fetched = issuer.requests["/jwks.json"]
    issuer.hang.set()
    started = time.monotonic()
    hung = asyncio.ensure_future(status(jp_fetch, issuer.mint(kid="made-up")))
    while issuer.requests["/jwks.json"] == fetched:  # the fetch reached the issuer
        await asyncio.sleep(0.01)
    assert not hung.done()

    before = time.monotonic()
    assert await status(jp_fetch, issuer.mint(), "api", "status") == 200
    assert await status(jp_fetch, issuer.mint()) == 200
    answered = time.monotonic() - before
    assert answered < timeout / 2, f"the loop was blocked: {answered:.2f}s"
    assert not hung.done()

    assert await hung == 403
    assert time.monotonic() - started >= timeout * 0.9
    assert provider(jp_serverapp).keys.counters.failures == 1


async def test_the_jupyter_token_still_works_for_operators(jp_fetch: Any) -> None:
    # pytest-jupyter sends "Authorization: token <t>", no cookie: one user all the same.
    names = {json.loads((await jp_fetch("api", "me")).body)["identity"]["username"]}
    names.add(json.loads((await jp_fetch("api", "me")).body)["identity"]["username"])
    assert names == {"jupyter-operator"}
    response = await jp_fetch(*NOTEBOOKS, raise_error=False)
    assert response.code == 200


async def test_a_bad_jwt_does_not_fall_back_to_the_jupyter_token(
    jp_fetch: Any, jp_serverapp: ServerApp, issuer: Issuer
) -> None:
    # The Jupyter token in the URL, a bad JWT in the header: the JWT decides.
    token = provider(jp_serverapp).token
    response = await jp_fetch(
        *NOTEBOOKS,
        headers=bearer(issuer.mint(iss="https://evil.example.test")),
        params={"token": token},
        raise_error=False,
    )
    assert response.code == 403


class TestWithoutTheJupyterToken:
    @pytest.fixture
    def provider_config(self, provider_config: dict[str, Any]) -> dict[str, Any]:
        return {**provider_config, "allow_jupyter_token": False}

    async def test_the_jupyter_token_is_refused(
        self, jp_fetch: Any, jp_serverapp: ServerApp, issuer: Issuer
    ) -> None:
        token = provider(jp_serverapp).token
        assert token
        for headers in ({"Authorization": f"token {token}"}, bearer(token)):
            response = await jp_fetch(*NOTEBOOKS, headers=headers, raise_error=False)
            assert response.code == 403
        assert await status(jp_fetch, issuer.mint()) == 200


class TestKeyRotation:
    @pytest.fixture
    def provider_config(self, provider_config: dict[str, Any]) -> dict[str, Any]:
        return {**provider_config, "jwks_refetch_cooldown": 0.2}

    async def test_new_keys_work_after_a_refetch_old_ones_until_dropped(
        self, jp_fetch: Any, issuer: Issuer
    ) -> None:
        old, ec, new = issuer.keys
        assert await status(jp_fetch, issuer.mint(old)) == 200
        assert await status(jp_fetch, issuer.mint(new)) == 403  # not published yet

        await asyncio.sleep(0.25)
        issuer.served = [new, old]  # the issuer publishes the new key next to the old
        assert await status(jp_fetch, issuer.mint(new)) == 200
        assert await status(jp_fetch, issuer.mint(old)) == 200

        issuer.served = [new]  # then drops the old ones
        assert await status(jp_fetch, issuer.mint(old)) == 200  # the set is not refetched
        await asyncio.sleep(0.25)
        assert await status(jp_fetch, issuer.mint(ec)) == 403  # an unknown kid: refetch
        assert await status(jp_fetch, issuer.mint(old)) == 403
        assert await status(jp_fetch, issuer.mint(new)) == 200


class TestDiscovery:
    @pytest.fixture
    def provider_config(self, provider_config: dict[str, Any], issuer: Issuer) -> dict[str, Any]:
        config = {**provider_config, "oidc_discovery_url": issuer.discovery_url}
        del config["jwks_url"]
        return config

    async def test_keys_come_from_the_discovery_document(
        self, jp_fetch: Any, issuer: Issuer
    ) -> None:
        assert await status(jp_fetch, issuer.mint()) == 200
        assert issuer.requests["/.well-known/openid-configuration"] >= 1
        assert issuer.requests["/jwks.json"] >= 1


async def test_a_discovery_document_for_another_issuer_gives_no_keys(issuer: Issuer) -> None:
    keys = KeySet(issuer="https://other.example.test", discovery_url=issuer.discovery_url)
    await keys.warm()
    assert await keys.get("rsa-1") is None
    assert keys.counters.failures == 2
    assert "/jwks.json" not in issuer.requests


async def test_an_oversized_key_set_is_a_failed_fetch_and_the_last_good_set_stays(
    issuer: Issuer,
) -> None:
    keys = KeySet(issuer=issuer.url, jwks_url=issuer.jwks_url, refetch_cooldown=0)
    await keys.warm()
    assert sorted(k or "" for k in keys.kids) == ["ec-1", "rsa-1"]

    issuer.served = issuer.keys  # rotated, in a key set over the cap
    issuer.padding = MAX_DOCUMENT_BYTES
    assert await keys.get("rsa-2") is None
    assert issuer.requests["/jwks.json"] == 2  # it was asked, and answered
    assert keys.counters.failures == 1
    assert sorted(k or "" for k in keys.kids) == ["ec-1", "rsa-1"]
    assert await keys.get("rsa-1") is not None

    issuer.padding = MAX_DOCUMENT_BYTES - 4096  # just under the cap: read in full
    assert await keys.get("rsa-2") is not None
    assert keys.counters.failures == 1


async def test_an_oversized_discovery_document_gives_no_keys(issuer: Issuer) -> None:
    issuer.padding = MAX_DOCUMENT_BYTES
    keys = KeySet(issuer=issuer.url, discovery_url=issuer.discovery_url)
    await keys.warm()
    assert keys.counters.failures == 1
    assert keys.kids == []
    assert "/jwks.json" not in issuer.requests


async def test_keys_are_warmed_at_server_start(jp_serverapp: ServerApp, issuer: Issuer) -> None:
    # Wait for the warm-up's end, not for its request: the answer is read after that.
    counters = provider(jp_serverapp).keys.counters
    deadline = time.monotonic() + 5
    while not (counters.fetches or counters.failures) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert (counters.fetches, counters.failures) == (1, 0)
    assert issuer.requests.get("/jwks.json") == 1
    assert sorted(k or "" for k in provider(jp_serverapp).keys.kids) == ["ec-1", "rsa-1"]


@pytest.mark.parametrize(
    ("traits", "message"),
    [
        ({"algorithms": ["HS256"]}, "refused"),
        ({"algorithms": ["RS256", "none"]}, "refused"),
        ({"algorithms": []}, "refused"),
        ({"issuer": ""}, "issuer is required"),
        ({"jwks_url": ""}, "jwks_url or oidc_discovery_url"),
        ({"jwks_url": "http://keys.example.test/jwks.json"}, "https"),
    ],
)
def test_unsafe_settings_are_refused(
    provider_config: dict[str, Any], traits: dict[str, Any], message: str
) -> None:
    config = Config({"JWTIdentityProvider": {**provider_config, **traits}})
    with pytest.raises((TraitError, ValueError), match=message):
        JWTIdentityProvider(config=config)


def test_the_server_refuses_to_start_without_an_issuer(
    jp_configurable_serverapp: Any,
    jp_server_config: dict[str, Any],
    caplog: Any,
    capfd: Any,
) -> None:
    config = Config(jp_server_config)
    config.JWTIdentityProvider.issuer = ""
    with pytest.raises(SystemExit):
        jp_configurable_serverapp(config=config)
    logged = caplog.text + capfd.readouterr().err
    assert "JWTIdentityProvider.issuer is required" in logged


async def ws_refusal(jp_ws_fetch: Any, token: str) -> int:
    """The HTTP status a notebook WebSocket's upgrade gets with ``?token=`` (browsers
    cannot set headers on a WebSocket) and no ``Authorization`` header."""
    with pytest.raises(HTTPClientError) as refused:
        await jp_ws_fetch(
            *NOTEBOOKS,
            "no-such-notebook",
            "ws",
            headers={"Authorization": ""},
            params={"token": token},
        )
    return int(refused.value.code)


async def test_a_websocket_takes_the_token_from_the_query(jp_ws_fetch: Any, issuer: Issuer) -> None:
    # Past authentication, the notebook does not exist: 404; a bad token stops at 403.
    assert await ws_refusal(jp_ws_fetch, issuer.mint()) == 404
    assert await ws_refusal(jp_ws_fetch, issuer.mint(iss="https://evil.example.test")) == 403


async def test_a_plain_request_does_not_take_a_jwt_from_the_query(
    jp_fetch: Any, issuer: Issuer
) -> None:
    response = await jp_fetch(
        *NOTEBOOKS,
        headers={"Authorization": ""},
        params={"token": issuer.mint()},
        raise_error=False,
    )
    assert response.code == 403


class TestPeriodicRefresh:
    @pytest.fixture
    def provider_config(self, provider_config: dict[str, Any]) -> dict[str, Any]:
        return {**provider_config, "jwks_max_age": 0.2}

    async def test_an_old_key_set_is_refreshed_in_the_background(
        self, jp_fetch: Any, jp_serverapp: ServerApp, issuer: Issuer
    ) -> None:
        old, _, new = issuer.keys
        assert await status(jp_fetch, issuer.mint(old)) == 200
        counters = provider(jp_serverapp).keys.counters
        fetched, done = issuer.requests["/jwks.json"], counters.fetches
        issuer.served = [new]  # the issuer drops the old key
        await asyncio.sleep(0.3)
        # The old set still answers this request, and a refresh starts behind it.
        assert await status(jp_fetch, issuer.mint(old)) == 200
        deadline = time.monotonic() + 5
        while counters.fetches == done and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert issuer.requests["/jwks.json"] == fetched + 1
        assert counters.fetches == done + 1
        assert await status(jp_fetch, issuer.mint(old)) == 403
        assert await status(jp_fetch, issuer.mint(new)) == 200


async def test_a_refusal_logs_its_reason_never_the_token(
    jp_fetch: Any, issuer: Issuer, caplog: Any
) -> None:
    token = issuer.mint(azp="https://evil.example.test")
    with caplog.at_level("INFO"):
        assert await status(jp_fetch, token) == 403
    refusals = [r.getMessage() for r in caplog.records if "JWT refused" in r.getMessage()]
    assert len(refusals) == 1
    assert "azp 'https://evil.example.test' is not an authorized party" in refusals[0]
    assert all(token not in r.getMessage() for r in caplog.records)
    assert all(token.split(".")[2] not in r.getMessage() for r in caplog.records)
