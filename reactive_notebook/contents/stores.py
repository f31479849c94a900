"""A store named on the command line -> the contents manager the server would run on it.

- a local folder path (``notebooks``, ``/srv/nb``): :class:`AtomicFileContentsManager`
  rooted there, what ``make run`` serves;
- ``dynamodb://TABLE[/FOLDER]``: :class:`DynamoDBContentsManager` over ``TABLE``, the tree
  starting at ``FOLDER`` (the whole partition when absent). Region, endpoint and partition
  come from options; credentials from boto3's standard chain only (never on the command
  line, never printed).

Used by ``jupyter reactive-notebook copy`` (``copy_tree``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets.config import Config

DYNAMODB_SCHEME = "dynamodb://"


class StoreError(Exception):
    """A store that cannot be used as given (the command exits with status 2)."""


@dataclass(frozen=True)
class DynamoDBOptions:
    region_name: str
    endpoint_url: str
    partition: str
    partition_depth: int = 0


@dataclass
class Store:
    """One side of a copy: a manager (``None``: a local destination folder that does not
    exist yet, in a dry run) and the folder inside it that is the tree's root."""

    label: str
    kind: str  # "file" or "dynamodb"
    manager: Any
    folder: str
    #: what identifies the tree, to refuse copying a tree into itself
    identity: tuple[str, ...]


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _config() -> Config:
    # Notebook signatures are not touched by a byte copy; an in-memory notary keeps the
    # command from creating or locking the user's nbsignatures.db all the same.
    return Config({"NotebookNotary": {"db_file": ":memory:"}})


def open_store(spec: str, options: DynamoDBOptions, *, dest: bool, create_table: bool) -> Store:
    """The store ``spec`` names. A ``dest``ination's local folder may be missing (its
    manager is then ``None`` until :func:`make_local_root`); its table is made at first
    use if ``create_table``."""
    if spec.startswith(DYNAMODB_SCHEME):
        return _dynamodb_store(spec, options, create_table=dest and create_table)
    if "://" in spec:
        raise StoreError(
            f"{spec}: unknown kind of store (a local folder path, or dynamodb://TABLE[/FOLDER])"
        )
    return _file_store(spec, dest=dest)


def _file_manager(root: Path) -> Any:
    from .atomic import AtomicFileContentsManager

    return AtomicFileContentsManager(root_dir=str(root), delete_to_trash=False, config=_config())


def _file_store(spec: str, *, dest: bool) -> Store:
    root = Path(spec).expanduser().resolve()
    store = Store(spec, "file", None, "", ("file", str(root)))
    if not root.exists():
        if not dest:
            raise StoreError(f"{spec}: no such folder")
        return store
    if not root.is_dir():
        raise StoreError(f"{spec}: not a folder (name the folder holding the notebooks)")
    store.manager = _file_manager(root)
    return store


def make_local_root(store: Store) -> None:
    """Create a local destination's missing folder (with its parents) and its manager."""
    if store.kind == "file" and store.manager is None:
        root = Path(store.identity[1])
        root.mkdir(parents=True, exist_ok=True)
        store.manager = _file_manager(root)


def _dynamodb_store(spec: str, options: DynamoDBOptions, *, create_table: bool) -> Store:
    from .dynamodb import DynamoDBContentsManager

    rest = spec[len(DYNAMODB_SCHEME) :]
    table, _, folder = rest.partition("/")
    folder = folder.strip("/")
    if not table:
        raise StoreError(f"{spec}: no table name (dynamodb://TABLE[/FOLDER])")
    if "//" in folder:
        raise StoreError(f"{spec}: a folder path never holds '//'")
    manager = DynamoDBContentsManager(
        table_name=table,
        region_name=options.region_name,
        endpoint_url=options.endpoint_url,
        partition=options.partition,
        partition_depth=options.partition_depth,
        create_table=create_table,
        config=_config(),
    )
    identity = ("dynamodb", options.endpoint_url, options.region_name, table, options.partition)
    return Store(spec, "dynamodb", manager, folder, identity)


def overlaps(source: Store, dest: Store) -> bool:
    """Whether ``dest`` is ``source``'s tree or inside it (a copy would never end)."""
    if source.kind == "file" and dest.kind == "file":
        src, dst = Path(source.identity[1]), Path(dest.identity[1])
        return dst == src or src in dst.parents
    if source.identity != dest.identity:
        return False
    return (
        not source.folder
        or dest.folder == source.folder
        or (dest.folder.startswith(source.folder + "/"))
    )
