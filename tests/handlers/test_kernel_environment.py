"""The environment of a notebook's kernel, started by the extension in a real server: the
server's, without what looks like a secret by its name (``kernel_env_deny``) or by its
value (a URL with a password, a key/value string with a secret), except what
``kernel_env_allow`` lets through."""

from __future__ import annotations

import ast
import copy
from typing import Any

import pytest

from .conftest import Api, payload

#: Secrets of a real deployment's environment, each missed by the old deny-list.
SECRETS = {
    "DATABASE_URL": "postgresql://app:db-pa55@db.internal:5432/app",
    "MYSQL_PWD": "mysql-pa55",
    "OPENAI_KEY": "sk-openai-key",
    "GITHUB_PAT": "ghp_personal_access",
    "SENTRY_DSN": "https://public@sentry.example/1",
    "REDIS_URL": "redis://:redis-pa55@cache.internal:6379/0",
    "HTTPS_PROXY": "http://proxy-user:proxy-pa55@proxy.internal:3128",
    "SMTP_PASS": "smtp-pa55",
    "STRIPE_SECRET_KEY": "sk_live_stripe",
    "GOOGLE_APPLICATION_CREDENTIALS": "/secrets/service-account.json",
    "AZURE_STORAGE_CONNECTION_STRING": "AccountName=a;AccountKey=azure-k3y;EndpointSuffix=x",
    "JDBC_URL": "jdbc:postgresql://db.internal/app?user=app&password=jdbc-pa55",
}
#: Ordinary variables of the same deployment: kernels keep them.
ORDINARY = {
    "DATABASE_HOST": "db.internal",
    "PIP_INDEX_URL": "https://pypi.example/simple",
    "APP_MODE": "production",
    "KEYBOARD_LAYOUT": "us",
}

READ_ENVIRONMENT = """
import os
{
    "environ": dict(os.environ),
    # The limit README's security section states: the kernel runs as the server's OS
    # user, so the server's own environment stays readable from /proc.
    "server_environ_readable": os.access(f"/proc/{os.getppid()}/environ", os.R_OK),
}
"""


@pytest.fixture
def jp_server_config(
    jp_server_config: dict[str, Any], request: pytest.FixtureRequest, monkeypatch: Any
) -> dict[str, Any]:
    """The shared config, the server's environment holding ``SECRETS`` and ``ORDINARY``;
    parametrized (indirectly) with ``ReactiveNotebook`` settings to add."""
    for name, value in {**SECRETS, **ORDINARY}.items():
        monkeypatch.setenv(name, value)
    config = copy.deepcopy(jp_server_config)
    config["ReactiveNotebook"].update(getattr(request, "param", {}))
    return config


async def kernel_view(api: Api) -> dict[str, Any]:
    """What a cell of a new notebook sees, run by the extension in its kernel."""
    notebook_id = payload(await api("POST", "notebooks", body={"name": "env"}))["notebook_id"]
    created = await api(
        "POST", "notebooks", notebook_id, "cells", body={"type": "python", "code": READ_ENVIRONMENT}
    )
    assert created.code == 201, created.body
    response = await api("POST", "notebooks", notebook_id, "run", body={"wait": True})
    (cell,) = payload(response)["cells"]
    assert cell["status"] == "success", cell
    (shown,) = [o["data"] for o in cell["outputs"] if o["mime_type"] == "text/plain"]
    seen: dict[str, Any] = ast.literal_eval(shown)
    return seen


async def test_a_kernel_gets_no_secret_of_the_servers_environment(api: Api) -> None:
    seen = await kernel_view(api)
    environ = seen["environ"]
    assert sorted(set(SECRETS) & set(environ)) == []
    for value in SECRETS.values():
        assert value not in str(environ)
    assert {name: environ.get(name) for name in ORDINARY} == ORDINARY
    for name in ("PATH", "HOME", "LANG", "PWD"):  # PWD is not a *_PWD
        assert name in environ, name
    assert seen["server_environ_readable"]  # no OS boundary: see README


@pytest.mark.parametrize(
    "jp_server_config",
    [{"kernel_env_deny": ["APP_*"], "kernel_env_allow": ["DATABASE_URL"]}],
    indirect=True,
    ids=["configured"],
)
async def test_the_deny_list_is_configurable_and_the_allow_list_wins(api: Api) -> None:
    environ = (await kernel_view(api))["environ"]
    assert "APP_MODE" not in environ  # the configured pattern
    assert environ["MYSQL_PWD"] == SECRETS["MYSQL_PWD"]  # the defaults were replaced...
    assert "REDIS_URL" not in environ  # ... but a credential in a value is always caught
    assert environ["DATABASE_URL"] == SECRETS["DATABASE_URL"]  # unless allowed
