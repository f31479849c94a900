"""A cell's outputs as they arrive during a run, kept within their limits. Pure.

Three limits, each a number of stored bytes (``ReactiveNotebook.max_output_bytes``,
``max_display_bytes`` and ``max_stream_bytes``): what the cell keeps of all its outputs
together (one stream printed in many chunks, or ten thousand small images, must not add
up past it); what one display (a figure, a table, an HTML page) may take; and what its
printed text (stdout and stderr together) may take. A figure stock JupyterLab shows
must pass whole, so the display and cell limits are large (tens of MB); a runaway print
loop is text, cut at the much smaller stream limit. The stream and display limits never
exceed the cell's. The cell's limit works like this (the stream limit alike, on text):

- Outputs are kept in order while they fit the *head*: the limit less what is set
  aside for the end of the output (a sixteenth of it for each stream's tail, a
  thirty-second for an error), 84% of it.
- Then the cell is *cut*: each stream (stdout, stderr) keeps only its last sixteenth of
  the limit, shown with a note saying how much was cut between the head and the tail;
  further displays are dropped, with one note saying so; an error is still kept, cut to
  a thirty-second of the limit.

So a saved cell never takes much more than the limit, whatever the code printed, and
the work is linear in what arrives (see ``stream_text``). Updates of a display by id are
applied in place and may not grow the cell past its head either.

:meth:`CellOutputs.add` returns what a client should be shown live, which after the cut
is nothing for streams until :meth:`CellOutputs.finish` hands over their tails: a
client that appends what it is shown holds the stored text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import NbOutput
from .outputs import cap_output, output_size, shows, text_of, update_target, updated
from .stream_text import StreamText, human_size

#: Stream outputs of different names that keep a tail once the cell is cut (stdout and
#: stderr; a kernel may name others, whose text is then dropped).
MAX_TAILS = 2

#: Stored bytes of a stream output besides its text (keys, indentation).
STREAM_OVERHEAD = 100


@dataclass(frozen=True)
class OutputLimits:
    """The limits of a cell's outputs, in stored bytes (``ReactiveNotebook``'s
    ``max_output_bytes``, ``max_display_bytes``, ``max_stream_bytes``; None: the cell's)."""

    cell: int
    display: int | None = None
    stream: int | None = None

    def keep(self, outputs: list[NbOutput]) -> CellOutputs:
        """A cell's outputs kept within these limits from now on."""
        return CellOutputs(outputs, self.cell, display_limit=self.display, stream_limit=self.stream)


def dropped_note(limit: int) -> str:
    return (
        f"output truncated: more output than a cell keeps ({human_size(limit)}); "
        "the rest of this cell's displays were not kept"
    )


class CellOutputs:
    """The outputs of one cell during a run, changed in place in ``outputs``.

    Stream texts are joined lazily: call :meth:`sync` before reading ``outputs``.
    """

    def __init__(
        self,
        outputs: list[NbOutput],
        limit: int,
        *,
        display_limit: int | None = None,
        stream_limit: int | None = None,
    ) -> None:
        self.outputs = outputs
        self.limit = max(0, limit)
        #: Most bytes of printed text the cell keeps (its streams' heads and tails).
        self.stream_limit = min(self.limit, self.limit if stream_limit is None else stream_limit)
        self.tail_limit = self.stream_limit // 16
        self.error_limit = self.limit // 32
        self.head_limit = self.limit - MAX_TAILS * self.tail_limit - self.error_limit
        #: The streams' heads end here (the cell's head, when text may fill the cell).
        self.stream_head = min(
            self.head_limit,
            self.stream_limit - MAX_TAILS * self.tail_limit - self.stream_limit // 32,
        )
        #: Most bytes one display keeps; a larger one becomes a note saying what it was.
        self.display_limit = min(
            self.head_limit, self.head_limit if display_limit is None else display_limit
        )
        self.used = sum(output_size(output) for output in outputs)
        self.stream_used = 0
        #: The cell is full: streams feed their tails, displays are dropped.
        self.cut = False
        #: The streams' heads are full (the cell or the stream limit): streams feed
        #: their tails; displays still fit while the cell has room.
        self.streams_cut = False
        self.dropped_outputs = 0
        self.dropped_bytes = 0
        self._streams: list[tuple[NbOutput, StreamText]] = []
        self._last: tuple[NbOutput, StreamText] | None = None
        self._tails: dict[str, StreamText] = {}
        self._error_used = 0
        self._note: NbOutput | None = None

    # -- adding ----------------------------------------------------------------------

    def add(self, output: NbOutput) -> NbOutput | None:
        """Record ``output``; what to show a client now (None: nothing)."""
        if output.get("output_type") == "stream":
            return self._add_stream(str(output.get("name") or "stdout"), text_of(output["text"]))
        target = update_target(output)
        if target is not None:
            return self._update(target, output)
        if output.get("output_type") == "error":
            return self._add_error(output)
        return self._add_display(output)

    def finish(self) -> list[NbOutput]:
        """The cell has ended: the stream chunks to show now (the tails of cut streams,
        each after a note saying how much was cut). ``outputs`` is complete afterwards."""
        endings: list[NbOutput] = []
        for stored, stream in self._streams:
            ending = stream.finish()
            if ending:
                endings.append(_stream(str(stored["name"]), ending))
        self.sync()
        return endings

    def sync(self) -> None:
        """Write the stream texts into ``outputs`` (joined once per change)."""
        for stored, stream in self._streams:
            stored["text"] = stream.value()

    @property
    def scanned(self) -> int:
        """Characters of stream text examined or copied so far (linear in the input)."""
        return sum(stream.scanned for _, stream in self._streams)

    # -- streams ---------------------------------------------------------------------

    def _add_stream(self, name: str, text: str) -> NbOutput | None:
        if self.cut or self.streams_cut:
            stream = self._tail_of(name)
            if stream is None:
                self.dropped_bytes += len(text)
                return None
            shown = stream.append(text, 0)
        else:
            last = self._last
            if last is None or last[0] is not self._last_output() or last[0]["name"] != name:
                last = self._new_stream(name)
            stream = last[1]
            before = stream.cost
            cell_room = self.head_limit - self.used
            stream_room = self.stream_head - self.stream_used
            shown = stream.append(text, min(cell_room, stream_room))
            self.used += stream.cost - before
            self.stream_used += stream.cost - before
            if stream.cut:
                self.streams_cut = True
                self.cut = cell_room <= stream_room  # the cell was full, not the text
                self._tails[name] = stream
        return _stream(name, shown) if shown else None

    def _tail_of(self, name: str) -> StreamText | None:
        """The stream that keeps ``name``'s tail once the cell is cut: the last output
        when it is that stream, else a new one at the end."""
        stream = self._tails.get(name)
        if stream is None and len(self._tails) < MAX_TAILS:
            last = self._last
            if last is None or last[0] is not self._last_output() or last[0]["name"] != name:
                last = self._new_stream(name)
            stream = self._tails[name] = last[1]
        return stream

    def _new_stream(self, name: str) -> tuple[NbOutput, StreamText]:
        stored: NbOutput = {"output_type": "stream", "name": name, "text": ""}
        stream = StreamText(limit=self.stream_limit, tail_limit=self.tail_limit)
        self.outputs.append(stored)
        self.used += STREAM_OVERHEAD
        self.stream_used += STREAM_OVERHEAD
        self._last = (stored, stream)
        self._streams.append(self._last)
        return self._last

    def _last_output(self) -> NbOutput | None:
        return self.outputs[-1] if self.outputs else None

    # -- displays and errors ---------------------------------------------------------

    def _add_display(self, output: NbOutput) -> NbOutput | None:
        output = cap_output(output, self.display_limit)
        size = output_size(output)
        if not self.cut and self.used + size <= self.head_limit:
            self.outputs.append(output)
            self.used += size
            return output
        return self._drop(size)

    def _add_error(self, output: NbOutput) -> NbOutput | None:
        size = output_size(output)
        if not self.cut and self.used + size <= self.head_limit:
            self.outputs.append(output)
            self.used += size
            return output
        room = self.error_limit - self._error_used
        capped = cap_output(output, room)
        capped_size = output_size(capped)
        if capped_size > room:
            return self._drop(size)
        self.outputs.append(capped)
        self._error_used += capped_size
        return capped

    def _update(self, target: str, update: NbOutput) -> NbOutput:
        """Apply an update of display ``target`` to each of its outputs that fits; one
        that would grow the cell past its head shows the truncation note instead."""
        shown = cap_output(update, self.display_limit)
        for index, existing in enumerate(self.outputs):
            if not shows(existing, target):
                continue
            new = updated(existing, shown)
            old_size, new_size = output_size(existing), output_size(new)
            if self.used - old_size + new_size > self.head_limit:
                new = cap_output(new, 0)  # the note, keeping the display id
                new_size = output_size(new)
                shown = new
            self.outputs[index] = new
            self.used += new_size - old_size
        return shown

    def _drop(self, size: int) -> NbOutput | None:
        """An output that does not fit: counted, and the first one leaves a note."""
        self.cut = True
        self.dropped_outputs += 1
        self.dropped_bytes += size
        if self._note is not None:
            return None
        note = dropped_note(self.limit)
        self._note = {
            "output_type": "display_data",
            "data": {"text/plain": note, "text/markdown": f"*{note}*"},
            "metadata": {"reactive_notebook": {"truncated": True}},
        }
        self.outputs.append(self._note)
        return self._note


def _stream(name: str, text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}
