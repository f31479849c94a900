"""The magic names automagic applies to, read from IPython and ipykernel themselves."""

from __future__ import annotations

import pytest

from reactive_notebook.reactive.automagic import automagic_call, automagic_names


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("ls", id="default-alias"),
        pytest.param("cat", id="default-alias-cat"),
        pytest.param("cd", id="osmagics"),
        pytest.param("who", id="namespace-magics"),
        pytest.param("time", id="execution-magics"),
        pytest.param("hist", id="hand-registered-alias"),
        pytest.param("clear", id="ipykernel-kernel-magics"),
    ],
)
def test_line_magics_and_aliases_are_automagic(name: str) -> None:
    assert name in automagic_names()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("capture", id="cell-magic-only"),
        pytest.param("print", id="builtin-shadows"),
        pytest.param("lambda", id="keyword-shadows"),
        pytest.param("foo", id="unknown"),
    ],
)
def test_other_names_are_not_automagic(name: str) -> None:
    assert name not in automagic_names()


@pytest.mark.parametrize(
    ("line", "call"),
    [
        ("ls  -l  $d\n", "get_ipython().run_line_magic('ls', '-l  $d')"),
        ("cat 'a b.txt'\n", "get_ipython().run_line_magic('cat', \"'a b.txt'\")"),
        ("pwd\n", "get_ipython().run_line_magic('pwd', '')"),
    ],
)
def test_the_call_is_the_one_ipythons_magic_handler_writes(line: str, call: str) -> None:
    from IPython.core.prefilter import MagicHandler
    from IPython.core.splitinput import LineInfo

    assert automagic_call(line) == call
    stock = MagicHandler.handle(None, LineInfo(line.rstrip("\n")))  # type: ignore[arg-type]
    assert stock == call
