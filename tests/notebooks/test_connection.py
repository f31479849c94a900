"""Connection strings as the API shows them: every secret masked, found by parsing the
string the way its drivers read it (SQLAlchemy/libpq URLs, libpq keyword strings, ODBC
strings), and masked whole after the scheme when it cannot be parsed."""

from __future__ import annotations

import pytest

from reactive_notebook.kernels.kernel_side.connection_strings import secret_values
from reactive_notebook.notebooks.connection import MASK, is_masked_echo, mask_password

# (connection as stored, as the API shows it, the secrets it holds)
NEAR_MISSES = [
    pytest.param(
        "postgresql://ana:s3cr3t-pw@db.example:5432/sales",
        "postgresql://ana:********@db.example:5432/sales",
        ["s3cr3t-pw"],
        id="plain URL",
    ),
    pytest.param(
        " postgresql://ana:s3cr3t-pw@db.example/sales",
        " postgresql://ana:********@db.example/sales",
        ["s3cr3t-pw"],
        id="leading space",
    ),
    pytest.param(
        "postgresql:/ana:s3cr3t-pw@db.example/sales",
        "postgresql:/********",
        ["s3cr3t-pw"],
        id="one slash",
    ),
    pytest.param(
        "postgresql+psycopg://ana@db.example/sales?sslmode=require&sslpassword=k3y-pw",
        "postgresql+psycopg://ana@db.example/sales?sslmode=require&sslpassword=********",
        ["k3y-pw"],
        id="sslpassword query key",
    ),
    pytest.param(
        "postgresql://ana@db.example/sales?password=qu3ry-pw",
        "postgresql://ana@db.example/sales?password=********",
        ["qu3ry-pw"],
        id="password query key",
    ),
    pytest.param(
        "postgresql://ana@db.example/sales?pass%77ord=enc0ded-pw",
        "postgresql://ana@db.example/sales?pass%77ord=********",
        ["enc0ded-pw"],
        id="percent-encoded query key",
    ),
    pytest.param(
        "postgresql://ana:p%40ss%3Aw0rd@db.example/sales",
        "postgresql://ana:********@db.example/sales",
        ["p%40ss%3Aw0rd", "p@ss:w0rd"],
        id="percent-encoded password",
    ),
    pytest.param(
        "Driver={ODBC Driver 18 for SQL Server};Server=db.example;UID=ana;PWD=0dbc-pw;",
        "Driver={ODBC Driver 18 for SQL Server};Server=db.example;UID=ana;PWD=********;",
        ["0dbc-pw"],
        id="ODBC PWD",
    ),
    pytest.param(
        "Server=db.example;Pwd={br;ace}}d};Encrypt=yes",
        "Server=db.example;Pwd=********;Encrypt=yes",
        ["br;ace}d"],
        id="ODBC braced value",
    ),
    pytest.param(
        "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7Bx%7D%3BSERVER%3Dh%3BPWD%3Dnested-pw",
        "mssql+pyodbc:///?odbc_connect=********",
        ["nested-pw"],
        id="ODBC string inside a URL",
    ),
    pytest.param(
        "duckdb:md:analytics?motherduck_token=md-t0ken",
        "duckdb:md:analytics?motherduck_token=********",
        ["md-t0ken"],
        id="motherduck_token",
    ),
    pytest.param(
        "bigquery://project/dataset?credentials_base64=eyJrZXkiOiJ2In0=",
        "bigquery://project/dataset?credentials_base64=********",
        ["eyJrZXkiOiJ2In0="],
        id="credentials_base64",
    ),
    pytest.param(
        "host=db.example user=ana password='a b\\'c' dbname=sales",
        "host=db.example user=ana password=******** dbname=sales",
        ["a b'c"],
        id="libpq keywords, quoted",
    ),
    pytest.param(
        "host=db.example PASSWORD = sp@ced dbname=sales",
        "host=db.example PASSWORD = ******** dbname=sales",
        ["sp@ced"],
        id="libpq keywords, spaces around =",
    ),
    pytest.param(
        "postgresql://ana:p@ss@db.example/sales",
        "postgresql://********",
        ["p@ss", "ss"],
        id="an @ in the password (read two ways)",
    ),
    pytest.param(
        "postgresql://ana:pa#ss@db.example/sales",
        "postgresql://********",
        ["pa#ss"],
        id="a # in the password",
    ),
    pytest.param(
        "host=db.example password='unterminated",
        "host=********",
        ["unterminated"],
        id="unparseable keywords",
    ),
]


@pytest.mark.parametrize(("connection", "shown", "secrets"), NEAR_MISSES)
def test_every_secret_is_masked(connection: str, shown: str, secrets: list[str]) -> None:
    assert mask_password(connection) == shown
    for secret in secrets:
        assert secret not in shown


@pytest.mark.parametrize(("connection", "shown", "secrets"), NEAR_MISSES)
def test_the_kernel_hides_the_secrets_the_api_masks(
    connection: str, shown: str, secrets: list[str]
) -> None:
    """What SQL errors scrub in the kernel (``secret_values``) covers every secret,
    as written and as the driver decodes it."""
    hidden = secret_values(connection)
    for secret in secrets:
        assert secret in hidden or any(secret in value for value in hidden)


@pytest.mark.parametrize(("connection", "shown", "secrets"), NEAR_MISSES)
def test_a_client_sending_back_the_masked_form_keeps_the_real_one(
    connection: str, shown: str, secrets: list[str]
) -> None:
    assert is_masked_echo(shown, connection)
    assert is_masked_echo(f" {shown.strip()}\n", connection)  # as a form trims it, or not
    assert not is_masked_echo(shown.replace(MASK, "new-password", 1), connection)


@pytest.mark.parametrize(
    "connection",
    [
        "",
        "duckdb:///data/sales.duckdb",
        "duckdb:analytics.duckdb",
        ":memory:",
        "/data/sales.duckdb",
        "sqlite:///sales.db",
        "postgresql://ana@db.example:5432/sales?sslmode=require&application_name=nb",
        "postgresql://ana:${PGPASSWORD}@db.example/sales",
        "host=db.example password=${PGPASSWORD}",
        "DSN=warehouse;UID=ana",
    ],
)
def test_what_holds_no_literal_secret_is_shown_as_is(connection: str) -> None:
    assert mask_password(connection) == connection
    assert not is_masked_echo(connection, connection)
