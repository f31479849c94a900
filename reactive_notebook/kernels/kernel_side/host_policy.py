"""What ``ReactiveNotebook.sql_allowed_hosts`` lets a SQL cell reach, checked in the
kernel before it connects. Kernels get this source at start (stdlib only); the server
imports it for its tests and to normalise the hosts it sends.

The check reads a connection the way its driver will, and refuses what it cannot read:

- PostgreSQL through libpq (SQLAlchemy's ``psycopg`` and ``psycopg2`` dialects): the
  parameters SQLAlchemy hands the driver (``create_connect_args``, so query keys such as
  ``?hostaddr=`` or ``?host=a,b`` are seen as libpq sees them), plus the variables libpq
  falls back to when a parameter is missing (``PGHOST``, ``PGHOSTADDR``). Every host and
  every address of a multi-host list must be allowed; a unix-socket directory (a host
  starting with ``/`` or ``@``) only when listed itself; no host at all is the local
  server, ``localhost``. ``service`` (and ``PGSERVICE``) is refused: a service file can
  name any host. Parameters outside ``LIBPQ_CHECKED`` are refused (``oauth_issuer``
  reaches a web server, others are unknown to this check).
- SQLite: local files only, nothing to check.
- DuckDB: no host; the remote forms (MotherDuck ``md:``, URLs) are refused, and the
  connection is opened without extension installs or loads and with file access
  limited to the notebook's folder (``duckdb_restrictions``): no ``httpfs``, no
  ``ATTACH 'postgres:...'``, no ``COPY`` to elsewhere. DataFrame variables still work.
- Any other dialect is refused while hosts are restricted.

Host names compare case-insensitively without a trailing dot; IP addresses compare as
addresses (``::1`` is ``0:0::1``); nothing is resolved, so a listed name is trusted to
mean what DNS says.
"""

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

#: The trait named in every refusal.
TRAIT = "ReactiveNotebook.sql_allowed_hosts"

#: libpq parameters that cannot make it reach a host other than ``host``/``hostaddr``.
LIBPQ_CHECKED = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "require_auth",
        "channel_binding",
        "connect_timeout",
        "client_encoding",
        "options",
        "application_name",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "sslmode",
        "sslnegotiation",
        "sslcompression",
        "sslcert",
        "sslkey",
        "sslpassword",
        "sslcertmode",
        "sslrootcert",
        "sslcrl",
        "sslcrldir",
        "sslsni",
        "requirepeer",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "min_protocol_version",
        "max_protocol_version",
        "gssencmode",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
        "target_session_attrs",
        "load_balance_hosts",
    }
)

#: SQLAlchemy drivers of PostgreSQL that go through libpq.
LIBPQ_DRIVERS = frozenset({"psycopg", "psycopg2"})

#: DuckDB settings given at connect time when hosts are restricted.
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


class NotAllowed(Exception):
    """A connection the allowed hosts do not cover, or that cannot be checked."""


def normalize_host(host: str) -> str:
    """The form hosts are compared in."""
    host = host.strip()
    if host.startswith(("/", "@")):
        return host.rstrip("/") or "/"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower().rstrip(".")


def check_sqlalchemy(url: Any, allowed: Sequence[str], environ: Mapping[str, str]) -> None:
    """Raise ``NotAllowed`` unless every host ``url`` (a SQLAlchemy URL) can reach is
    in ``allowed``."""
    # From the name: asking the URL for its driver loads the dialect, maybe not installed.
    backend, _, driver = str(url.drivername).partition("+")
    if backend == "sqlite":
        return
    if backend == "postgresql" and (driver or "psycopg2") in LIBPQ_DRIVERS:
        args, params = url.get_dialect()().create_connect_args(url)
        check_libpq(args, params, allowed, environ)
        return
    raise NotAllowed(
        f"SQL cells may not use {url.drivername!r} connections while {TRAIT} is set: "
        "only PostgreSQL (psycopg, psycopg2), SQLite and DuckDB connections have their "
        "hosts checked"
    )


def check_libpq(
    args: Sequence[Any],
    params: Mapping[str, Any],
    allowed: Sequence[str],
    environ: Mapping[str, str],
) -> None:
    """Check what a libpq driver receives: positional ``args`` (a conninfo string) and
    keyword ``params``, with libpq's fallbacks to ``environ``."""
    if any(args):
        raise NotAllowed(f"SQL cells may not pass a raw conninfo string while {TRAIT} is set")
    for key, value in params.items():
        if key in ("service", "servicefile"):
            raise NotAllowed(
                f"SQL cells may not use the connection parameter {key!r} while {TRAIT} "
                "is set: a service file can name any host (give host in the connection "
                "string instead)"
            )
        if key not in LIBPQ_CHECKED:
            raise NotAllowed(
                f"SQL cells may not use the connection parameter {key!r} while {TRAIT} "
                "is set: it is not one whose hosts are checked"
            )
        if isinstance(value, list | tuple):
            raise NotAllowed(f"the connection parameter {key!r} is given more than once")
    if environ.get("PGSERVICE"):
        raise NotAllowed(
            "the kernel's environment sets PGSERVICE, and a service file can name any "
            f"host: SQL cells may not connect while {TRAIT} is set"
        )
    hosts = _libpq_targets(params, "host", "PGHOST", environ)
    targets = hosts + _libpq_targets(params, "hostaddr", "PGHOSTADDR", environ)
    # No host, or an empty entry in a list ("a,"): libpq tries the local server.
    if not any(host for host, _ in targets) or any(not host for host, _ in hosts):
        targets.append(("localhost", "no host given: the local server"))
    check_hosts(targets, allowed)


def check_hosts(targets: Sequence[tuple[str, str]], allowed: Sequence[str]) -> None:
    """``targets``: ``(host, where it comes from)``; empty hosts are skipped."""
    permitted = {normalize_host(host) for host in allowed}
    for host, source in targets:
        if host and normalize_host(host) not in permitted:
            origin = "" if source == "host" else f" ({source})"
            allows = f"allows only {', '.join(allowed)}" if allowed else "allows no hosts"
            raise NotAllowed(
                f"SQL cells may not connect to {host!r}{origin}: the server {allows} ({TRAIT})"
            )


def _libpq_targets(
    params: Mapping[str, Any], key: str, variable: str, environ: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The entries of a comma-separated host list and where they come from; an empty or
    missing parameter falls back to ``variable`` (checked too, to be safe)."""
    value = str(params.get(key) or "")
    sources = [(value, key)] if value else []
    if not value and environ.get(variable):
        sources.append((environ[variable], f"{variable} in the kernel's environment"))
    targets = []
    for hosts, source in sources:
        for host in hosts.split(","):
            host = host.strip()
            if host.startswith(("/", "@")):
                where = "" if source == "host" else f", {source}"
                targets.append((host, f"a unix-socket directory{where}"))
            else:
                targets.append((host, source))
    return targets


def check_duckdb_path(path: str) -> None:
    """DuckDB reaches no host, except through MotherDuck or a remote database file."""
    if path.lower().startswith(("md:", "motherduck:")) or "://" in path:
        raise NotAllowed(
            f"SQL cells may not open a MotherDuck or remote DuckDB database while {TRAIT} is set"
        )


def duckdb_restrictions(folder: str) -> list[str]:
    """Statements that keep a DuckDB connection to local files under ``folder``, then
    lock its configuration (no ``SET`` undoes them)."""
    directory = folder.rstrip("/") + "/"
    quoted = "'" + directory.replace("'", "''") + "'"
    return [
        f"SET allowed_directories = [{quoted}]",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ]
