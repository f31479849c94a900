"""Who the requests come from: checks of the server's identity provider, the JWT
identity provider (``JWTIdentityProvider``) and the per-user authorizer."""

from .jwt_provider import JWTIdentityProvider

__all__ = ["JWTIdentityProvider"]
