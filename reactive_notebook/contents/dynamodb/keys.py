"""Item keys of the DynamoDB contents table.

One table, two key attributes, both strings:

- ``pk`` (partition key): the server's partition, e.g. ``"default"``; with a partition
  depth N > 0 (:func:`partition_of`), everything below the first N path components lives
  in ``<partition>/<first N components>`` (e.g. one user's tree in the multi-user mode).
  A folder's children always share one pk, and a file's checkpoint, upload and chunks
  live in the pk of the file's path.
- ``sk`` (sort key), by item kind:

  - ``H#<parent>//<name>``: the head of a file, notebook or directory. Every name of a
    folder shares the prefix ``H#<folder>//``, so listing a folder is one ``Query`` with
    ``begins_with``; a folder's whole subtree is ``H#<folder>/`` (its children and every
    deeper ``H#<folder>/sub//...``). A path never holds ``//``, so the two never mix.
  - ``C#<body id>#<index>``: one chunk of a compressed body. Bodies are immutable and
    named by a fresh id, so a save never overwrites the chunks a reader may be fetching.
  - ``K#<path>``: the checkpoint of ``path`` (a head with its own body).
  - ``U#<path>``: a chunked upload in progress (the ids of the parts received so far).
"""

from __future__ import annotations

HEAD = "H#"
CHUNK = "C#"
CHECKPOINT = "K#"
UPLOAD = "U#"


def split_path(path: str) -> tuple[str, str]:
    """``"a/b/c.ipynb"`` -> ``("a/b", "c.ipynb")``; ``"c.ipynb"`` -> ``("", "c.ipynb")``."""
    path = path.strip("/")
    parent, _, name = path.rpartition("/")
    return parent, name


def content_type(path: str) -> str:
    """What a stored file is read back as: a notebook iff its name ends in ``.ipynb``,
    as the file store decides (a notebook uploaded in chunks arrives as a "file")."""
    return "notebook" if path.endswith(".ipynb") else "file"


def head_key(path: str) -> str:
    parent, name = split_path(path)
    return f"{HEAD}{parent}//{name}"


def children_prefix(folder: str) -> str:
    """The sort-key prefix of the direct children of ``folder`` ("" is the root)."""
    return f"{HEAD}{folder.strip('/')}//"


def subtree_prefix(folder: str) -> str:
    """The sort-key prefix of every descendant of a non-root ``folder``."""
    return f"{HEAD}{folder.strip('/')}/"


def chunk_key(body_id: str, index: int) -> str:
    return f"{CHUNK}{body_id}#{index:06d}"


def checkpoint_key(path: str) -> str:
    return f"{CHECKPOINT}{path.strip('/')}"


def upload_key(path: str) -> str:
    return f"{UPLOAD}{path.strip('/')}"


def path_of(sk: str) -> str:
    """The path a head, checkpoint or upload sort key names ("" for a chunk)."""
    if sk.startswith(HEAD):
        parent, _, name = sk[len(HEAD) :].partition("//")
        return f"{parent}/{name}" if parent else name
    if sk.startswith((CHECKPOINT, UPLOAD)):
        return sk[2:]
    return ""


def partition_of(partition: str, depth: int, path: str) -> str:
    """The pk of ``path``'s items: ``<partition>/<first depth components>`` when the path
    has more than ``depth`` components, else ``partition`` (so with depth 1 the folder
    ``alice`` is in ``partition`` and ``alice/x.ipynb`` in ``partition/alice``)."""
    parts = path.strip("/").split("/") if path.strip("/") else []
    if depth <= 0 or len(parts) <= depth:
        return partition
    return f"{partition}/{'/'.join(parts[:depth])}"


def children_partition(partition: str, depth: int, folder: str) -> str:
    """The one pk every direct child of ``folder`` lives in."""
    folder = folder.strip("/")
    return partition_of(partition, depth, f"{folder}/x" if folder else "x")
