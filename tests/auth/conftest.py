"""An issuer on 127.0.0.1 (its JWK Set and OIDC discovery document, served by a real HTTP
server in a thread, with test RSA and EC keys) and a real Jupyter server whose identity
provider is ``JWTIdentityProvider`` pointed at it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "reactive-api"
PARTY = "https://app.example.test"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    def jwk(self) -> dict[str, Any]:
        to_jwk = RSAAlgorithm.to_jwk if self.algorithm.startswith("RS") else ECAlgorithm.to_jwk
        data = to_jwk(self.private.public_key(), as_dict=True)
        return {**data, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


@dataclass
class Issuer:
    """The identity provider's side: keys, the JWK Set it serves, tokens it mints."""

    url: str
    keys: list[SigningKey]
    #: GET requests by path.
    requests: dict[str, int] = field(default_factory=dict)
    #: The keys the JWK Set lists (rotation: change it).
    served: list[SigningKey] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    #: Set: the server accepts requests and answers none (until ``release`` is set).
    hang: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    #: Bytes of filler added to every document served (an oversized answer: set it).
    padding: int = 0

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks.json"

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": "user_alice",
            "aud": AUDIENCE,
            "azp": PARTY,
            "iat": now,
            "nbf": now,
            "exp": now + 60,
            "name": "Alice Example",
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def mint(self, key: SigningKey | None = None, *, kid: str | None = None, **claims: Any) -> str:
        key = key or self.keys[0]
        return jwt.encode(
            self.claims(**claims),
            key.private,
            algorithm=key.algorithm,
            headers={"kid": kid if kid is not None else key.kid},
        )

    def stop(self) -> None:
        """Stop serving: connections are refused from now on."""
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def serve(issuer: Issuer) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.requests[self.path] = issuer.requests.get(self.path, 0) + 1
            if issuer.hang.is_set():
                issuer.release.wait(30)
                return
            if self.path == "/jwks.json":
                body: dict[str, Any] = {"keys": [key.jwk() for key in issuer.served]}
            elif self.path == "/.well-known/openid-configuration":
                body = {"issuer": issuer.url, "jwks_uri": issuer.jwks_url}
            else:
                self.send_error(404)
                return
            if issuer.padding:
                body["x-filler"] = "x" * issuer.padding
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    issuer.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()


@pytest.fixture(scope="session")
def signing_keys() -> list[SigningKey]:
    """RSA ``rsa-1``, EC ``ec-1`` (served from the start) and RSA ``rsa-2`` (rotation)."""
    return [rsa_key("rsa-1"), ec_key("ec-1"), rsa_key("rsa-2")]


@pytest.fixture
def issuer(signing_keys: list[SigningKey]) -> Iterator[Issuer]:
    issuer = Issuer(url="", keys=signing_keys, served=signing_keys[:2])
    serve(issuer)
    yield issuer
    issuer.stop()


@pytest.fixture
def provider_config(issuer: Issuer) -> dict[str, Any]:
    """``JWTIdentityProvider``'s traits; tests change them before the server starts."""
    return {
        "jwks_url": issuer.jwks_url,
        "issuer": issuer.url,
        "audience": [AUDIENCE],
        "authorized_parties": [PARTY],
        "jwks_timeout": 1.0,
        "jwks_refetch_cooldown": 60.0,
    }


@pytest.fixture
def jp_server_config(provider_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"reactive_notebook": True, "jupyter_server_terminals": False},
            "identity_provider_class": "reactive_notebook.auth.JWTIdentityProvider",
            "allow_unauthenticated_access": False,
        },
        "JWTIdentityProvider": provider_config,
    }
