"""SQL cells, executed INSIDE the kernel: the source is sent at kernel start.

The result of a SQL cell must live in the kernel, so Python cells can read it; this
file is self-contained (stdlib at the top; duckdb, sqlalchemy, pandas and polars looked
up lazily) and attaches ``get_ipython().reactive_sql``. The server turns a SQL cell into
``get_ipython().reactive_sql.run({...})`` with a spec:

``segments``  the SQL split by the server into text and ``{"name": ...}`` placeholders;
              each placeholder becomes a bind parameter of the driver, never text; a
              list or tuple value expands to a parameter list (for ``IN {ids}``).
``output``    the variable the result is bound to (a DataFrame).
``connection`` "" (an in-memory DuckDB per kernel), ``duckdb:///<file>``, or any
              SQLAlchemy URL; ``${VAR}`` is expanded from the kernel's environment.
``tables``    table names the query reads: with DuckDB, one that names a DataFrame
              variable reads that variable.
``allowed_hosts`` None (any) or the hosts a connection may reach, checked before
              connecting (``host_policy``); with hosts restricted, DuckDB runs without
              extensions or files outside the notebook's folder.
``frame``     "pandas" or "polars".

One connection (DuckDB) or engine (SQLAlchemy, pooled) per connection string, reused
across runs; a new connection string closes the others. Errors read like the database's
own and never show the connection's secrets (``connection_strings`` finds them).

``install_sql_runner(shell, strings, policy)`` takes the ``connection_strings`` and
``host_policy`` modules, each loaded into a module of its own in the kernel.
"""

from typing import Any

# Closures defined while a query runs annotate with the string "Any": the name ``Any``
# is deleted from the user namespace after install, and a ``def`` statement evaluates
# its annotations each time it runs.


def install_sql_runner(shell: Any, strings: Any, policy: Any) -> None:
    import contextlib
    import os
    import re

    env_reference = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
    # The notebook's folder: the kernel starts in it (a later os.chdir does not widen
    # what a restricted DuckDB may read).
    notebook_folder = os.getcwd()

    class SQLError(Exception):
        """A database error, shown as the database said it (no Python traceback)."""

        def _render_traceback_(self) -> list[str]:
            return [f"{type(self).__name__}: {self}"]

    SQLError.__module__ = "builtins"  # the error reads "SQLError: ...", no module path
    SQLError.__qualname__ = "SQLError"

    def expand(connection: str) -> str:
        def value(match: "Any") -> str:
            name = match.group(1)
            if name not in os.environ:
                raise SQLError(
                    f"the connection string uses ${{{name}}}, which is not set in the "
                    "kernel's environment (secret-looking variables reach kernels only "
                    "when listed in ReactiveNotebook.kernel_env_allow)"
                )
            return os.environ[name]

        return env_reference.sub(value, connection)

    def scrub(message: str, secrets: list[str]) -> str:
        for secret in secrets:
            if secret:
                message = message.replace(secret, "********")
        return message

    def is_duckdb(connection: str) -> bool:
        return connection in ("", "duckdb", ":memory:") or connection.startswith("duckdb:")

    def duckdb_path(connection: str) -> str:
        if connection in ("", "duckdb", ":memory:"):
            return ":memory:"
        path = connection[len("duckdb:") :]
        path = path[3:] if path.startswith("///") else path.lstrip("/")
        return path or ":memory:"

    def frame_of(rows: Any, columns: list[str], kind: str) -> Any:
        if kind == "polars":
            import polars

            return polars.DataFrame(
                [list(row) for row in rows], schema=columns, orient="row", strict=False
            )
        import pandas

        return pandas.DataFrame.from_records([tuple(row) for row in rows], columns=columns)

    def is_frame(value: Any) -> bool:
        kind = type(value)
        return (kind.__module__.split(".")[0], kind.__name__) in (
            ("pandas", "DataFrame"),
            ("polars", "DataFrame"),
            ("pyarrow", "Table"),
        )

    def sqlalchemy_url(expanded: str) -> Any:
        import sqlalchemy

        url = sqlalchemy.engine.make_url(expanded)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        return url

    def open_duckdb(path: str, restricted: bool) -> Any:
        """A DuckDB connection; with hosts restricted, one that loads no extension and
        reads and writes files only under the notebook's folder."""
        import duckdb

        if not restricted:
            return duckdb.connect(path)
        con = duckdb.connect(path, config=dict(policy.DUCKDB_CONFIG))
        try:
            for statement in policy.duckdb_restrictions(notebook_folder):
                con.execute(statement)
        except BaseException:
            con.close()
            raise
        return con

    class Connections:
        """One open connection or engine per connection string (the latest only)."""

        def __init__(self) -> None:
            self._open: dict[tuple[str, bool], Any] = {}

        def get(self, connection: str, expanded: str, restricted: bool) -> Any:
            key = (connection, restricted)
            existing = self._open.get(key)
            if existing is not None:
                return existing
            self.close_all()
            handle: Any
            if is_duckdb(expanded):
                handle = open_duckdb(duckdb_path(expanded), restricted)
            else:
                import sqlalchemy

                handle = sqlalchemy.create_engine(sqlalchemy_url(expanded), pool_pre_ping=True)
            self._open[key] = handle
            return handle

        def close_all(self) -> None:
            for handle in self._open.values():
                try:
                    if hasattr(handle, "dispose"):
                        handle.dispose()
                    else:
                        handle.close()
                except Exception:
                    pass
            self._open.clear()

    def check_host(expanded: str, allowed: Any, secrets: list[str]) -> None:
        """Refuse, before connecting, what ``allowed`` (None: any host) does not cover.
        Checked at every run: libpq reads the kernel's environment at every connect."""
        if allowed is None:
            return
        try:
            if is_duckdb(expanded):
                policy.check_duckdb_path(duckdb_path(expanded))
            else:
                policy.check_sqlalchemy(sqlalchemy_url(expanded), allowed, os.environ)
        except policy.NotAllowed as refused:
            raise SQLError(scrub(str(refused), secrets)) from None

    def bind(
        segments: list[Any], namespace: dict[str, Any], style: str, empty: str = "(NULL)"
    ) -> tuple[str, Any]:
        """The SQL text with the driver's placeholders, and its parameters. An empty list
        becomes ``empty``: ``(NULL)`` matches nothing but makes ``NOT IN`` NULL too; an
        empty subquery is right for both where the database types it (not PostgreSQL)."""
        parts: list[str] = []
        named: dict[str, Any] = {}
        positional: list[Any] = []
        has_params = any(isinstance(segment, dict) for segment in segments)

        def marker(value: "Any") -> str:
            key = f"p{len(named) + len(positional)}"
            if style in ("qmark", "format"):
                positional.append(value)
                return "?" if style == "qmark" else "%s"
            named[key] = value
            if style == "pyformat":
                return f"%({key})s"
            if style == "dollar":
                return f"${key}"
            return f":{key}"

        for segment in segments:
            if not isinstance(segment, dict):
                text = segment
                if has_params and style in ("pyformat", "format"):
                    text = text.replace("%", "%%")
                parts.append(text)
                continue
            name = segment["name"]
            if name not in namespace:
                raise NameError(f"{{{name}}} in the query: name {name!r} is not defined")
            value = namespace[name]
            if isinstance(value, list | tuple | set | frozenset):
                items = list(value)
                if items:
                    parts.append(f"({', '.join(marker(item) for item in items)})")
                else:
                    parts.append(empty)
            else:
                parts.append(marker(value))
        sql = "".join(parts)
        if style in ("qmark", "format"):
            return sql, tuple(positional) or None  # a list would be executemany
        return sql, named or None

    # Statement types whose one-column result is rows, even a column named "Count".
    queries = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL", "EXECUTE"})

    def returns_rows(con: Any, sql: str) -> bool:
        """Whether DuckDB's last statement is a query, not a change reporting a count
        ("Count") or nothing ("Success") as a one-column result."""
        try:
            statement = con.extract_statements(sql)[-1]
        except Exception:
            return True
        return statement.type.name in queries

    empty_set = "(SELECT NULL WHERE FALSE)"
    no_parameters = {"no_parameters": True}

    def describe_count(count: Any) -> str:
        if count is None or count < 0:
            return "OK"
        return f"{count} row{'s' if count != 1 else ''} affected"

    class SqlRunner:
        def __init__(self) -> None:
            self.connections = Connections()

        def run(self, spec: dict[str, Any]) -> None:
            connection = spec.get("connection") or ""
            try:
                self._run(spec, connection)
            except BaseException as error:
                # IPython's traceback would show the call, connection string included:
                # anything escaping (a missing placeholder, an interrupt) reads as one line.
                if not hasattr(error, "_render_traceback_"):
                    name, message = type(error).__name__, str(error)
                    line = scrub(f"{name}: {message}" if message else name, hidden(connection))
                    with contextlib.suppress(Exception):
                        error._render_traceback_ = lambda: [line]  # type: ignore[attr-defined]
                raise

        def _run(self, spec: dict[str, Any], connection: str) -> None:
            from IPython.display import display

            expanded = expand(connection)
            secrets = hidden(connection)
            allowed = spec.get("allowed_hosts")
            try:
                check_host(expanded, allowed, secrets)
                handle = self.connections.get(connection, expanded, allowed is not None)
                if is_duckdb(expanded):
                    result, count = self._duckdb(handle, spec)
                else:
                    result, count = self._sqlalchemy(handle, spec)
            except (SQLError, NameError):
                raise
            except Exception as error:
                raise SQLError(scrub(database_message(error), secrets)) from None
            output = spec.get("output")
            if result is None:
                if output:
                    shell.user_ns[output] = None
                display({"text/plain": describe_count(count)}, raw=True)  # type: ignore[no-untyped-call]
                return
            if output:
                shell.user_ns[output] = result
            display(result)  # type: ignore[no-untyped-call]

        def _duckdb(self, con: Any, spec: dict[str, Any]) -> tuple[Any, Any]:
            sql, params = bind(spec["segments"], shell.user_ns, "dollar", empty_set)
            registered = []
            for name in spec.get("tables", ()):
                value = shell.user_ns.get(name)
                if value is not None and is_frame(value):
                    con.register(name, value)
                    registered.append(name)
            try:
                cursor = con.execute(sql, params) if params else con.execute(sql)
                if cursor.description is None:
                    return None, None
                columns = [column[0] for column in cursor.description]
                if columns in (["Count"], ["Success"]) and not returns_rows(con, sql):
                    row = cursor.fetchone()  # DuckDB's count of changed rows, if any
                    return None, row[0] if row and columns == ["Count"] else None
                if spec.get("frame") == "polars":  # DuckDB's own .pl() needs pyarrow
                    return frame_of(cursor.fetchall(), columns, "polars"), None
                return cursor.df(), None
            finally:
                for name in registered:
                    con.unregister(name)

        def _sqlalchemy(self, engine: Any, spec: dict[str, Any]) -> tuple[Any, Any]:
            style = engine.dialect.paramstyle
            empty = empty_set if engine.dialect.name in ("duckdb", "sqlite") else "(NULL)"
            sql, params = bind(spec["segments"], shell.user_ns, style, empty)
            with engine.connect() as connection:
                # Without parameters the driver gets the text alone: psycopg reads "%"
                # as a placeholder whenever parameters are passed, even none.
                result = (
                    connection.exec_driver_sql(sql, params)
                    if params
                    else connection.exec_driver_sql(sql, execution_options=no_parameters)
                )
                if result.returns_rows:
                    columns = list(result.keys())
                    frame = frame_of(result.fetchall(), columns, spec.get("frame", "pandas"))
                    connection.commit()
                    return frame, None
                count = result.rowcount
                connection.commit()
                return None, count

    def secrets_of(expanded: str) -> list[str]:
        """The secrets the API masks (``connection_strings``), plus the password as
        SQLAlchemy reads it (leniently: ``u:p@ss@h`` has password ``p``)."""
        found: list[str] = list(strings.secret_values(expanded))
        try:
            import sqlalchemy

            password = sqlalchemy.engine.make_url(expanded.strip()).password
            if password:
                found.append(str(password))
        except Exception:
            pass
        return found

    def hidden(connection: str) -> list[str]:
        """The secrets of ``connection``, as written and as expanded, longest first (so
        a secret containing another is hidden whole)."""
        expanded = env_reference.sub(lambda m: os.environ.get(m[1], ""), connection)
        return sorted({*secrets_of(connection), *secrets_of(expanded)}, key=len, reverse=True)

    def database_message(error: Exception) -> str:
        """What the database said: the driver's message without SQLAlchemy's wrapping
        (its statement echo and link to the docs)."""
        original = getattr(error, "orig", None)
        message = str(original if original is not None else error).strip()
        return message or type(error).__name__

    shell.reactive_sql = SqlRunner()
