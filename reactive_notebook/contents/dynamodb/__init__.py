"""DynamoDB storage (issue 19): an ``AsyncContentsManager`` over one DynamoDB table.

- ``keys``: the key schema (owner partition, path sort keys, chunk and checkpoint keys).
- ``chunks``: compress a body and cut it into pieces well under the 400 KB item limit.
- ``retry``: throttled calls retried with backoff, then a 503.
- ``table``: the synchronous table layer (heads, chunked bodies, conditional writes).
- ``checkpoints``: checkpoints as records of the same table.
- ``manager``: :class:`DynamoDBContentsManager`, the contents API over the table.

Used only when an operator selects it with ``ServerApp.contents_manager_class``.
"""

from .checkpoints import DynamoDBCheckpoints
from .manager import DynamoDBContentsManager

__all__ = ["DynamoDBCheckpoints", "DynamoDBContentsManager"]
