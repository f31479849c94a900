"""Analysing cells without ever stalling the server.

Analysis is pure CPU work on code a client sent, and some of it cannot be made cheap from
here: CPython 3.11 compiles an f-string of 60,000 fields in seconds, and IPython's input
transformer tokenizes a cell several times. Run on the event loop, one such cell froze every
user of the server. So:

- a cell of at most ``inline_limit`` bytes (nearly all of them: a few ms at worst) is
  analysed in place;
- a larger one goes to a worker process, which the server kills when the analysis takes
  longer than ``timeout`` seconds (a thread could neither be stopped nor let the event loop
  run while ``compile`` holds the GIL);
- a cell over ``max_bytes`` is not analysed at all.

A cell that is too large or too slow to analyse gets a ``limit`` error (see
:func:`~reactive_notebook.reactive.analysis.limit_error`): the cell shows why and does not
run, and nothing else waits for it. Many small cells (opening a notebook of thousands)
are analysed in slices that give the event loop a turn every few milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import pickle
import struct
import sys
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from ..reactive.analysis import CellAnalysis, analyze_python, analyze_sql, limit_error
from .sql_cells import table_references

log = logging.getLogger(__name__)

#: The event loop gets a turn at least this often while many small cells are analysed.
_SLICE_SECONDS = 0.01
#: Worker results kept, by the code's digest (re-analysing a large unchanged cell is free).
_WORKER_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """What a cell's analysis depends on: its code, and for a SQL cell its result
    variable and whether it queries DuckDB (whose tables may be DataFrame variables)."""

    code: str
    sql: bool = False
    output: str | None = None
    duckdb: bool = False


def analyse_now(request: AnalysisRequest) -> CellAnalysis:
    """The analysis, computed in this process (the worker runs exactly this)."""
    if request.sql:
        tables = table_references(request.code) if request.duckdb else frozenset()
        return analyze_sql(request.code, request.output, tables=tables)
    return analyze_python(request.code)


class CellAnalyser:
    """Analyses cells in place, in a worker process or not at all, by their size."""

    def __init__(
        self,
        *,
        inline_limit: int = 20_000,
        max_bytes: int = 2_000_000,
        timeout: float = 10.0,
    ) -> None:
        self.inline_limit = inline_limit
        self.max_bytes = max_bytes
        self.timeout = timeout
        self._worker: _Worker | None = None
        self._worker_lock = asyncio.Lock()
        self._cache: OrderedDict[tuple[bytes, bool, str | None, bool], CellAnalysis] = OrderedDict()

    async def analyse(self, request: AnalysisRequest) -> CellAnalysis:
        """The cell's analysis, or a ``limit`` error saying why there is none."""
        size = len(request.code.encode("utf-8", errors="surrogatepass"))
        if size > self.max_bytes:
            return CellAnalysis(
                error=limit_error(
                    f"this cell has {size:,} bytes of code; cells over {self.max_bytes:,} "
                    "bytes are not analysed (ReactiveNotebook.max_cell_bytes), so it does "
                    "not run: split it into smaller cells"
                )
            )
        if size <= self.inline_limit:
            return analyse_now(request)
        return await self._in_worker(request)

    async def analyse_all(self, requests: Iterable[AnalysisRequest]) -> list[CellAnalysis]:
        """Many cells' analyses, in order, giving the event loop a turn every few ms."""
        results: list[CellAnalysis] = []
        turn = time.perf_counter()
        for request in requests:
            results.append(await self.analyse(request))
            if time.perf_counter() - turn > _SLICE_SECONDS:
                await asyncio.sleep(0)
                turn = time.perf_counter()
        return results

    async def close(self) -> None:
        """Stop the worker process (a later large cell starts another)."""
        async with self._worker_lock:
            if self._worker is not None:
                await self._worker.stop()
                self._worker = None

    async def _in_worker(self, request: AnalysisRequest) -> CellAnalysis:
        key = (
            hashlib.sha256(request.code.encode("utf-8", errors="surrogatepass")).digest(),
            request.sql,
            request.output,
            request.duckdb,
        )
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        # One analysis at a time in the one worker; a flood of large cells from one
        # client makes the others wait at most ``timeout`` before they hear so.
        try:
            async with asyncio.timeout(self.timeout):
                await self._worker_lock.acquire()
        except TimeoutError:
            return CellAnalysis(
                error=limit_error(
                    f"the server spent {self.timeout:g} s analysing other large cells before "
                    "this one's turn came, so it was not analysed and does not run: edit or "
                    "save it again in a moment"
                )
            )
        try:
            if self._worker is None or not self._worker.alive:
                self._worker = await _Worker.start()
            worker = self._worker
            try:
                result = await worker.analyse(request, self.timeout)
            except BaseException as failure:  # timed out, died, or the caller gave up
                await worker.stop()
                self._worker = None
                if not isinstance(failure, _WorkerFailed):
                    raise
                log.warning("cell analysis stopped: %s", failure)
                return CellAnalysis(error=limit_error(str(failure)))
        finally:
            self._worker_lock.release()
        self._cache[key] = result
        if len(self._cache) > _WORKER_CACHE_SIZE:
            self._cache.popitem(last=False)
        return result


class _WorkerFailed(Exception):
    """The worker took too long or died; the message is for the cell's author."""


_LENGTH = struct.Struct("!Q")


class _Worker:
    """A ``python -m`` process of this module that analyses the cells sent on its stdin.

    A process of its own, not ``multiprocessing``: its ``spawn`` re-runs the server's main
    script in the child, and forking a server that runs ZMQ and tornado threads is unsafe.
    Messages are pickles behind their length; only this server talks to it.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    @property
    def alive(self) -> bool:
        return self._process.returncode is None

    async def analyse(self, request: AnalysisRequest, timeout: float) -> CellAnalysis:
        """The analysis, or :class:`_WorkerFailed` (the caller then stops the worker)."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        message = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            async with asyncio.timeout(timeout):
                stdin.write(_LENGTH.pack(len(message)) + message)
                await stdin.drain()
                (size,) = _LENGTH.unpack(await stdout.readexactly(_LENGTH.size))
                result = pickle.loads(await stdout.readexactly(size))
        except TimeoutError:
            raise _WorkerFailed(
                f"analysing this cell took longer than {timeout:g} s and was stopped "
                "(ReactiveNotebook.analysis_timeout), so it does not run: split it into "
                "smaller cells"
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError, pickle.UnpicklingError) as error:
            raise _WorkerFailed(
                f"the process analysing this cell failed ({type(error).__name__}), so it "
                "does not run: split it into smaller cells"
            ) from None
        if not isinstance(result, CellAnalysis):
            raise _WorkerFailed("the process analysing this cell gave no analysis")
        return result

    async def stop(self) -> None:
        if self.alive:
            self._process.kill()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self._process.wait()


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The worker's loop: a request in, its analysis out, until its input closes."""
    while header := requests.read(_LENGTH.size):
        (size,) = _LENGTH.unpack(header)
        request = pickle.loads(requests.read(size))
        answer = pickle.dumps(analyse_now(request), protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(_LENGTH.pack(len(answer)) + answer)
        answers.flush()


if __name__ == "__main__":
    answers, sys.stdout = sys.stdout.buffer, sys.stderr  # a stray print cannot garble answers
    serve(sys.stdin.buffer, answers)
