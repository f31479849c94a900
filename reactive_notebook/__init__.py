"""reactive-notebook: reactive notebooks as a Jupyter server extension."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import ReactiveNotebook

    return [{"module": "reactive_notebook", "app": ReactiveNotebook}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension, once the package ships one (issue 6)."""
    return [{"src": "labextension", "dest": "reactive-notebook"}]
