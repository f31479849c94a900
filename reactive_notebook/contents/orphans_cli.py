"""``jupyter reactive-notebook collect-orphans TABLE``: delete the chunk items of a
DynamoDB contents table that nothing refers to any more.

A save writes its chunks, then the head that points at them; a server killed in between
leaves chunks no head names, and a crash after a save can leave the replaced version's.
They cost storage only (nothing reads them), so collecting them is an operator's
periodic task, not the server's: it reads every item of the server's partitions.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from .dynamodb.retry import StorageBusyError, error_code
from .stores import DYNAMODB_SCHEME, DynamoDBOptions, StoreError, default_region, open_store


def main(args: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Exit status: 0 done, 2 the table cannot be used (nothing deleted)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if args.min_age_hours < 0:
        err.write("error: --min-age-hours cannot be negative\n")
        return 2
    options = DynamoDBOptions(
        region_name=args.region or default_region(),
        endpoint_url=args.endpoint_url or "",
        partition=args.partition,
        partition_depth=args.partition_depth,
    )
    try:
        store = open_store(
            f"{DYNAMODB_SCHEME}{args.table}", options, dest=False, create_table=False
        )
        if store.folder:
            raise StoreError(f"{args.table}: name the table only (a table is collected whole)")
        count = store.manager.table.collect_orphans(
            min_age=args.min_age_hours * 3600, dry_run=args.dry_run
        )
    except StoreError as error:
        err.write(f"error: {error}\n")
        return 2
    except ClientError as error:
        err.write(f"error: table {args.table}: {error_code(error)}: {error}\n")
        return 2
    except (BotoCoreError, StorageBusyError) as error:
        err.write(f"error: table {args.table}: {error}\n")
        return 2
    where = f"table {args.table}, partition {args.partition!r}"
    if args.dry_run:
        out.write(f"dry run: {count} orphaned chunk items would be deleted ({where})\n")
    else:
        out.write(f"deleted {count} orphaned chunk items ({where})\n")
    return 0
