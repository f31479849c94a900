"""Shared test setup: pytest-jupyter's server fixtures (a real ``jupyter server``) and a
throwaway PostgreSQL server (``tests/postgres.py``), started the first time a test of
the session asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import postgres as pg

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.PostgresServer]:
    """A PostgreSQL server on 127.0.0.1 for the session, with the role ``reactive``
    (password auth) owning the database ``reactive_test``. The suite needs it: when it
    cannot be found or started the tests that use it fail, saying why."""
    try:
        server = pg.start()
    except pg.PostgresUnavailable as error:
        unavailable = str(error)
    else:
        unavailable = ""
    if unavailable:
        pytest.fail(f"no PostgreSQL server for the tests: {unavailable}", pytrace=False)
    try:
        yield server
    finally:
        pg.stop(server.directory)


@pytest.fixture(scope="session")
def postgres_url(postgres: pg.PostgresServer) -> str:
    """``postgresql+psycopg://reactive:<password>@127.0.0.1:<port>/reactive_test``"""
    return postgres.url
