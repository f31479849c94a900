"""Whether the server's identity provider tells users apart.

Per-user notebooks give each user a folder named after them. jupyter_server's own
providers (the token, the password login) name no one: every login, and every request
that carries the token without a cookie, is a new anonymous user with a random name
("Anonymous Io"), so each request would land in a new empty folder. A provider that names
users overrides ``get_user`` (JupyterHub's, the JWT provider, a deployment's own).
"""

from __future__ import annotations

from jupyter_server.auth.identity import IdentityProvider, LegacyIdentityProvider

#: ``get_user`` implementations that make up anonymous users.
_ANONYMOUS_GET_USER = (IdentityProvider.get_user, LegacyIdentityProvider.get_user)


def names_users(provider: IdentityProvider) -> bool:
    """False for jupyter_server's own providers, whose users are anonymous."""
    return type(provider).get_user not in _ANONYMOUS_GET_USER


PER_USER_NEEDS_NAMED_USERS = (
    "ReactiveNotebook.per_user_notebooks needs an identity provider that names each user "
    "(JupyterHub's, a JWT provider, or your own IdentityProvider whose get_user returns a "
    "stable username), but the server uses {provider}: with Jupyter's own token or "
    "password login every request is an anonymous user with a random name, so each would "
    "get a new, empty notebooks folder. Set ServerApp.identity_provider_class, or leave "
    "per_user_notebooks off (one person's server shares its notebooks with its token)."
)
