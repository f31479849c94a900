"""jupyter_server's own contents-manager tests, run on ``DynamoDBContentsManager``.

jupyter_server ships its tests in its sdist and repository, not in the wheel: ``make
upstream-tests`` fetches the sdist of the installed version (``.cache/upstream``), and
``test_upstream_suite.py`` runs this on it in ``make test``. Given a checkout (or the
sdist), this copies ``tests/services/contents/test_manager.py`` into a temporary
folder, points its ``jp_contents_manager`` fixture at a DynamoDB manager on a local moto
server, makes its ``_make_dir`` helper write directory items instead of calling
``os.makedirs``, and runs the tests that use that fixture::

    python -m tests.contents.upstream_suite /path/to/jupyter_server [pytest args...]

Tests on the file manager's own parts (``_get_os_path``, the trash, its ``is_hidden``) are
left out, each with its reason: :data:`NOT_FOR_THIS_MANAGER`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = f"""
import sys, uuid
import pytest
from traitlets.config import Config
sys.path.insert(0, {str(ROOT)!r})
from tests.contents import moto_server
from reactive_notebook.contents.dynamodb import DynamoDBContentsManager

@pytest.fixture(scope="session")
def moto():
    server = moto_server.start()
    yield server
    server.stop()

@pytest.fixture
def dynamo(moto, monkeypatch):
    for name, value in moto_server.DUMMY_ENV.items():
        monkeypatch.setenv(name, value)
    cm = DynamoDBContentsManager(
        table_name=f"upstream-{{uuid.uuid4().hex[:12]}}", endpoint_url=moto.endpoint_url,
        create_table=True, retry_base_delay=0.001,
        config=Config({{"NotebookNotary": {{"db_file": ":memory:"}}}}),
    )
    cm.table.ensure_table(True)
    cm._table_checked = True
    return cm
"""

FIXTURE = """@pytest.fixture
def jp_contents_manager(dynamo):
    return dynamo


"""

MAKE_DIR = """def _make_dir(jp_contents_manager, api_path):
    parts = api_path.strip("/").split("/")
    for n in range(1, len(parts) + 1):
        if jp_contents_manager.table.head("/".join(parts[:n])) is None:
            jp_contents_manager.table.put_directory("/".join(parts[:n]))


"""


#: jupyter_server's tests of the file manager's own parts, which a manager off the disk
#: does not have: their test ids, and why each is left out.
NOT_FOR_THIS_MANAGER = {
    "test_delete_non_empty_folder[True-False-None]": "the file manager's trash (none here)",
    "test_copy_big_dir": "_make_big_dir writes its files through _get_os_path",
    "test_regression_is_hidden": "patches the file manager's is_hidden on os paths",
    "test_created_timestamp": "reads the file's os.stat through _get_os_path",
    "test_created_timestamp_fallback_to_epoch": "patches os.stat of _get_os_path",
    "test_base_model_invalid_timestamp_fallback": "patches os.stat of _get_os_path",
}


def _between(text: str, start: str, end: str, replacement: str) -> str:
    head, rest = text.split(start, 1)
    return head + replacement + end + rest.split(end, 1)[1]


def build(checkout: Path, into: Path) -> Path:
    """The patched test module, in a package tree like the repository's; its path."""
    source = (checkout / "tests/services/contents/test_manager.py").read_text()
    source = _between(
        source,
        "@pytest.fixture(\n    params=[\n        (FileContentsManager, True)",
        "@pytest.fixture(params=[FileContentsManager, AsyncFileContentsManager])",
        FIXTURE,
    )
    source = _between(source, "def _make_dir(", "def _make_big_dir", MAKE_DIR)
    package = into / "upstream"
    (package / "services/contents").mkdir(parents=True)
    for folder in (package, package / "services", package / "services/contents"):
        (folder / "__init__.py").write_text("")
    (package / "utils.py").write_text((checkout / "tests/utils.py").read_text())
    (package / "services/contents/conftest.py").write_text(CONFTEST)
    module = package / "services/contents/test_manager.py"
    module.write_text(source)
    return module


def main(argv: list[str]) -> int:
    checkout, extra = Path(argv[0]), argv[1:]
    with tempfile.TemporaryDirectory() as folder:
        module = build(checkout, Path(folder))
        # Only the tests of the contents manager under test (not the file manager's).
        names = [
            line.split("(")[0].removeprefix("async def ").removeprefix("def ")
            for line in module.read_text().splitlines()
            if line.startswith(("async def test_", "def test_")) and "jp_contents_manager" in line
        ]
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "jupyter_server.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rf",
            *(f"{module}::{name}" for name in names),
            *(
                f"--deselect={module.relative_to(folder)}::{test_id}"
                for test_id in NOT_FOR_THIS_MANAGER
            ),
        ]
        return subprocess.call([*command, *extra], cwd=folder)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
