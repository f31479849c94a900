"""One stream output's text (a cell's stdout or stderr), appended chunk by chunk. Pure.

A kernel flushes what a cell prints in chunks; a long loop sends thousands of them. The
text is kept as a list of pieces and joined only when someone reads it, so appending is
linear in what was printed (joining on every chunk copied the whole text so far each
time). It is capped: the head is kept up to the room its cell gives it, then only the
last ``tail_limit`` bytes, in a deque trimmed a whole piece at a time. When the stream
ends (its cell finished), the text reads ``head + cut note + end note + tail``.

What a client is shown live follows the same text exactly: the head as it comes, the
cut note once when the head is full, and the end note and the tail when the cell ends.
A client that appends every chunk it is sent holds the stored text.

Sizes are in *stored* bytes (:func:`stored_size`): what the text takes in a saved
``.ipynb``, where nbformat writes one JSON string per line.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass

#: What nbformat adds per line of a stream's text in a saved notebook: the indentation,
#: quotes, comma and newline of one list item (``      "a\n",`` for ``a\n``).
LINE_COST = 10

#: A cut moves to the nearest line end within this many characters, so the kept head
#: ends with a whole line and the tail starts with one.
LINE_SEARCH = 1024


#: Line breaks other than ``\n`` that nbformat splits a text on (``str.splitlines``).
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def stored_size(text: str) -> int:
    """Bytes ``text`` takes as a stream's text in a saved notebook (UTF-8 JSON, one
    string per line). At least ``len(text)``. Linear, in C."""
    escaped = json.dumps(text, ensure_ascii=False)
    encoded = len(escaped) if escaped.isascii() else len(escaped.encode("utf-8"))
    lines = text.count("\n")
    if _OTHER_BREAKS.search(text):  # rare: one scan finds none
        lines += len(_OTHER_BREAKS.findall(text))
    return encoded - 2 + LINE_COST * lines


def utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def human_size(size: int) -> str:
    """``size`` bytes for a person: ``97.3 MB``, ``250 kB``, ``80 bytes``."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1000:
        return f"{size / 1000:.0f} kB"
    return f"{size} bytes"


def cut_note(limit: int) -> str:
    """Where the head ends: printed live when it happens, and kept in the text."""
    return (
        f"[... output cut: a cell keeps at most {human_size(limit)} of printed text; "
        "the end of it follows when the cell finishes ...]\n"
    )


def end_note(cut: int) -> str:
    """Before the tail: how much was dropped between the head and the tail."""
    return f"[... {human_size(cut)} of output cut ...]\n"


@dataclass(slots=True)
class _Piece:
    text: str
    cost: int


class StreamText:
    """The text of one stream output, capped to its head and its tail.

    ``append(text, room)`` keeps what fits ``room`` (the stored bytes its cell still has
    for heads) and returns what to show live; once a chunk does not fit, the stream is
    *cut*: later text only feeds the tail, and nothing more is shown until ``finish``.
    ``scanned`` counts the characters the stream has examined or copied (a test checks
    that it stays proportional to the text appended).
    """

    def __init__(self, *, limit: int, tail_limit: int) -> None:
        self.limit = limit
        self.tail_limit = max(0, tail_limit)
        self.head_cost = 0  # stored bytes of the head, the cut note included
        self.cut = False  # the head is closed: text goes to the tail
        self.finished = False
        self.dropped = 0  # UTF-8 bytes of text kept neither in the head nor the tail
        self.scanned = 0
        self._head: list[str] = []
        self._tail: deque[_Piece] = deque()
        self._tail_cost = 0
        self._value: str | None = ""
        self._last_char = "\n"  # of the head: "\n" when a line starts (or nothing is)

    # -- appending -------------------------------------------------------------------

    def append(self, text: str, room: int) -> str:
        """Add a chunk; the part of it to show now ("" when nothing is)."""
        if self.finished:
            raise RuntimeError("the stream has finished")
        if not text:
            return ""
        if self.cut:
            self._to_tail(text)
            return ""
        if len(text) <= room:  # cheap test first: a chunk costs at least its length
            cost = self._cost(text)
            if cost <= room:
                self._add_head(text, cost)
                return text
        kept = _prefix_within(text, room, self)
        if kept:
            self._add_head(kept, self._cost(kept))
        note = cut_note(self.limit)
        if (kept[-1:] or self._last_char) != "\n":
            note = "\n" + note  # on a line of its own
        self._add_head(note, self._cost(note))
        self.cut = True
        self._to_tail(text[len(kept) :])
        return kept + note

    def finish(self) -> str:
        """The stream has ended: the text to show now (the end note and the tail of a
        cut stream, else ""). The stored text is complete from here on."""
        if self.finished:
            return ""
        self.finished = True
        if not self.cut:
            return ""
        tail = self._trimmed_tail()
        ending = (end_note(self.dropped) if self.dropped else "") + tail
        self._add_head(ending, self._cost(ending))
        self._tail.clear()
        self._tail_cost = 0
        return ending

    # -- reading ---------------------------------------------------------------------

    def value(self) -> str:
        """The text as stored now: the head (and, once cut, the cut note) until the
        stream finishes, then everything. Joined once per change."""
        if self._value is None:
            self._value = "".join(self._head)
            self.scanned += len(self._value)
            if len(self._head) > 1:
                self._head = [self._value]  # the next join starts from one piece
        return self._value

    @property
    def cost(self) -> int:
        """Stored bytes of the text now (the tail counted only once it is shown)."""
        return self.head_cost

    # -- internals -------------------------------------------------------------------

    def _cost(self, text: str) -> int:
        self.scanned += len(text)
        return stored_size(text)

    def _drop(self, text: str) -> None:
        self.scanned += len(text)
        self.dropped += utf8_size(text)

    def _add_head(self, text: str, cost: int) -> None:
        self._last_char = text[-1:] or self._last_char
        self._head.append(text)
        self.head_cost += cost
        self._value = None

    def _to_tail(self, text: str) -> None:
        """Keep the last ``tail_limit`` stored bytes: a piece longer than that is cut on
        the way in, then whole pieces leave from the left while the rest still fills
        the limit, so each character is examined a bounded number of times and the
        deque holds at most about twice the limit."""
        if not text:
            return
        if len(text) > self.tail_limit:
            kept = text[len(text) - self.tail_limit :]
            if text.isascii():  # a byte a character: count without copying
                self.dropped += len(text) - len(kept)
            else:
                self._drop(text[: len(text) - len(kept)])
            text = kept
        cost = self._cost(text)
        if cost > self.tail_limit:
            kept = _suffix_within(text, self.tail_limit, self)
            self._drop(text[: len(text) - len(kept)])
            text, cost = kept, self._cost(kept)
        self._tail.append(_Piece(text, cost))
        self._tail_cost += cost
        while self._tail and self._tail_cost - self._tail[0].cost >= self.tail_limit:
            gone = self._tail.popleft()
            self._tail_cost -= gone.cost
            self._drop(gone.text)

    def _trimmed_tail(self) -> str:
        """The tail within ``tail_limit``, starting at a line start when one is near."""
        pieces = list(self._tail)
        excess = self._tail_cost - self.tail_limit
        if pieces and excess > 0:
            first = pieces[0]
            kept = _suffix_within(first.text, max(0, first.cost - excess), self)
            self._drop(first.text[: len(first.text) - len(kept)])
            pieces[0] = _Piece(kept, 0)
        tail = "".join(piece.text for piece in pieces)
        self.scanned += len(tail)
        if self.dropped:
            start = tail.find("\n", 0, LINE_SEARCH)
            if start >= 0 and start + 1 < len(tail):
                self._drop(tail[: start + 1])
                tail = tail[start + 1 :]
        return tail


def _prefix_within(text: str, budget: int, stream: StreamText) -> str:
    """A long prefix of ``text`` whose stored size fits ``budget``, ending at a line end
    when one is near. Each try shrinks in proportion to the excess, so a few passes
    over at most ``budget`` characters (a character costs at least one byte)."""
    end = min(len(text), max(0, budget))
    while end > 0:
        cost = stream._cost(text[:end])
        if cost <= budget:
            break
        end = min(end - 1, end * budget // cost)
    line_end = text.rfind("\n", max(0, end - LINE_SEARCH), end)
    if line_end >= 0:
        end = line_end + 1
    elif end <= LINE_SEARCH:  # the start of a short line: it goes with the rest
        end = 0
    return text[:end]


def _suffix_within(text: str, budget: int, stream: StreamText) -> str:
    """A long suffix of ``text`` whose stored size fits ``budget`` (see _prefix_within)."""
    size = min(len(text), max(0, budget))
    while size > 0:
        cost = stream._cost(text[len(text) - size :])
        if cost <= budget:
            break
        size = min(size - 1, size * budget // cost)
    return text[len(text) - size :] if size else ""
