"""jupyter_server's own contents-manager tests (``test_manager.py`` of the installed
version's sdist, fetched by ``make upstream-tests``) pass on ``DynamoDBContentsManager``
on a real moto server, but for the tests of the file manager's own parts
(``upstream_suite.NOT_FOR_THIS_MANAGER``, each with its reason)."""

from __future__ import annotations

import jupyter_server
import pytest

from . import upstream_suite

SDIST = upstream_suite.ROOT / ".cache/upstream" / f"jupyter_server-{jupyter_server.__version__}"


def test_jupyter_servers_contents_tests_pass_on_dynamodb() -> None:
    if not (SDIST / "tests/services/contents/test_manager.py").exists():
        pytest.skip(f"no {SDIST}: `make upstream-tests` fetches jupyter_server's sdist")
    assert upstream_suite.main([str(SDIST)]) == 0


def test_what_is_left_out_is_named_in_the_upstream_module() -> None:
    """A test left out that upstream renamed or dropped would hide nothing: say so."""
    module = SDIST / "tests/services/contents/test_manager.py"
    if not module.exists():
        pytest.skip(f"no {SDIST}: `make upstream-tests` fetches jupyter_server's sdist")
    source = module.read_text()
    for test_id in upstream_suite.NOT_FOR_THIS_MANAGER:
        assert f"def {test_id.split('[')[0]}(" in source, test_id
