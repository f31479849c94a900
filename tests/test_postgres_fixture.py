"""The session's throwaway PostgreSQL server (``tests/postgres.py``): reachable with the
URL it hands out, password-protected, on 127.0.0.1 only."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy

from . import postgres as pg


def libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq (psycopg) takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_url_names_the_role_database_and_port(
    postgres: pg.PostgresServer, postgres_url: str
) -> None:
    assert postgres_url == (
        f"postgresql+psycopg://reactive:{postgres.password}@127.0.0.1:{postgres.port}/reactive_test"
    )
    assert (postgres.host, postgres.user, postgres.dbname) == (
        "127.0.0.1",
        "reactive",
        "reactive_test",
    )


def test_psycopg_creates_inserts_and_selects(postgres_url: str) -> None:
    table = f"fixture_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(postgres_url)) as conn:
        user, database = conn.execute("SELECT current_user, current_database()").fetchone()
        assert (user, database) == ("reactive", "reactive_test")
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s), (%s, %s)", (1, "one", 2, "two"))
        conn.commit()
    with psycopg.connect(libpq(postgres_url)) as conn:
        rows = conn.execute(f"SELECT id, name FROM {table} ORDER BY id").fetchall()
        conn.execute(f"DROP TABLE {table}")
    assert rows == [(1, "one"), (2, "two")]


def test_sqlalchemy_takes_the_url_as_is(postgres_url: str) -> None:
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT 41 + :n"), {"n": 1}).scalar() == 42
    finally:
        engine.dispose()


@pytest.mark.parametrize("user", ["reactive", "postgres"])
def test_a_wrong_password_is_refused(postgres: pg.PostgresServer, user: str) -> None:
    wrong = dataclasses.replace(postgres, user=user, password="not-the-password")
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(wrong.dsn, connect_timeout=10)
    assert f'password authentication failed for user "{user}"' in str(refused.value)
    assert "not-the-password" not in str(refused.value)
    # Through SQLAlchemy, the way SQL cells connect.
    engine = sqlalchemy.create_engine(wrong.url)
    with pytest.raises(sqlalchemy.exc.OperationalError, match="password authentication failed"):
        engine.connect()
    engine.dispose()


def test_no_password_is_refused(postgres: pg.PostgresServer) -> None:
    """Password authentication, not trust: without one the server asks for it."""
    url = f"postgresql://reactive@127.0.0.1:{postgres.port}/reactive_test"
    env_password = os.environ.pop("PGPASSWORD", None)
    try:
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(url, connect_timeout=10, passfile="/dev/null")
    finally:
        if env_password is not None:
            os.environ["PGPASSWORD"] = env_password


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on ``port`` (Linux /proc/net)."""
    found: set[str] = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # /proc/net prints each 32-bit word in host byte order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, words if sys.byteorder == "little" else raw))
    return found


def test_listens_on_127_0_0_1_only(postgres: pg.PostgresServer) -> None:
    with psycopg.connect(postgres.superuser_dsn) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        # The unix socket lives in the session's temp dir, not in /var/run/postgresql.
        assert conn.execute("SHOW unix_socket_directories").fetchone() == (str(postgres.directory),)
    if Path("/proc/net/tcp").exists():
        assert listening_addresses(postgres.port) == {"127.0.0.1"}
    # Another loopback address of the same host is not served.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", postgres.port), timeout=5).close()


def test_find_bindir_takes_the_newest_complete_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    for version, programs in {
        "9.6": pg.PROGRAMS,
        "15": pg.PROGRAMS,
        "16": ("initdb", "pg_ctl"),  # only the client half of a version: not usable
        "common": pg.PROGRAMS,
    }.items():
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        for name in programs:
            (bindir / name).touch(mode=0o755)
    assert pg.find_bindir(tmp_path) == tmp_path / "15" / "bin"
    with pytest.raises(pg.PostgresUnavailable, match="make postgres"):
        pg.find_bindir(tmp_path / "nothing")


def test_remove_stale_removes_dirs_of_dead_sessions_only(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid names no process now
    stale = tmp_path / f"{pg.PREFIX}stale"
    live = tmp_path / f"{pg.PREFIX}live"
    unowned = tmp_path / f"{pg.PREFIX}starting"
    for directory in (stale, live, unowned):
        directory.mkdir()
    (stale / pg.OWNER_FILE).write_text(f"{gone.pid}\n")
    (live / pg.OWNER_FILE).write_text(f"{os.getpid()}\n")
    pg.remove_stale(tmp_path)
    assert not stale.exists()
    assert live.exists()
    assert unowned.exists()
