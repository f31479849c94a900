"""Item keys of the DynamoDB contents table.

One table, two key attributes, both strings:

- ``pk`` (partition key): the owner/root partition, e.g. ``"default"`` or a user's prefix
  in the multi-user mode, so each owner's tree is one partition.
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
