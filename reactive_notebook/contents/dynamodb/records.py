"""What the table layer hands out: decoded head records, the client, the times it
stamps, and its errors (409 for a lost conditional write, 404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from tornado.web import HTTPError

from . import keys


class ConflictError(HTTPError):
    """A conditional write lost: someone else changed the item first (409)."""

    def __init__(self, path: str, what: str) -> None:
        # Formatted here: jupyter_server's API replies with ``log_message`` unformatted.
        super().__init__(
            409,
            f"{path} was changed by another save while this one ran; {what}. "
            "Reload it and save again.",
        )


class NotFoundError(HTTPError):
    def __init__(self, path: str) -> None:
        super().__init__(404, f"No such file or directory: {path}")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _now_after(previous: str | None) -> str:
    """Now, or one microsecond after ``previous`` if the clock says earlier: a replaced
    item's ``last_modified`` always grows, whatever the clocks of the servers writing it
    (jupyter-collaboration takes a change made around a room only if it grows)."""
    now = datetime.now(UTC)
    if previous:
        floor = datetime.fromisoformat(previous) + timedelta(microseconds=1)
        now = max(now, floor)
    return now.isoformat()


@dataclass
class Record:
    """A head (or checkpoint) item, decoded."""

    sk: str
    path: str
    type: str  # "file" | "notebook" | "directory"
    version: int
    size: int
    hash: str
    created: str
    last_modified: str
    body_id: str = ""
    chunks: int = 0
    inline: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return keys.split_path(self.path)[1]

    def last_modified_dt(self) -> datetime:
        return datetime.fromisoformat(self.last_modified)

    def created_dt(self) -> datetime:
        return datetime.fromisoformat(self.created)


def make_client(region_name: str, endpoint_url: str | None, **kwargs: Any) -> Any:
    """A DynamoDB client with botocore's retries off (``retry.py`` retries instead).
    Credentials come from boto3's standard chain; they are never logged here."""
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.client(
        "dynamodb", region_name=region_name, endpoint_url=endpoint_url, config=config, **kwargs
    )
