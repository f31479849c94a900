"""A throwaway PostgreSQL server for the test session.

``start()`` finds the server programs (``/usr/lib/postgresql/<newest>/bin``, Debian's
layout, else ``pg_ctl`` on PATH), runs ``initdb`` into a fresh temp dir with password
(SCRAM) authentication, starts the server on a free port listening on 127.0.0.1 only
(its unix socket inside the temp dir), and creates the role ``reactive`` and the database
``reactive_test`` it owns. ``stop()`` stops it (``pg_ctl stop -m fast``) and removes the
temp dir. ``make test`` installs Debian's ``postgresql`` package first when the programs
are missing (``make postgres``).

PostgreSQL refuses to run as root: as root, every server program runs as the
``postgres`` system user (which Debian's package creates) and the temp dir belongs to it.

A session killed before it could stop its server (SIGKILL, SIGTERM) leaves a temp dir
behind whose ``owner.pid`` names a dead process; the next ``start()`` stops that server
and removes the dir.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

DEBIAN_ROOT = Path("/usr/lib/postgresql")
PROGRAMS = ("initdb", "pg_ctl", "postgres")
PREFIX = "reactive-pg-"
OWNER_FILE = "owner.pid"
SERVICE_ACCOUNT = "postgres"

HOST = "127.0.0.1"
SUPERUSER = "postgres"
USER = "reactive"
DBNAME = "reactive_test"
START_TIMEOUT = 60
PORT_ATTEMPTS = 5
# Longest unix socket path (sun_path is 108 bytes on Linux, 104 on the BSDs).
MAX_SOCKET_PATH = 100

SETTINGS = """
# Added by tests/postgres.py: a throwaway server for tests.
listen_addresses = '127.0.0.1'
unix_socket_directories = {socket_dir}
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
"""


# Servers this process started and has not stopped yet: stopped at exit if the session's
# teardown never ran (an internal error); a killed process leaves them to remove_stale().
_running: set[Path] = set()


@atexit.register
def _stop_all() -> None:
    for directory in list(_running):
        stop(directory)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be found or started; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    """A running test server and the role and database made for the tests.

    ``dataclasses.replace(server, password="wrong").url`` is a URL with a wrong password.
    """

    host: str
    port: int
    user: str
    password: str
    dbname: str
    superuser: str = SUPERUSER
    superuser_password: str = ""
    directory: Path = Path()

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver)."""
        return self._url("postgresql+psycopg", self.user, self.password, self.dbname)

    @property
    def dsn(self) -> str:
        """libpq URL, what ``psycopg.connect()`` takes."""
        return self._url("postgresql", self.user, self.password, self.dbname)

    @property
    def superuser_dsn(self) -> str:
        """libpq URL of the superuser, on the ``postgres`` database."""
        return self._url("postgresql", self.superuser, self.superuser_password, "postgres")

    def _url(self, scheme: str, user: str, password: str, dbname: str) -> str:
        credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"{scheme}://{credentials}@{self.host}:{self.port}/{quote(dbname, safe='')}"


@dataclasses.dataclass(frozen=True)
class _Account:
    """Who runs the server programs: ``None`` fields mean "this process's user"."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def for_this_process(cls) -> _Account:
        if os.geteuid() != 0:
            return cls()
        try:
            entry = pwd.getpwnam(SERVICE_ACCOUNT)
        except KeyError:
            raise PostgresUnavailable(
                "running as root, which PostgreSQL refuses, and there is no "
                f"{SERVICE_ACCOUNT!r} system user to run the server as (Debian's "
                "postgresql package creates it: apt-get install postgresql)"
            ) from None
        return cls(entry.pw_uid, entry.pw_gid)

    @classmethod
    def owning(cls, path: Path) -> _Account:
        """The account that owns ``path`` when we are root (to stop a stale server)."""
        info = path.stat()
        if os.geteuid() != 0 or info.st_uid == 0:
            return cls()
        return cls(info.st_uid, info.st_gid)

    def chown(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)

    def run(
        self, argv: list[str | Path], cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Run a server program as this account, its output captured."""
        try:
            return subprocess.run(
                [str(arg) for arg in argv],
                cwd=cwd,
                env=_environment(cwd),
                user=self.uid,
                group=self.gid,
                extra_groups=[] if self.uid is not None else None,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise PostgresUnavailable(f"{argv[0]} took more than {timeout:.0f} s") from error
        except OSError as error:
            raise PostgresUnavailable(f"cannot run {argv[0]}: {error}") from error


def _environment(home: Path) -> dict[str, str]:
    """This process's environment without libpq's variables (PGDATA, PGPORT, ...)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(HOME=str(home), LC_ALL="C", LANG="C")
    return env


def _version(name: str) -> tuple[int, ...] | None:
    """``"15"`` -> ``(15,)``, ``"9.6"`` -> ``(9, 6)``, anything else -> ``None``."""
    if not re.fullmatch(r"\d+(\.\d+)*", name):
        return None
    return tuple(int(part) for part in name.split("."))


def _has_programs(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in PROGRAMS)


def find_bindir(debian_root: Path = DEBIAN_ROOT) -> Path:
    """The directory holding initdb, pg_ctl and postgres: the newest of Debian's
    ``/usr/lib/postgresql/<version>/bin``, else the one ``pg_ctl`` on PATH lives in."""
    candidates: list[Path] = []
    if debian_root.is_dir():
        versions = [(v, d) for d in debian_root.iterdir() if (v := _version(d.name)) is not None]
        candidates += [d / "bin" for _, d in sorted(versions, reverse=True)]
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if _has_programs(bindir):
            return bindir
    raise PostgresUnavailable(
        f"PostgreSQL's server programs ({', '.join(PROGRAMS)}) are neither in "
        f"{debian_root}/<version>/bin nor next to a pg_ctl on PATH. `make test` installs "
        "them (Debian's postgresql package, `make postgres`); elsewhere install PostgreSQL"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _others_can_enter(path: Path) -> bool:
    """Whether every directory from / down to ``path`` lets other users through."""
    return all(os.stat(part).st_mode & stat.S_IXOTH for part in (path, *path.parents))


def _temp_root(account: _Account) -> Path:
    root = Path(tempfile.gettempdir()).resolve()
    if account.uid is not None and not _others_can_enter(root):
        # The postgres user could not reach a temp dir under, say, /root.
        return Path("/tmp")
    return root


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _fail(what: str, result: subprocess.CompletedProcess[str], log_file: Path | None = None) -> str:
    parts = [
        f"{what} failed (exit {result.returncode})",
        result.stdout.strip(),
        result.stderr.strip(),
    ]
    if log_file is not None:
        parts.append(f"server log {log_file}:\n{_tail(log_file)}")
    return "\n".join(part for part in parts if part)


def start(temp_root: Path | None = None) -> PostgresServer:
    """Start a throwaway server; raises ``PostgresUnavailable`` saying why it cannot."""
    started = time.perf_counter()
    bindir = find_bindir()
    account = _Account.for_this_process()
    root = temp_root or _temp_root(account)
    remove_stale(root)
    directory = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
    (directory / OWNER_FILE).write_text(f"{os.getpid()}\n")
    account.chown(directory)
    _running.add(directory)
    try:
        server = _init_and_start(bindir, account, directory)
    except BaseException:
        stop(directory)
        raise
    log.info(
        "PostgreSQL %s on %s:%d (%s), up in %.1fs",
        bindir.parent.name,
        server.host,
        server.port,
        directory,
        time.perf_counter() - started,
    )
    return server


def _init_and_start(bindir: Path, account: _Account, directory: Path) -> PostgresServer:
    data = directory / "data"
    superuser_password = secrets.token_hex(16)
    password_file = directory / "superuser.pw"
    password_file.write_text(superuser_password + "\n")
    password_file.chmod(0o600)
    account.chown(password_file)
    result = account.run(
        [
            bindir / "initdb",
            "--pgdata",
            data,
            "--username",
            SUPERUSER,
            "--pwfile",
            password_file,
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ],
        cwd=directory,
        timeout=120,
    )
    password_file.unlink()
    if result.returncode != 0:
        raise PostgresUnavailable(_fail(f"initdb ({bindir / 'initdb'})", result))

    socket_dir = str(directory) if len(str(directory)) < MAX_SOCKET_PATH - 20 else ""
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(SETTINGS.format(socket_dir=_quote_setting(socket_dir)))

    log_file = directory / "server.log"
    for _ in range(PORT_ATTEMPTS):
        port = free_port()
        result = account.run(
            [
                bindir / "pg_ctl",
                "start",
                "--pgdata",
                data,
                "--log",
                log_file,
                "--wait",
                "--timeout",
                str(START_TIMEOUT),
                "-o",
                f"-p {port}",
            ],
            cwd=directory,
            timeout=START_TIMEOUT + 30,
        )
        if result.returncode == 0:
            break
        if "could not bind" not in _tail(log_file):
            raise PostgresUnavailable(_fail("pg_ctl start", result, log_file))
        # Another process took the port between free_port() and the server's bind.
    else:
        raise PostgresUnavailable(_fail(f"pg_ctl start ({PORT_ATTEMPTS} ports)", result, log_file))

    server = PostgresServer(
        host=HOST,
        port=port,
        user=USER,
        password=secrets.token_hex(12),
        dbname=DBNAME,
        superuser_password=superuser_password,
        directory=directory,
    )
    _create_role_and_database(server)
    return server


def _quote_setting(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _create_role_and_database(server: PostgresServer) -> None:
    import psycopg
    from psycopg import sql

    deadline = time.monotonic() + 10
    while True:
        try:
            admin = psycopg.connect(server.superuser_dsn, autocommit=True, connect_timeout=5)
            break
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"the server started but refuses connections: {error}"
                ) from error
            time.sleep(0.1)
    with admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(server.user), sql.Literal(server.password)
            )
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(server.dbname), sql.Identifier(server.user)
            )
        )


def stop(directory: Path) -> None:
    """Stop the server of ``directory`` (if it runs) and remove the directory."""
    _running.discard(directory)
    if not directory.exists():
        return
    data = directory / "data"
    pid_file = data / "postmaster.pid"
    if pid_file.exists():
        account = _Account.owning(directory)
        try:
            pg_ctl = find_bindir() / "pg_ctl"
            for mode in ("fast", "immediate"):
                result = account.run(
                    [pg_ctl, "stop", "--pgdata", data, "--mode", mode, "--wait", "--timeout", "30"],
                    cwd=directory,
                    timeout=60,
                )
                if result.returncode == 0 or not pid_file.exists():
                    break
                log.warning("%s", _fail(f"pg_ctl stop -m {mode}", result))
        except PostgresUnavailable as error:
            log.warning("cannot stop the test server in %s: %s", directory, error)
        if pid_file.exists():
            _kill(pid_file)
    shutil.rmtree(directory, ignore_errors=True)


def _kill(pid_file: Path) -> None:
    """Last resort: SIGKILL the postmaster named in ``postmaster.pid``, if that process
    is a postgres (a stale pid may name another program by now)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().split()[0])
        if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(root: Path) -> None:
    """Stop and remove the servers of sessions that died without stopping theirs."""
    for directory in root.glob(PREFIX + "*"):
        try:
            owner = int((directory / OWNER_FILE).read_text())
        except (OSError, ValueError):
            # Being created by another session right now, or not ours.
            continue
        if not _alive(owner):
            log.warning("stopping the test server a dead session left in %s", directory)
            stop(directory)
