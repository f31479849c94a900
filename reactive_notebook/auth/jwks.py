"""The issuer's signing keys (a JWK Set), fetched without blocking the server.

PyJWT's ``PyJWKClient`` does the same job but blocks the event loop (``urlopen`` with a
30 s timeout), wipes its cache when a fetch fails, and refetches on every unknown ``kid``
(pitfalls.md, "JWT"). ``KeySet`` fetches with tornado's ``AsyncHTTPClient`` and a short
timeout, keeps the last good set whatever happens to a later fetch, lets an unknown
``kid`` trigger at most one refetch per cooldown, and shares one fetch between the
requests that wait for it. The counters are there for tests and for operators' logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

#: The most bytes read of a discovery document or a JWK Set. Real ones are a few KB
#: (Clerk's key set ~0.5 KB, Google's ~2 KB, Microsoft's ~10 KB); the cap keeps a broken
#: or hostile endpoint from filling the server's memory. A bigger answer is a failed fetch
#: (the last good set stays).
MAX_DOCUMENT_BYTES = 1024 * 1024

#: Hosts for which plain ``http://`` key URLs are allowed (a local issuer, tests).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class KeySetError(Exception):
    """A fetch of the discovery document or of the key set failed (the reason is the text)."""


def check_key_url(url: str, what: str) -> None:
    """Keys decide who is who: refuse any URL but ``https://`` (``http://`` on loopback)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ValueError(f"{what} must be an https:// URL (http:// only on localhost), got {url!r}")


@dataclass
class KeySetCounters:
    """What the key set did since it was made."""

    #: Successful fetches of the key set (warm-up, refreshes and refetches alike).
    fetches: int = 0
    #: Fetches that failed (timeout, HTTP error, not a key set); the last good set stays.
    failures: int = 0
    #: Fetches an unknown ``kid`` caused.
    refetches: int = 0
    #: Unknown ``kid`` s that found the cooldown running and caused no fetch.
    refetches_skipped: int = 0


class KeySet:
    """The verification keys of one issuer, by ``kid``.

    ``jwks_url`` is used as is; with ``discovery_url`` instead, the OIDC discovery document
    names the ``jwks_uri`` and must name ``issuer`` as its issuer.
    """

    def __init__(
        self,
        *,
        issuer: str,
        jwks_url: str = "",
        discovery_url: str = "",
        timeout: float = 5.0,
        refetch_cooldown: float = 60.0,
        max_age: float = 3600.0,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        log: logging.Logger | logging.LoggerAdapter[Any] | None = None,
    ) -> None:
        if not (jwks_url or discovery_url):
            raise ValueError("a key set needs jwks_url or discovery_url")
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.discovery_url = discovery_url
        self.timeout = timeout
        self.refetch_cooldown = refetch_cooldown
        self.max_age = max_age
        self.max_bytes = max_bytes
        self.log = log or logging.getLogger(__name__)
        self.counters = KeySetCounters()
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._last_refetch: float | None = None
        self._warmed = False
        self._inflight: asyncio.Future[None] | None = None
        self._background: asyncio.Future[None] | None = None

    @property
    def kids(self) -> list[str | None]:
        return list(self._keys)

    async def warm(self) -> None:
        """Fetch the keys once (at server start, or on first use); never raises: a
        failure is logged and counted, and the next unknown ``kid`` tries again."""
        self._warmed = True
        try:
            await self._fetch()
        except KeySetError as error:
            self.log.warning("JWT keys: warm-up fetch failed: %s", error)

    async def get(self, kid: str | None) -> jwt.PyJWK | None:
        """The key named ``kid`` (with no ``kid``, the only key of a one-key set), or None.

        A ``kid`` not in the set refetches the set, at most once per ``refetch_cooldown``;
        a set older than ``max_age`` is refreshed in the background while it keeps serving.
        """
        if not self._warmed:
            await self.warm()
        key = self._lookup(kid)
        if key is not None:
            if self._fetched_at is not None and time.monotonic() - self._fetched_at > self.max_age:
                self._refresh_in_background()
            return key
        if self._inflight is not None:
            # A fetch under way (the warm-up, a refresh) may bring it: not a refetch of ours.
            with contextlib.suppress(KeySetError):
                await asyncio.shield(self._inflight)
            key = self._lookup(kid)
            if key is not None:
                return key
        now = time.monotonic()
        if self._last_refetch is not None and now - self._last_refetch < self.refetch_cooldown:
            self.counters.refetches_skipped += 1
            return None
        self._last_refetch = now
        self.counters.refetches += 1
        try:
            await self._fetch()
        except KeySetError as error:
            self.log.warning("JWT keys: refetch for an unknown kid failed: %s", error)
            return None
        return self._lookup(kid)

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _refresh_in_background(self) -> None:
        if self._inflight is not None:
            return

        async def refresh() -> None:
            try:
                await self._fetch()
            except KeySetError as error:
                self.log.warning("JWT keys: periodic refresh failed: %s", error)

        # Held, or the loop may drop the task before it runs.
        self._background = asyncio.ensure_future(refresh())

    async def _fetch(self) -> None:
        """One fetch at a time: callers that arrive meanwhile wait for the same one."""
        if self._inflight is not None:
            await asyncio.shield(self._inflight)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight = future
        try:
            await self._do_fetch()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(None)
        finally:
            self._inflight = None

    async def _do_fetch(self) -> None:
        try:
            url = self.jwks_url or await self._discover()
            data = await self._get_json(url)
            keys = _parse_key_set(data)
        except KeySetError:
            self.counters.failures += 1
            raise
        self._keys = keys
        self._fetched_at = time.monotonic()
        self.counters.fetches += 1
        self.log.debug("JWT keys: %d key(s) from %s", len(keys), url)

    async def _discover(self) -> str:
        document = await self._get_json(self.discovery_url)
        if document.get("issuer") != self.issuer:
            raise KeySetError(
                f"the discovery document names issuer {document.get('issuer')!r},"
                f" not the configured {self.issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise KeySetError("the discovery document has no jwks_uri")
        try:
            check_key_url(jwks_uri, "jwks_uri")
        except ValueError as error:
            raise KeySetError(str(error)) from None
        return jwks_uri

    async def _get_json(self, url: str) -> dict[str, Any]:
        body = bytearray()

        def read(chunk: bytes) -> None:
            # Streamed, so that no more than the cap (and one chunk) is ever held.
            body.extend(chunk)
            if len(body) > self.max_bytes:
                raise _TooLarge()

        request = HTTPRequest(
            url,
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
            follow_redirects=False,
            headers={"Accept": "application/json"},
            streaming_callback=read,
        )
        try:
            await AsyncHTTPClient().fetch(request)
            data = json.loads(bytes(body))
        except _TooLarge:
            raise KeySetError(f"GET {url}: the answer is over {self.max_bytes} bytes") from None
        except Exception as error:  # timeouts, refused connections, HTTP errors, bad JSON
            raise KeySetError(f"GET {url}: {type(error).__name__}: {error}") from None
        if not isinstance(data, dict):
            raise KeySetError(f"GET {url}: not a JSON object")
        return data


class _TooLarge(Exception):
    """Raised from the streaming callback: the fetch stops and fails with it."""


def _parse_key_set(data: dict[str, Any]) -> dict[str | None, jwt.PyJWK]:
    """The usable signing keys of a JWK Set; none usable is a failed fetch (the last
    good set stays), not an empty set that would lock everyone out."""
    try:
        key_set = jwt.PyJWKSet.from_dict(data)
    except jwt.PyJWTError as error:
        raise KeySetError(f"not a usable JWK Set: {error}") from None
    keys = {
        key.key_id: key
        for key in key_set.keys
        if key.public_key_use in (None, "sig") and not key.algorithm_name.startswith("HS")
    }
    if not keys:
        raise KeySetError("the JWK Set has no public signing key")
    return keys
