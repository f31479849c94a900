"""``ReactiveNotebook.sql_allowed_hosts`` given to a real server: every command-line and
config-file form means what it says (it used to read ``db.internal`` as "any host"),
a value that cannot be read stops the server, and with hosts restricted the embedded
DuckDB reaches no network and no file outside the notebook's folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import reactive_notebook
from tests.postgres import PostgresServer

from .conftest import Api, payload

OPTION = "--ReactiveNotebook.sql_allowed_hosts"


def extension(serverapp: Any) -> Any:
    (app,) = serverapp.extension_manager.extension_apps["reactive_notebook"]
    return app


@pytest.mark.parametrize(
    ("jp_argv", "enforced"),
    [
        ([], None),
        ([f"{OPTION}=db.internal"], ("db.internal",)),
        ([f"{OPTION}=a.internal", f"{OPTION}=b.internal"], ("a.internal", "b.internal")),
        ([f'{OPTION}=["a.internal", "b.internal"]'], ("a.internal", "b.internal")),
        ([f"{OPTION}=['a.internal']"], ("a.internal",)),
        ([f"{OPTION}=a.internal,b.internal"], ("a.internal", "b.internal")),
        ([f"{OPTION}=[a.internal,b.internal]"], ("a.internal", "b.internal")),
        ([f"{OPTION}=[]"], ()),
        (
            [f"{OPTION}=[::1],DB.Internal.,/run/postgresql"],
            ("::1", "db.internal", "/run/postgresql"),
        ),
    ],
    ids=["unset", "one", "repeated", "json", "python", "commas", "bare list", "empty", "mixed"],
)
async def test_every_command_line_form_means_what_it_says(
    jp_serverapp: Any, jp_argv: list[str], enforced: tuple[str, ...] | None
) -> None:
    app = extension(jp_serverapp)
    assert app.service.sql.allowed_hosts == enforced  # what every SQL cell is checked against


@pytest.fixture
def config_file(request: pytest.FixtureRequest, jp_config_dir: Path) -> None:
    """``jupyter_server_config.json`` in the config folder, with the parametrized value."""
    config = {"ReactiveNotebook": {"sql_allowed_hosts": request.param}}
    (jp_config_dir / "jupyter_server_config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("config_file", "enforced"),
    [
        (["a.internal", "b.internal"], ("a.internal", "b.internal")),
        ([], ()),
        ("db.internal", ("db.internal",)),
        (None, None),
    ],
    indirect=["config_file"],
    ids=["list", "empty list", "one string", "null"],
)
async def test_a_config_file_value_means_what_it_says(
    config_file: None, jp_serverapp: Any, enforced: tuple[str, ...] | None
) -> None:
    assert extension(jp_serverapp).service.sql.allowed_hosts == enforced


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("db.internal:5432", "'db.internal:5432' is not a host name (a host without its port"),
        ("", "an empty value is not a host list"),
        ("None", "'None' could mean no hosts or any host"),
        ('["db.internal"', "'[\"db.internal\"' is not a host name"),
        ("['a', 1]", "is not a list of host names"),
        ("*.internal", "(wildcards are not supported"),
        ("a,,b", "'' is not a host name"),
    ],
)
async def test_a_value_that_cannot_be_read_stops_the_server(
    jp_configurable_serverapp: Any, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        jp_configurable_serverapp(argv=[f"{OPTION}={value}"])
    assert stopped.value.code == 1
    (logged,) = [
        line
        for line in capsys.readouterr().err.splitlines()
        if "reactive_notebook: bad configuration: sql_allowed_hosts: " in line
    ]
    assert message in logged


def test_jupyter_server_exits_with_the_message(tmp_path: Path) -> None:
    """The real command: it exits at once, saying why, and never listens."""
    package_root = Path(reactive_notebook.__file__).parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": str(package_root),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    argv = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={tmp_path}",
        "--ServerApp.jpserver_extensions=reactive_notebook=True",
        f"{OPTION}=db.internal:5432",
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1, done.stderr
    assert "reactive_notebook: bad configuration: sql_allowed_hosts: 'db.internal:5432'" in (
        done.stderr
    )
    assert "is running at" not in done.stderr


@pytest.mark.parametrize("jp_argv", [[f"{OPTION}=db.internal"]], ids=["README form"])
async def test_the_readme_form_refuses_other_hosts(
    api: Api, jp_argv: list[str], postgres: PostgresServer
) -> None:
    notebook_id = payload(await api("POST", "notebooks", body={"name": "pg"}))["notebook_id"]
    await api("PUT", "notebooks", notebook_id, "db", body={"connection_string": postgres.url})
    created = await api(
        "POST", "notebooks", notebook_id, "cells", body={"type": "sql", "code": "SELECT 1 AS one"}
    )
    assert created.code == 201, created.body
    response = await api("POST", "notebooks", notebook_id, "run", body={"wait": True})
    (cell,) = payload(response)["cells"]
    assert cell["status"] == "error", cell
    assert cell["error"] == (
        f"SQLError: SQL cells may not connect to '{postgres.host}': the server allows only "
        "db.internal (ReactiveNotebook.sql_allowed_hosts)"
    )


@pytest.mark.parametrize("jp_argv", [[f"{OPTION}=[]"]], ids=["no host"])
async def test_duckdb_keeps_to_the_notebook_folder_when_hosts_are_restricted(
    api: Api, jp_argv: list[str], jp_root_dir: Path, tmp_path: Path
) -> None:
    (jp_root_dir / "inside.csv").write_text("a\n1\n2\n")
    outside = tmp_path / "outside.csv"  # beside the server's root, not under it
    outside.write_text("a\n1\n")
    notebook_id = payload(await api("POST", "notebooks", body={"name": "duck"}))["notebook_id"]
    codes = {
        "frame": "import pandas as pd\nframe = pd.DataFrame({'a': [1, 2, 3]})",
        "variable": "SELECT sum(a) AS total FROM frame",
        "inside": "SELECT sum(a) AS total FROM 'inside.csv'",
        "outside": f"SELECT sum(a) AS total FROM '{outside}'",
        "extension": "LOAD postgres_scanner",
        "unlock": "SET enable_external_access = true",
    }
    for name, code in codes.items():
        kind = "python" if name == "frame" else "sql"
        created = await api(
            "POST", "notebooks", notebook_id, "cells", body={"type": kind, "code": code}
        )
        assert created.code == 201, created.body
    response = await api("POST", "notebooks", notebook_id, "run", body={"wait": True})
    cells = dict(zip(codes, payload(response)["cells"], strict=True))

    def total(cell: dict[str, Any]) -> Any:
        assert cell["status"] == "success", cell
        (table,) = [o["data"] for o in cell["outputs"] if o["mime_type"] == "application/json"]
        return table["rows"][0][-1]

    assert total(cells["variable"]) == 6  # DataFrame variables still work
    assert total(cells["inside"]) == 3  # files next to the notebook too
    assert "Permission Error: Cannot access file" in cells["outside"]["error"]
    assert "Loading external extensions is disabled" in cells["extension"]["error"]
    assert "the configuration has been locked" in cells["unlock"]["error"]
