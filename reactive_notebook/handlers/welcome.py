"""``POST /reactive/api/v1/welcome``: the caller's first visit, as JupyterLab's extension
reports it once when it starts (a listing of notebooks does the same for API clients):
their welcome notebook is made if they are new (:mod:`..notebooks.welcome`)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import ReactiveHandler


class WelcomeHandler(ReactiveHandler):
    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def post(self) -> None:
        welcome = await self.welcome()
        self.reply({**welcome.describe(), "created": welcome.created, "made_now": welcome.made_now})
