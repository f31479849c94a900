"""SQL cells on the server side: what they read, and the call that runs them.

The query itself runs in the kernel (``kernels/kernel_side/sql.py``) so its result lives
there for Python cells. Here the SQL text is split into text and ``{name}`` placeholders
(``reactive.sql_template``) and the tables a DuckDB query reads are found with DuckDB's
own parser: on DuckDB a table named like a DataFrame variable reads that variable, so
the cell depends on the cell defining it.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..models import Cell, CellType
from ..reactive.analysis import CellAnalysis, analyze_sql
from ..reactive.sql_template import Placeholder, parse_sql_template


@dataclass(frozen=True)
class SqlOptions:
    """How SQL cells run (``ReactiveNotebook.sql_allowed_hosts`` / ``sql_result_type``)."""

    #: None: any host; else the only hosts a connection string may name.
    allowed_hosts: tuple[str, ...] | None = None
    #: "pandas" or "polars": the type of the DataFrame a SQL cell's variable holds.
    frame: str = "pandas"


def is_duckdb(connection: str) -> bool:
    """The embedded DuckDB (no connection string) or a ``duckdb:`` one."""
    return connection.strip() in ("", "duckdb", ":memory:") or connection.startswith("duckdb:")


@lru_cache(maxsize=4096)
def table_references(sql: str) -> frozenset[str]:
    """Unqualified table names the query reads (DuckDB's parser), or none when it does
    not parse: the run will say why."""
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a dependency
        return frozenset()
    parsable = "".join(
        "(NULL)" if isinstance(segment, Placeholder) else segment
        for segment in parse_sql_template(sql)
    )
    with _parser_lock:
        parser = _parser()
        # SELECTs: the parse tree (no binding, so a JOIN ... USING of tables this
        # process has never seen parses); other statements: DuckDB's table names.
        try:
            query = "SELECT json_serialize_sql(?::VARCHAR)"
            parsed = json.loads(parser.execute(query, [parsable]).fetchall()[0][0])
        except Exception:  # a DuckDB without its json extension
            parsed = {"error": True}
        if not parsed.get("error"):
            return frozenset(name for name in _base_tables(parsed) if name.isidentifier())
        try:
            statements = parser.extract_statements(parsable)
        except Exception:  # a syntax error: no reads from tables
            return frozenset()
        names: set[str] = set()
        for statement in statements:
            try:
                found = duckdb.get_table_names(statement.query, qualified=True)
            except Exception:  # the binder needs tables only the kernel's database has
                continue
            # Qualified names come as written, an alias after " AS ".
            names.update(_ALIAS.sub("", name) for name in found)
    return frozenset(name for name in names if name.isidentifier())


_parser_lock = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> Any:
    """An in-memory DuckDB connection that only parses (opening one costs ~25 ms)."""
    import duckdb

    return duckdb.connect()


_ALIAS = re.compile(r' AS (?:"(?:[^"]|"")*"|[^\s."]+)$')


def _base_tables(tree: Any) -> set[str]:
    """Names of the base tables a serialized parse tree reads without a schema, except
    its CTEs' names."""
    tables: set[str] = set()
    ctes: set[str] = set()
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and not (
                node.get("schema_name") or node.get("catalog_name")
            ):
                tables.add(str(node.get("table_name")))
            cte_map = node.get("cte_map")
            if isinstance(cte_map, dict):
                ctes.update(str(entry.get("key")) for entry in cte_map.get("map") or ())
            pending.extend(node.values())
    return tables - ctes


def analyse_sql_cell(cell: Cell, connection: str) -> CellAnalysis:
    """Placeholders are reads, the output variable the write; with DuckDB, tables too."""
    tables = table_references(cell.code) if is_duckdb(connection) else frozenset()
    return analyze_sql(cell.code, cell.output, tables=tables)


def sql_run_code(cell: Cell, connection: str, options: SqlOptions = SqlOptions()) -> str:
    """The Python the runner executes for a SQL cell: one call with the cell's spec."""
    segments: list[Any] = [
        {"name": segment.name} if isinstance(segment, Placeholder) else segment
        for segment in parse_sql_template(cell.code)
    ]
    spec = {
        "segments": segments,
        "output": cell.output,
        "connection": connection,
        "tables": sorted(table_references(cell.code)) if is_duckdb(connection) else [],
        "allowed_hosts": None if options.allowed_hosts is None else list(options.allowed_hosts),
        "frame": options.frame,
    }
    return f"get_ipython().reactive_sql.run({spec!r})"


def next_output(opened: Any) -> str:
    """The first free default output variable of a SQL cell (``df_1``, ``df_2``...)."""
    taken = {c.output for c in opened.cells if c.type is CellType.SQL}
    number = 1
    while f"df_{number}" in taken:
        number += 1
    return f"df_{number}"
