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
#: chunk items): most notebooks without images.
INLINE_MAX = 64 * 1024


def compress(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def decompress(data: bytes) -> bytes:
    return zlib.decompress(data)


def split(blob: bytes, size: int = CHUNK_SIZE) -> list[bytes]:
    """``blob`` in pieces of at most ``size`` bytes (one empty piece for an empty blob)."""
    if not blob:
        return [b""]
    return [blob[i : i + size] for i in range(0, len(blob), size)]
