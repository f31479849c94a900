"""Who the requests come from: checks of the server's identity provider (and, later, the
JWT identity provider and the per-user authorizer)."""
