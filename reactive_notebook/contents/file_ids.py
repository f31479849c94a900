"""The file-id manager collaboration rooms need over a storage that is not a disk.

jupyter-collaboration names a room after the notebook's file id. jupyter_server_fileid's
default ``LocalFileIdManager`` gives ids only to paths it can ``stat`` on the local disk,
so over DynamoDB every room would answer 404. Its ``ArbitraryFileIdManager`` keeps ids
for any path and follows renames through the contents manager's events.
"""

from __future__ import annotations

import sys
from typing import Any

ARBITRARY = "jupyter_server_fileid.manager.ArbitraryFileIdManager"


def file_id_problem(contents_manager: Any, file_id_manager: Any) -> str | None:
    """What to tell the operator when rooms cannot open this storage's notebooks."""
    # Looked up, not imported: a server on the file store does not load boto3 for this.
    dynamodb = sys.modules.get("reactive_notebook.contents.dynamodb.manager")
    if file_id_manager is None or dynamodb is None:
        return None
    if not isinstance(contents_manager, dynamodb.DynamoDBContentsManager):
        return None
    try:
        from jupyter_server_fileid.manager import ArbitraryFileIdManager
    except ImportError:
        return None
    if isinstance(file_id_manager, ArbitraryFileIdManager):
        return None
    return (
        f"Collaboration rooms cannot open notebooks stored in DynamoDB with "
        f"{type(file_id_manager).__name__}, which gives ids only to files on the local "
        f"disk: set FileIdExtension.file_id_manager_class = {ARBITRARY!r}"
    )
