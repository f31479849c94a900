"""``ReactiveNotebook.sql_allowed_hosts`` against a real PostgreSQL server on 127.0.0.1:
every way libpq takes a host or an address is checked before connecting (the query's
``hostaddr``, libpq's fallbacks to ``PGHOST``/``PGHOSTADDR``, service files), and each
of these connected to 127.0.0.1 before, although the server allowed only another host."""

from __future__ import annotations

import os
from pathlib import Path

from reactive_notebook.notebooks.sql_cells import SqlOptions
from tests.notebooks.harness import Harness, scenario
from tests.postgres import PostgresServer

from .helpers import failed, ok, records

ALLOWED = "allowed.invalid"  # a name that resolves nowhere: only an address reaches a server
TRAIT = "(ReactiveNotebook.sql_allowed_hosts)"


def url(server: PostgresServer, authority: str, query: str = "") -> str:
    """A SQLAlchemy URL of the test server's database with another host part."""
    credentials = f"{server.user}:{server.password}"
    return f"postgresql+psycopg://{credentials}@{authority}/{server.dbname}{query}"


def service_file(folder: Path, server: PostgresServer) -> Path:
    """A libpq service file whose service ``local`` is the test server."""
    path = folder / "pg_service.conf"
    path.write_text(f"[local]\nhost={server.host}\nport={server.port}\n")
    return path


async def refused(h: Harness, cell_id: str, connection: str) -> str:
    """The error of running ``cell_id`` on ``connection`` (which must fail)."""
    await h.connect(connection)
    await h.run(cell_id)
    return await failed(h, cell_id)


@scenario(sql=SqlOptions(allowed_hosts=(ALLOWED,)))
async def test_an_address_given_as_hostaddr_is_checked(
    h: Harness, postgres: PostgresServer
) -> None:
    await h.new()
    query = await h.add_sql("SELECT host(inet_server_addr()) AS addr")
    error = await refused(
        h, query, url(postgres, f"{ALLOWED}:{postgres.port}", f"?hostaddr={postgres.host}")
    )
    assert error == (
        f"SQLError: SQL cells may not connect to '{postgres.host}' (hostaddr): "
        f"the server allows only {ALLOWED} {TRAIT}"
    )


@scenario(sql=SqlOptions(allowed_hosts=(ALLOWED,)))
async def test_the_address_libpq_takes_from_pghostaddr_is_checked(
    h: Harness, postgres: PostgresServer
) -> None:
    h.configure_kernels({**os.environ, "PGHOSTADDR": postgres.host})
    await h.new()
    query = await h.add_sql("SELECT host(inet_server_addr()) AS addr")
    error = await refused(h, query, url(postgres, f"{ALLOWED}:{postgres.port}"))
    assert error == (
        f"SQLError: SQL cells may not connect to '{postgres.host}' (PGHOSTADDR in the "
        f"kernel's environment): the server allows only {ALLOWED} {TRAIT}"
    )


@scenario(sql=SqlOptions(allowed_hosts=("localhost",)))
async def test_without_a_host_the_one_libpq_takes_from_pghost_is_checked(
    h: Harness, postgres: PostgresServer
) -> None:
    h.configure_kernels({**os.environ, "PGHOST": postgres.host})
    await h.new()
    query = await h.add_sql("SELECT host(inet_server_addr()) AS addr")
    error = await refused(h, query, url(postgres, "", f"?port={postgres.port}"))
    assert error == (
        f"SQLError: SQL cells may not connect to '{postgres.host}' (PGHOST in the "
        f"kernel's environment): the server allows only localhost {TRAIT}"
    )


@scenario(sql=SqlOptions(allowed_hosts=("localhost",)))
async def test_a_service_is_refused_from_the_connection_string_and_from_the_environment(
    h: Harness, postgres: PostgresServer
) -> None:
    services = service_file(h.root, postgres)
    h.configure_kernels({**os.environ, "PGSERVICEFILE": str(services)})
    await h.new()
    query = await h.add_sql("SELECT host(inet_server_addr()) AS addr")
    error = await refused(h, query, url(postgres, "", "?service=local"))
    assert error == (
        "SQLError: SQL cells may not use the connection parameter 'service' while "
        "ReactiveNotebook.sql_allowed_hosts is set: a service file can name any host "
        "(give host in the connection string instead)"
    )

    h.configure_kernels({**os.environ, "PGSERVICE": "local", "PGSERVICEFILE": str(services)})
    await h.restart_service()
    error = await refused(h, query, url(postgres, ""))
    assert error == (
        "SQLError: the kernel's environment sets PGSERVICE, and a service file can name "
        "any host: SQL cells may not connect while ReactiveNotebook.sql_allowed_hosts is set"
    )


@scenario(sql=SqlOptions(allowed_hosts=(ALLOWED,)))
async def test_every_host_of_a_list_is_checked_and_secrets_stay_out_of_refusals(
    h: Harness, postgres: PostgresServer
) -> None:
    await h.new()
    query = await h.add_sql("SELECT 1 AS one")
    listed = url(postgres, "", f"?host={ALLOWED},{postgres.host}&port=1,{postgres.port}")
    error = await refused(h, query, listed)
    assert f"may not connect to '{postgres.host}':" in error
    assert postgres.password not in error


@scenario(sql=SqlOptions(allowed_hosts=("127.0.0.1",)))
async def test_an_allowed_host_still_connects(h: Harness, postgres: PostgresServer) -> None:
    await h.new()
    query = await h.add_sql("SELECT host(inet_server_addr()) AS addr")
    await h.connect(url(postgres, f"{postgres.host}:{postgres.port}", "?sslmode=disable"))
    await h.run(query)
    assert records(await ok(h, query)) == [{"addr": "127.0.0.1"}]
