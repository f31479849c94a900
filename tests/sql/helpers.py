"""Reading SQL cells as the API shows them."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from tests.notebooks.harness import Harness
from tests.postgres import PostgresServer


def table(cell: dict[str, Any]) -> dict[str, Any]:
    """The cell's last table output: ``{"type": "table", "columns", "rows", ...}``."""
    tables = [
        o["data"]
        for o in cell["outputs"]
        if o["mime_type"] == "application/json" and o["data"].get("type") == "table"
    ]
    assert tables, cell
    data = tables[-1]
    json.dumps(data, allow_nan=False)  # JSON-safe: what the socket sends
    return data  # type: ignore[no-any-return]


def records(cell: dict[str, Any]) -> list[dict[str, Any]]:
    """The table's rows as dicts, without the index column(s)."""
    data = table(cell)
    skip = data.get("index_columns", 0)
    return [dict(zip(data["columns"][skip:], row[skip:], strict=True)) for row in data["rows"]]


def plain(cell: dict[str, Any]) -> list[str]:
    """The cell's text/plain outputs (a no-row statement shows "N rows affected")."""
    return [o["data"] for o in cell["outputs"] if o["mime_type"] == "text/plain"]


async def ok(h: Harness, cell_id: str) -> dict[str, Any]:
    """The cell, asserted to have run successfully and to be up to date."""
    cell = await h.cell(cell_id)
    assert cell["status"] == "success", cell
    assert not cell["stale"], cell
    return cell


async def failed(h: Harness, cell_id: str) -> str:
    """The error of a cell asserted to have failed, with no output left."""
    cell = await h.cell(cell_id)
    assert cell["status"] == "error", cell
    assert cell["outputs"] == [], cell
    return str(cell["error"])


def pg_execute(server: PostgresServer, *statements: str) -> list[tuple[Any, ...]]:
    """Run statements on the test server directly (psycopg, autocommit): the rows of
    the last one that returns rows."""
    rows: list[tuple[Any, ...]] = []
    with psycopg.connect(server.dsn, autocommit=True) as connection:
        for statement in statements:
            cursor = connection.execute(statement)  # type: ignore[arg-type]
            if cursor.description is not None:
                rows = cursor.fetchall()
    return rows
