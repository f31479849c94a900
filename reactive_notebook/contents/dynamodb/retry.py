"""Throttled DynamoDB calls: retried with exponential backoff, then a 503.

botocore's own retries are turned off for the client (see ``table.make_client``) so that
one policy, this one, applies to every call and its give-up error is ours: a
:class:`StorageBusyError`, an ``HTTPError(503)`` the contents API returns as is, with
the number of seconds to wait in ``retry_after``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError
from tornado.web import HTTPError

T = TypeVar("T")

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


class StorageBusyError(HTTPError):
    """DynamoDB kept throttling past the retry budget: try again later (503)."""

    def __init__(self, operation: str, attempts: int, retry_after: int) -> None:
        # Formatted here: jupyter_server's API replies with ``log_message`` unformatted.
        super().__init__(
            503,
            f"The notebook storage is busy (DynamoDB throttled {operation} {attempts} "
            f"times); try again in {retry_after} s",
        )
        self.retry_after = retry_after


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def with_retries(
    operation: str,
    call: Callable[[], T],
    *,
    attempts: int,
    base_delay: float,
    max_delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; on a throttling error sleep (full jitter backoff) and run it again,
    at most ``attempts`` times in all. Any other error propagates at once."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ClientError as error:
            if error_code(error) not in THROTTLING_CODES:
                raise
            if attempt == attempts:
                raise StorageBusyError(operation, attempts, max(1, round(max_delay))) from error
            sleep(random.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1))))
    raise AssertionError("unreachable")
