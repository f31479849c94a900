"""``GET /reactive/api/v1/capabilities``: what the server offers (the chat, so far), so
the JupyterLab extension can say what is missing instead of failing later."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import ReactiveHandler


class CapabilitiesHandler(ReactiveHandler):
    auth_resource = "contents"

    @web.authenticated
    @authorized
    def get(self) -> None:
        self.reply(self.context.capabilities.describe())
