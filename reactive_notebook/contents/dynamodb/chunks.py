"""A body as compressed chunks that each fit well inside one DynamoDB item.

An item is at most 400 KB, attribute names and key included (pitfalls.md, Storage); one
PNG output can exceed it. A body is zlib-compressed, then cut into pieces of at most
``CHUNK_SIZE`` bytes; the pieces are joined back and decompressed on read.
"""

from __future__ import annotations

import zlib

#: Bytes of compressed body per chunk item: 256 KiB, leaving ~140 KB of the 400 KB item
#: limit for the key and attribute names.
CHUNK_SIZE = 256 * 1024

#: A compressed body up to this size is stored inline in its head item (one write, no
#: chunk items). Small, because the head is read far more often than the body: a
#: collaboration room polls it every second, a listing reads every head of a folder, and
#: DynamoDB charges a read by the whole item (4 KB per unit), projection or not. 3 KiB
#: keeps a head with its metadata within one unit.
INLINE_MAX = 3 * 1024

#: The most ``inline_body_bytes`` may be: 25 folder moves (one transaction) stay far
#: inside a transaction's 4 MB.
INLINE_LIMIT = 64 * 1024


def compress(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def decompress(data: bytes) -> bytes:
    return zlib.decompress(data)


def split(blob: bytes, size: int = CHUNK_SIZE) -> list[bytes]:
    """``blob`` in pieces of at most ``size`` bytes (one empty piece for an empty blob)."""
    if not blob:
        return [b""]
    return [blob[i : i + size] for i in range(0, len(blob), size)]
