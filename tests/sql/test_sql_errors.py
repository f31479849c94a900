"""SQL cell errors read like the database's own and never show the password."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from typing import Any

from reactive_notebook.notebooks.sql_cells import SqlOptions
from tests.notebooks.harness import USER, Harness, scenario
from tests.postgres import PostgresServer, free_port

from .helpers import failed, ok, records

SECRET_ENV = "PGPASSWORD_FOR_TEST"  # secret-looking: kernels get it only when allowed


async def assert_nowhere(h: Harness, secret: str, *, in_file: int = 0) -> None:
    """``secret`` is in no cell (code, outputs, error) nor anywhere in the API's view of
    the notebook; the saved file holds it ``in_file`` times, only as the connection."""
    view = await h.view()
    assert secret not in json.dumps(view)
    nb = json.loads((await h.saved()).read_text())
    assert secret not in json.dumps(nb["cells"])
    stored = nb["metadata"]["reactive_notebook"]["db_connection"]
    assert stored.count(secret) == in_file
    assert json.dumps(nb).count(secret) == in_file


async def wait_for_status(h: Harness, cell_id: str, *statuses: str) -> dict[str, Any]:
    for _ in range(500):
        cell = await h.cell(cell_id)
        if cell["status"] in statuses:
            return cell
        await asyncio.sleep(0.02)
    raise AssertionError(f"never {statuses}: {cell}")


@scenario
async def test_database_errors_read_like_the_database_s_own(
    h: Harness, postgres: PostgresServer
) -> None:
    await h.new()
    syntax = await h.add_sql("SELEC name\nFROM t")
    unknown = await h.add_sql("SELECT * FROM no_such_table")
    missing = await h.add_sql("SELECT * FROM range(3) WHERE range > {no_such_name}")
    reader = await h.add("print(len(df_3))")
    await h.run_all()

    error = await failed(h, syntax)  # DuckDB's parser, with the line and position
    assert error.startswith('SQLError: Parser Error: syntax error at or near "SELEC"')
    assert "LINE 1: SELEC name" in error
    assert "^" in error
    assert "Traceback" not in error
    error = await failed(h, unknown)
    assert error.startswith("SQLError: Catalog Error: Table with name no_such_table does not")
    assert "LINE 1" in error
    error = await failed(h, missing)
    assert error == ("NameError: {no_such_name} in the query: name 'no_such_name' is not defined")
    assert (await h.cell(reader))["status"] == "blocked"

    # The same on PostgreSQL, the password in the connection string.
    await h.connect(postgres.url)
    await h.run_all()
    error = await failed(h, syntax)
    assert error.startswith('SQLError: syntax error at or near "SELEC"')
    assert "LINE 1: SELEC name" in error
    assert error.endswith("^")
    error = await failed(h, unknown)
    assert error.startswith('SQLError: relation "no_such_table" does not exist')
    assert "LINE 1" in error
    error = await failed(h, missing)  # checked before the query reaches the server
    assert error == ("NameError: {no_such_name} in the query: name 'no_such_name' is not defined")

    # An interrupted query: its error does not echo the call (connection string) either.
    slow = await h.add_sql("SELECT pg_sleep(30) AS slept")
    await h.service.run_cell(USER, h.notebook_id, slow)
    await wait_for_status(h, slow, "running")
    await asyncio.sleep(0.3)
    await h.service.interrupt(USER, h.notebook_id)
    cell = await wait_for_status(h, slow, "idle", "error")
    assert cell["outputs"] == [], cell
    await assert_nowhere(h, postgres.password, in_file=1)

    # Fixed, the cells run.
    await h.edit(syntax, "SELECT 1 AS one")
    await h.run(syntax)
    assert records(await ok(h, syntax)) == [{"one": 1}]


@scenario
async def test_connection_failures_never_show_the_password(
    h: Harness, postgres: PostgresServer
) -> None:
    await h.new()
    query = await h.add_sql("SELECT current_user AS who")

    wrong = dataclasses.replace(postgres, password="Wr0ng-Pa55word")
    await h.connect(wrong.url)
    await h.run(query)
    error = await failed(h, query)
    assert error.startswith("SQLError: connection failed:")
    assert 'password authentication failed for user "reactive"' in error
    await assert_nowhere(h, wrong.password, in_file=1)  # stored as given, never shown

    closed = dataclasses.replace(postgres, port=free_port())
    await h.connect(closed.url)
    await h.run(query)
    error = await failed(h, query)
    assert f'connection to server at "127.0.0.1", port {closed.port} failed' in error
    assert "Connection refused" in error
    assert postgres.password not in error

    await h.connect(postgres.url)  # a new engine: the failed ones are dropped
    await h.run(query)
    assert records(await ok(h, query)) == [{"who": "reactive"}]


@scenario(sql=SqlOptions(allowed_hosts=("db.example",)))
async def test_hosts_not_allowed_are_refused_before_connecting(
    h: Harness, postgres: PostgresServer
) -> None:
    await h.new()
    query = await h.add_sql("SELECT 42 AS answer")
    await h.connect(postgres.url)
    await h.run(query)
    error = await failed(h, query)
    assert error == (
        "SQLError: SQL cells may not connect to '127.0.0.1': the server allows only "
        "db.example (ReactiveNotebook.sql_allowed_hosts)"
    )
    # A host smuggled in the query string is checked too (libpq would use it).
    await h.connect(f"postgresql://reactive@db.example/x?host={postgres.host}")
    await h.run(query)
    assert "may not connect to '127.0.0.1'" in await failed(h, query)

    await h.connect("")  # the embedded DuckDB reaches no host
    await h.run(query)
    assert records(await ok(h, query)) == [{"answer": 42}]


@scenario
async def test_an_environment_reference_is_expanded_in_the_kernel(
    h: Harness, postgres: PostgresServer
) -> None:
    connection = (
        f"postgresql://{postgres.user}:${{{SECRET_ENV}}}@{postgres.host}:{postgres.port}"
        f"/{postgres.dbname}"
    )
    # The server has the variable, but a secret-looking name does not reach kernels...
    h.configure_kernels({**os.environ, SECRET_ENV: postgres.password})
    await h.new()
    await h.connect(connection)
    query = await h.add_sql("SELECT current_user AS who")
    await h.run(query)
    assert await failed(h, query) == (
        f"SQLError: the connection string uses ${{{SECRET_ENV}}}, which is not set in the "
        "kernel's environment (secret-looking variables reach kernels only when listed in "
        "ReactiveNotebook.kernel_env_allow)"
    )
    assert (await h.view())["db_conn_string"] == connection  # a reference is no secret

    # ... unless the operator allows it (ReactiveNotebook.kernel_env_allow).
    h.configure_kernels({**os.environ, SECRET_ENV: postgres.password}, allow=[SECRET_ENV])
    await h.restart_service()
    await h.run(query)
    assert records(await ok(h, query)) == [{"who": "reactive"}]
    await assert_nowhere(h, postgres.password)

    # A wrong password from the environment is not shown either, nor stored anywhere.
    h.configure_kernels({**os.environ, SECRET_ENV: "Wr0ng-From-Env"}, allow=[SECRET_ENV])
    await h.restart_service()
    await h.run(query)
    assert "password authentication failed" in await failed(h, query)
    await assert_nowhere(h, "Wr0ng-From-Env")


@scenario
async def test_a_secret_spelled_otherwise_stays_out_of_errors_too(h: Harness) -> None:
    """The kernel hides the secrets the API masks (one reading of connection strings):
    DuckDB's "cannot open" error repeats the path, token included."""
    token = "md-t0ken-not-shown"
    await h.new()
    query = await h.add_sql("SELECT 1 AS one")
    await h.connect(f"duckdb:no_such_folder/x.duckdb?motherduck_token={token}")
    await h.run(query)
    error = await failed(h, query)
    assert error.startswith("SQLError: IO Error: Cannot open file"), error
    assert "x.duckdb?motherduck_token=********" in error
    await assert_nowhere(h, token, in_file=1)
