"""Reading batches of files through ``read_tags``: worker processes and a thread of the scanner.

What reading one file means is ``reading.py``; the worker processes' own loop is
``reader_worker.py``, which imports neither asyncio nor this module.
"""
from __future__ import annotations

import asyncio
import logging
import os
import pickle
import subprocess
import sys
from collections import deque

from ..plugins import PluginHost
from .reading import ReadOutcome, read_files
from .walk import FileStat

log = logging.getLogger("soniquebay.scanner")

# -- reading in worker processes ------------------------------------------------------------------
# Tag parsing is pure Python, so threads cannot use a second core. Worker processes
# can: each builds its own plugin host once, from the modules of the plugins that
# read tags (not the others: their imports would only slow its start), and reads
# chunks of files while the scanning process writes earlier batches.
# They are plain child processes exchanging pickles over their stdin/stdout: no
# multiprocessing machinery (its resource-tracker process, its re-import of the
# parent's main module), and a child whose parent dies sees its stdin close and exits.


class _Worker:
    def __init__(self, host: PluginHost):
        self.proc = subprocess.Popen([sys.executable, "-m", "soniquebay_core.scanner.reader_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_child_env())
        pickle.dump((host.settings.model_dump_json(), host.dispatch.strict, host.modules_serving("read_tags")),
                    self.proc.stdin)
        self.proc.stdin.flush()

    def send(self, files: list[FileStat]) -> None:
        pickle.dump(files, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()

    def receive(self) -> list[ReadOutcome]:
        """The answer to the oldest chunk sent and not yet answered."""
        return pickle.load(self.proc.stdout)

    def close(self) -> None:
        """Stop the process; chunks it still holds (a cancelled scan) are dropped, not waited for."""
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:  # it died with a chunk of ours unread
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _child_env() -> dict[str, str]:
    """The parent's environment, with its import path: plugins found here must be found there."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


class TagReader:
    """Reads batches of files through ``read_tags``: ``workers`` processes and one local thread.

    A batch is cut into chunks of ``chunk`` files queued in order; every reader
    (each worker process, and a thread of the scanning process that uses the
    time it does not spend writing) takes the next chunk when it is free. So
    the oldest batch, the one the writer waits for, is read by all of them at
    once, and a reader slowed down (the thread shares its process with the
    writer) holds up one chunk, never a whole batch. Workers start on the first
    batch that has anything to read, so a rescan of an unchanged library never
    pays for them. ``workers = 0``: the thread only.
    """

    AHEAD = 2  # chunks a worker process holds at once: the one it reads, the next one waiting

    def __init__(self, host: PluginHost, workers: int, chunk: int = 250):
        self.host = host
        self.workers = workers
        self.chunk = chunk
        self.slots = workers + 2  # batches in flight: one per reader, and one more for while the oldest is written
        self._queue: asyncio.Queue[tuple[list[FileStat], asyncio.Future]] = asyncio.Queue()
        self._readers: list[asyncio.Task] = []

    async def read(self, files: list[FileStat]) -> list[ReadOutcome]:
        if not files:
            return []
        self.warm_up()
        loop = asyncio.get_running_loop()
        parts = []
        for start in range(0, len(files), self.chunk):
            done = loop.create_future()
            self._queue.put_nowait((files[start:start + self.chunk], done))
            parts.append(done)
        return [outcome for part in await asyncio.gather(*parts) for outcome in part]

    def warm_up(self) -> None:
        """Start the readers (and so the worker processes) now, if they are not running."""
        if self._readers:
            return
        self._readers.append(asyncio.ensure_future(self._serve(None)))
        for _ in range(self.workers):
            self._readers.append(asyncio.ensure_future(self._serve(_Worker(self.host))))

    async def _serve(self, worker: _Worker | None) -> None:
        """One reader's loop: the next chunk, read in ``worker`` (or in a thread here), answered."""
        try:
            while True:
                chunk = await self._next_chunk()
                if worker is not None:
                    worker = await self._read_in(worker, chunk)
                    continue
                await self._read_here(*chunk)
        finally:
            if worker is not None:
                await asyncio.to_thread(worker.close)

    async def _next_chunk(self) -> tuple[list[FileStat], asyncio.Future]:
        while True:
            files, done = await self._queue.get()
            if not done.done():  # else its batch was abandoned (a failed or cancelled scan)
                return files, done

    async def _read_in(self, worker: _Worker, first: tuple[list[FileStat], asyncio.Future]) -> _Worker | None:
        """Keep ``worker`` busy from ``first`` until the queue is empty, ``AHEAD`` chunks sent ahead.

        The chunk after the one being read already waits in the worker's pipe, so
        the worker does not idle while this process, busy writing, gets round to
        collecting an answer. Returns the worker, or None if it died (its chunks
        are then read here).
        """
        sent = deque([first])
        try:
            worker.send(first[0])
            while sent:
                while len(sent) < self.AHEAD and not self._queue.empty():
                    files, done = self._queue.get_nowait()
                    if not done.done():
                        worker.send(files)
                        sent.append((files, done))
                answer = await asyncio.to_thread(worker.receive)
                _settle(sent.popleft()[1], answer)
            return worker
        except (EOFError, OSError, pickle.PickleError) as exc:  # the process died: read its chunks here
            log.error("tag reader process failed (%s); reading in the scanner", exc)
            await asyncio.to_thread(worker.close)
            for files, done in sent:
                if not done.done():
                    await self._read_here(files, done)
            return None

    async def _read_here(self, files: list[FileStat], done: asyncio.Future) -> None:
        try:
            _settle(done, await asyncio.to_thread(read_files, self.host, files))
        except Exception as exc:  # read_files isolates plugins: this is a bug, for the scan to raise
            _settle(done, exc)

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        self._readers.clear()


def _settle(done: asyncio.Future, answer: list[ReadOutcome] | Exception) -> None:
    """Answer a chunk, unless its batch was abandoned while it was being read."""
    if done.done():
        return
    if isinstance(answer, Exception):
        done.set_exception(answer)
    else:
        done.set_result(answer)
