"""``GET /reactive/health``: the one route open without credentials (for load
balancers and JupyterHub's readiness checks); it says nothing about any notebook."""

from __future__ import annotations

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .. import __version__
from .openapi import openapi_document


class HealthHandler(ExtensionHandlerMixin, APIHandler):
    auth_resource = "reactive_notebook"

    @allow_unauthenticated
    def get(self) -> None:
        self.finish({"status": "ok", "version": __version__})


class OpenAPIHandler(ExtensionHandlerMixin, APIHandler):
    """``GET /reactive/api/v1/openapi.json``: the REST API described (authenticated,
    like the API itself)."""

    auth_resource = "reactive_notebook"

    @web.authenticated
    def get(self) -> None:
        self.finish(openapi_document(self.base_url))
