"""The decisions of ``host_policy`` (what the kernel checks before a SQL cell connects
while ``sql_allowed_hosts`` is set), on SQLAlchemy's own reading of each URL. The
PostgreSQL cases that reached a real server before are in test_allowed_hosts.py."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from reactive_notebook.kernels.kernel_side.host_policy import (
    NotAllowed,
    check_duckdb_path,
    check_sqlalchemy,
    duckdb_restrictions,
    normalize_host,
)

ALLOWED = ("db.internal",)
PG = "postgresql+psycopg://ana:pw@"


def check(url: str, allowed: tuple[str, ...] = ALLOWED, **environ: str) -> None:
    check_sqlalchemy(make_url(url), allowed, environ)


@pytest.mark.parametrize(
    ("url", "environ", "refusal"),
    [
        (PG + "db.internal/x?hostaddr=10.0.0.5", {}, "'10.0.0.5' (hostaddr)"),
        (PG + "/x?host=db.internal,10.0.0.5&port=1,2", {}, "'10.0.0.5':"),
        (PG + "/x?host=db.internal:1&host=other:2", {}, "'other':"),
        (PG + "db.internal/x?host=other", {}, "'other':"),
        (PG + "/x?host=db.internal,&port=1,2", {}, "'localhost' (no host given"),
        (PG + "/x", {}, "'localhost' (no host given: the local server)"),
        (PG + "/x?host=/var/run/postgresql", {}, "'/var/run/postgresql' (a unix-socket"),
        (PG + "/x?host=@abstract", {}, "'@abstract' (a unix-socket directory)"),
        (PG + "%64b.internal/x", {}, "'%64b.internal':"),  # passed on undecoded
        (PG + "[::1]:5432/x", {}, "'::1':"),
        (PG + "db.internal/x", {"PGHOSTADDR": "10.0.0.5"}, "(PGHOSTADDR in the kernel's"),
        (PG + "/x", {"PGHOST": "10.0.0.5"}, "'10.0.0.5' (PGHOST in the kernel's environment)"),
        (PG + "/x", {"PGHOST": "/tmp"}, "'/tmp' (a unix-socket directory, PGHOST in"),
        (PG + "db.internal/x?service=prod", {}, "the connection parameter 'service'"),
        (PG + "db.internal/x?servicefile=/x", {}, "the connection parameter 'servicefile'"),
        (PG + "db.internal/x", {"PGSERVICE": "prod"}, "environment sets PGSERVICE"),
        (PG + "db.internal/x?oauth_issuer=https://idp", {}, "parameter 'oauth_issuer'"),
        (PG + "db.internal/x?plugin=p", {}, "parameter 'plugin'"),
        (PG + "db.internal/x?hostaddr=a&hostaddr=b", {}, "given more than once"),
        ("postgresql+pg8000://a@db.internal/x?unix_sock=/s", {}, "'postgresql+pg8000'"),
        ("mysql+pymysql://a@db.internal/x?unix_socket=/s", {}, "'mysql+pymysql' connections"),
        ("mysql+pymysql://a@db.internal/x?read_default_file=f", {}, "'mysql+pymysql'"),
        ("snowflake://a@account/db", {}, "'snowflake' connections"),
    ],
)
def test_what_could_reach_another_host_is_refused(
    url: str, environ: dict[str, str], refusal: str
) -> None:
    with pytest.raises(NotAllowed) as refused:
        check(url, **environ)
    assert refusal in str(refused.value)
    assert "pw" not in str(refused.value).replace("PGHOSTADDR", "")


@pytest.mark.parametrize(
    ("url", "allowed", "environ"),
    [
        (PG + "db.internal/x", ALLOWED, {}),
        (PG + "DB.Internal./x?sslmode=require&application_name=nb", ALLOWED, {}),
        (PG + "db.internal:5432/x?options=-c%20search_path%3Dx&connect_timeout=5", ALLOWED, {}),
        (PG + "/x?host=db.internal,10.0.0.5&port=1,2", ("db.internal", "10.0.0.5"), {}),
        (PG + "db.internal/x?hostaddr=10.0.0.5", ("db.internal", "10.0.0.5"), {}),
        (PG + "[0:0::1]/x", ("::1",), {}),
        (PG + "/x", ("localhost",), {}),
        (PG + "/x?host=/run/postgresql/", ("/run/postgresql",), {}),
        (PG + "db.internal/x", ALLOWED, {"PGHOST": "ignored.example"}),  # the URL's wins
        ("postgresql+psycopg2://a:pw@db.internal/x", ALLOWED, {}),
        ("sqlite:///local.db", (), {}),
    ],
)
def test_what_reaches_only_allowed_hosts_passes(
    url: str, allowed: tuple[str, ...], environ: dict[str, str]
) -> None:
    check(url, allowed, **environ)


def test_with_no_host_allowed_every_server_is_refused() -> None:
    with pytest.raises(NotAllowed, match="the server allows no hosts"):
        check(PG + "db.internal/x", ())


@pytest.mark.parametrize(
    "path", ["md:analytics", "MD:analytics?motherduck_token=t", "motherduck:x", "s3://b/x.db"]
)
def test_duckdb_databases_elsewhere_are_refused_without_echoing_them(path: str) -> None:
    with pytest.raises(NotAllowed) as refused:
        check_duckdb_path(path)
    assert "MotherDuck or remote DuckDB database" in str(refused.value)
    assert path not in str(refused.value)


@pytest.mark.parametrize("path", [":memory:", "sales.duckdb", "/data/sales.duckdb"])
def test_local_duckdb_files_pass(path: str) -> None:
    check_duckdb_path(path)


def test_duckdb_is_kept_to_the_notebook_folder_then_locked() -> None:
    assert duckdb_restrictions("/home/o'neil/work/") == [
        "SET allowed_directories = ['/home/o''neil/work/']",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ]


@pytest.mark.parametrize(
    ("host", "normal"),
    [
        ("DB.Internal.", "db.internal"),
        ("[::1]", "::1"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.1"),  # not an address Python reads: a name, never 127.0.0.1
        ("/run/postgresql/", "/run/postgresql"),
    ],
)
def test_hosts_compare_in_one_form(host: str, normal: str) -> None:
    assert normalize_host(host) == normal
