"""``JWTIdentityProvider``: API users named by JWTs their issuer signed (Clerk, any OIDC
provider), with the Jupyter token still open to operators unless turned off.

Select it with ``ServerApp.identity_provider_class``; configure it as
``c.JWTIdentityProvider.<trait>``. A request with ``Authorization: Bearer <jwt>`` (or, on
a WebSocket upgrade, which browsers cannot give headers, ``?token=<jwt>``) is verified
against the issuer's keys (``jwks.KeySet``) and becomes a ``JWTUser``; a JWT that fails
any check is refused (``None``: the handler answers 403) with the reason logged at info
level, never the token. A token that is not a JWT goes to Jupyter's token/cookie check
only when ``allow_jupyter_token`` is on.

A notebook WebSocket may also be opened with no credential and authenticated by its
first message, ``{"type": "auth", "token": "<jwt>"}`` (no token in URLs and proxy logs);
its JWT's expiry closes it unless ``refresh_auth`` renews it: see
``reactive_notebook.handlers.ws_auth`` and docs/websocket.md.
"""

from __future__ import annotations

import hmac
import re
import typing as t

import jwt
from jupyter_server.auth.identity import IdentityProvider, User
from tornado import web
from traitlets import Bool, Float, Int, List, TraitError, Unicode, validate

from .authorizer import serves_api_users
from .jwks import KeySet, check_key_url
from .users import JWTUser

#: Algorithms a verifier may accept: public-key signatures only. ``none`` and the HMAC
#: family are refused (HS256 "signed" with a public key's PEM as the secret is the
#: classic forgery).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_BEARER = re.compile(r"bearer\s+(\S+)\s*$", re.IGNORECASE)


def looks_like_jwt(candidate: str) -> bool:
    """Three dot-separated parts whose first decodes as a JOSE header with an ``alg``."""
    if candidate.count(".") != 2:
        return False
    try:
        header = jwt.get_unverified_header(candidate)
    except jwt.PyJWTError:
        return False
    return "alg" in header


class JWTRefused(Exception):
    """A JWT failed a check; the text says which (it never contains the token)."""


class JWTIdentityProvider(IdentityProvider):
    """Users named by JWTs an OIDC provider (Clerk, Auth0, Keycloak, Cognito...) signed."""

    oidc_discovery_url = Unicode(
        "",
        config=True,
        help="""The issuer's OpenID Connect discovery document, usually
        ``<issuer>/.well-known/openid-configuration``: its ``jwks_uri`` gives the keys, and its
        ``issuer`` must equal ``issuer``. Set this or ``jwks_url``.""",
    )
    jwks_url = Unicode(
        "",
        config=True,
        help="""The issuer's JSON Web Key Set, e.g. Clerk's
        ``https://<frontend-api>/.well-known/jwks.json``. Set this or ``oidc_discovery_url``
        (this one wins if both are set). https:// only (http:// on localhost).""",
    )
    issuer = Unicode(
        "",
        config=True,
        help="""Required: the exact ``iss`` of accepted tokens (Clerk: the Frontend API URL,
        e.g. ``https://clerk.example.com``). The server refuses to start without it.""",
    )
    audience = List(
        Unicode(),
        default_value=[],
        config=True,
        help="""Accepted ``aud`` values. Empty (the default): ``aud`` is not checked. Set it
        when the issuer mints tokens for several APIs: a token must then carry one of these.""",
    )
    authorized_parties = List(
        Unicode(),
        default_value=[],
        config=True,
        help="""Accepted ``azp`` values (Clerk puts the origin of the page that minted the
        token there, e.g. ``https://app.example.com``). Empty (the default): ``azp`` is not
        checked. When set, a token whose ``azp`` is missing or not listed is refused.""",
    )
    algorithms = List(
        Unicode(),
        default_value=["RS256", "ES256"],
        config=True,
        help="""Signature algorithms accepted. Public-key algorithms only: ``none`` and
        HS256/384/512 make the server refuse to start.""",
    )
    required_claims = List(
        Unicode(),
        default_value=["exp", "iat", "sub"],
        config=True,
        help="""Claims a token must carry. ``exp`` is always required (a token without one
        would be valid forever); ``username_claim`` is always required too.""",
    )
    leeway = Float(
        10.0,
        config=True,
        help="""Seconds of clock difference tolerated on ``exp``, ``nbf`` and ``iat``. 10 s
        covers a drifting VM clock while adding little to short-lived tokens (Clerk's last
        60 s; Clerk's own verifier allows 5 s).""",
    )
    username_claim = Unicode(
        "sub",
        config=True,
        help="""The claim that names the user (their ``username``: notebooks' owner, the
        per-user folder). ``sub`` is stable; an email can change.""",
    )
    name_claim = Unicode(
        "name",
        config=True,
        help="The claim for the user's ``name`` (missing: the username).",
    )
    display_name_claim = Unicode(
        "name",
        config=True,
        help="The claim for the user's ``display_name`` (missing: the name).",
    )
    allow_jupyter_token = Bool(
        True,
        config=True,
        help="""Whether the Jupyter token (and the login cookie it gives) still lets
        operators in, as plain (non-JWT) users with every permission. False: only JWTs.""",
    )
    operator_username = Unicode(
        "jupyter-operator",
        config=True,
        help="""The username of whoever comes in with the Jupyter token (jupyter_server
        would make up a new anonymous user per request, so per-user notebooks would land in
        a new folder each time). A JWT naming this user is refused.""",
    )
    jwks_timeout = Float(
        5.0,
        config=True,
        help="Seconds a fetch of the discovery document or key set may take.",
    )
    jwks_refetch_cooldown = Float(
        60.0,
        config=True,
        help="""Seconds after a refetch caused by an unknown ``kid`` before another unknown
        ``kid`` may cause one (tokens with made-up kids cannot flood the issuer).""",
    )
    jwks_max_age = Float(
        3600.0,
        config=True,
        help="""Seconds after which the key set is refreshed in the background (keys the
        issuer dropped stop working then); the old set serves meanwhile.""",
    )

    websocket_auth_timeout = Float(
        10.0,
        config=True,
        help="""Seconds a notebook WebSocket opened without a credential has to send its
        ``auth`` message (with the JWT) before it is closed (code 4403).""",
    )

    websocket_max_pending = Int(
        256,
        config=True,
        help="""At most this many notebook WebSockets may wait for their ``auth`` message at
        once; beyond it an upgrade without a credential is refused (503, Retry-After), so
        unauthenticated sockets cannot pile up. 0: none may wait (a token in the upgrade
        request is then required).""",
    )

    @validate("algorithms")
    def _check_algorithms(self, proposal: t.Any) -> list[str]:
        algorithms = list(proposal["value"])
        refused = [name for name in algorithms if name not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise TraitError(
                f"JWTIdentityProvider.algorithms: {refused or 'empty'} refused; allowed are"
                f" public-key algorithms only: {sorted(ASYMMETRIC_ALGORITHMS)}"
                " (never 'none', never HMAC with a public key)"
            )
        return algorithms

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        #: The notebook WebSockets now waiting for their ``auth`` message (``ws_auth``).
        self.pending_websockets: set[t.Any] = set()
        if not self.issuer:
            raise TraitError(
                "JWTIdentityProvider.issuer is required (the exact 'iss' of accepted tokens):"
                " without it any token signed by the keys would be accepted"
            )
        if not (self.jwks_url or self.oidc_discovery_url):
            raise TraitError("JWTIdentityProvider needs jwks_url or oidc_discovery_url")
        for name in ("jwks_url", "oidc_discovery_url"):
            if getattr(self, name):
                check_key_url(getattr(self, name), f"JWTIdentityProvider.{name}")
        self.keys = KeySet(
            issuer=self.issuer,
            jwks_url=self.jwks_url,
            discovery_url="" if self.jwks_url else self.oidc_discovery_url,
            timeout=self.jwks_timeout,
            refetch_cooldown=self.jwks_refetch_cooldown,
            max_age=self.jwks_max_age,
            log=self.log,
        )

    # --- startup -------------------------------------------------------------------------

    def validate_security(self, app: t.Any, ssl_options: dict[str, t.Any] | None = None) -> None:
        """Called once by ``ServerApp.init_webapp``, the provider's only startup hook: the
        keys are fetched as soon as the loop runs (lazily on first use otherwise)."""
        super().validate_security(app, ssl_options)
        io_loop = getattr(app, "io_loop", None)
        if io_loop is not None:
            io_loop.add_callback(self.warm)

    async def warm(self) -> None:
        """Fetch the keys now (never raises; a failure is logged)."""
        await self.keys.warm()

    # --- who is asking ---------------------------------------------------------------------

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        current = getattr(handler, "_jupyter_current_user", None)
        if current:
            return t.cast(User, current)
        candidate = self.bearer_token(handler)
        if candidate is not None and looks_like_jwt(candidate):
            try:
                user = await self.verify(candidate)
            except JWTRefused as refusal:
                self.log.info(
                    "JWT refused for %s %s from %s: %s",
                    handler.request.method,
                    handler.request.path,
                    handler.request.remote_ip,
                    refusal,
                )
                return None
            if not serves_api_users(handler):
                self.log.info(
                    "JWT user %s refused %s %s: API users have the reactive API only",
                    user.username,
                    handler.request.method,
                    handler.request.path,
                )
                return None
            # Like the Jupyter token: an explicit credential, no login cookie (it would
            # outlive the token), no XSRF check (browsers never add it by themselves).
            handler._token_authenticated = True  # type: ignore[attr-defined]
            return user
        if not self.allow_jupyter_token:
            if candidate is not None:
                self.log.info("Refused a non-JWT bearer token (allow_jupyter_token is off)")
            return None
        return await self._get_user(handler)

    def bearer_token(self, handler: web.RequestHandler) -> str | None:
        """``Authorization: Bearer <t>``; on a WebSocket upgrade also ``?token=<t>``."""
        match = _BEARER.match(handler.request.headers.get("Authorization", ""))
        if match:
            return match.group(1)
        if handler.request.headers.get("Upgrade", "").lower() == "websocket":
            token = handler.get_argument("token", "")
            return token or None
        return None

    async def get_user_token(self, handler: web.RequestHandler) -> User | None:
        """The base check with a constant-time comparison, and never for a JWT."""
        token = t.cast("str | None", getattr(handler, "token", None))
        if not token or not self.allow_jupyter_token:
            return None
        given = self.get_token(handler)
        if not given or looks_like_jwt(given):
            return None
        if not hmac.compare_digest(given.encode(), token.encode()):
            return None
        user = self.get_user_cookie(handler)
        if isinstance(user, t.Awaitable):
            user = await user
        return user or self.generate_anonymous_user(handler)

    def get_user_cookie(
        self, handler: web.RequestHandler
    ) -> User | t.Awaitable[User | None] | None:
        # Login cookies come only from the Jupyter token (JWT requests never set one).
        if not self.allow_jupyter_token:
            return None
        return super().get_user_cookie(handler)

    def generate_anonymous_user(self, handler: web.RequestHandler) -> User:
        """The operator, the same user for every request with the Jupyter token."""
        return User(username=self.operator_username, name="Operator", display_name="Operator")

    def process_login_form(self, handler: web.RequestHandler) -> User | None:
        if not self.allow_jupyter_token:
            return None
        return super().process_login_form(handler)

    # --- the checks ------------------------------------------------------------------------

    async def verify(self, token: str) -> JWTUser:
        """The user a JWT names, or ``JWTRefused`` with the reason."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise JWTRefused(f"unreadable header: {error}") from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise JWTRefused(f"algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise JWTRefused("kid is not a string")
        key = await self.keys.get(kid)
        if key is None:
            raise JWTRefused(f"no key with kid {kid!r}")
        required = sorted({*self.required_claims, "exp", self.username_claim})
        try:
            claims: dict[str, t.Any] = jwt.decode(
                token,
                key=key,
                algorithms=list(self.algorithms),
                issuer=self.issuer,
                audience=list(self.audience) or None,
                leeway=self.leeway,
                options={"require": required, "verify_aud": bool(self.audience)},
            )
        except jwt.PyJWTError as error:
            raise JWTRefused(f"{type(error).__name__}: {error}") from None
        if self.authorized_parties and claims.get("azp") not in self.authorized_parties:
            raise JWTRefused(f"azp {claims.get('azp')!r} is not an authorized party")
        username = claims.get(self.username_claim)
        if not isinstance(username, str) or not username:
            raise JWTRefused(f"claim {self.username_claim!r} is not a non-empty string")
        if username == self.operator_username:
            raise JWTRefused(f"{self.username_claim} names the operator ({username!r})")
        return JWTUser(
            username=username,
            name=_text(claims.get(self.name_claim)),
            display_name=_text(claims.get(self.display_name_claim)),
            expires_at=float(claims["exp"]),
            claims=claims,
        )


def _text(value: t.Any) -> str:
    return value if isinstance(value, str) else ""
