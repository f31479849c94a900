"""Storage: notebooks as plain nbformat 4.5 ``.ipynb`` files, through Jupyter's contents API.

- ``ipynb``: the pure mapping between :class:`~reactive_notebook.models.Notebook` and
  nbformat, so stock JupyterLab opens what we write and we open what it writes.
- ``atomic``: a contents manager whose saves are crash-safe (temp file, fsync, replace).
- ``store``: :class:`NotebookStore`, the one place the service loads and saves notebooks,
  over whatever contents manager the server runs, with ids stable across renames.
- ``dynamodb``: :class:`DynamoDBContentsManager`, the contents API over a DynamoDB table
  (``ServerApp.contents_manager_class = "reactive_notebook.contents.DynamoDBContentsManager"``).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """``DynamoDBContentsManager`` on first use: boto3 is imported only by servers that
    store in DynamoDB."""
    if name == "DynamoDBContentsManager":
        from .dynamodb import DynamoDBContentsManager

        return DynamoDBContentsManager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
