"""Deciding which files to read, and reading them through the ``read_tags`` hook.

Files with an audio extension are read, and a failure is an error worth
reporting. Files with a known non-audio extension (covers, logs, playlists)
are passed over without opening them. Anything else (no extension, unusual
ones) is sniffed: a reader may recognise it by content; if none does it is
remembered as "not audio", not as an error.
"""
from __future__ import annotations

import asyncio
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass

from ..plugins import PluginHost
from ..schemas import TagInfo
from .walk import FileStat

log = logging.getLogger("soniquebay.scanner")

AUDIO_EXTENSIONS = frozenset(
    "mp3 mp2 mp1 mpga flac fla ogg oga opus spx m4a m4b m4p mp4 3g2 aac alac wma asf wav wave aif aiff aifc "
    "ape wv mpc mp+ tta dsf dff ofr ofs tak ac3 eac3 mka webm shn".split()
)
NON_AUDIO_EXTENSIONS = frozenset(
    "jpg jpeg png gif bmp webp tif tiff heic svg ico txt nfo log cue m3u m3u8 pls xspf pdf sfv md5 sha1 ffp "
    "xml json html htm db ini url lrc doc docx rtf accurip exe zip rar 7z tar gz torrent mkv avi mov mpg "
    "mpeg wmv sbignore".split()
)


def extension(path: str) -> str:
    return os.path.splitext(path)[1][1:].lower()


def worth_reading(path: str) -> bool:
    return extension(path) not in NON_AUDIO_EXTENSIONS


@dataclass(slots=True)
class ReadOutcome:
    file: FileStat
    tags: TagInfo | None = None
    error: str | None = None    # broken audio: reported
    not_audio: str | None = None  # not a track, not an error


def describe(exc: BaseException) -> str:
    """'mutagen.id3.error: …': the exception's public dotted name and first line."""
    kind = type(exc)
    module = ".".join(part for part in kind.__module__.split(".") if not part.startswith("_"))
    name = kind.__name__ if module in ("builtins", "") else f"{module}.{kind.__name__}"
    text = str(exc).strip()
    return f"{name}: {text.splitlines()[0]}"[:500] if text else name


def read_file(host: PluginHost, file: FileStat) -> ReadOutcome:
    errors: list[str] = []
    answer = host.dispatch.call_first(
        "read_tags", on_error=lambda plugin, hook, exc: errors.append(describe(exc)), strict=False,
        path=file.path)
    if answer is not None:
        return ReadOutcome(file, tags=answer[1])
    if errors:
        return ReadOutcome(file, error=errors[0])
    if extension(file.path) in AUDIO_EXTENSIONS:
        return ReadOutcome(file, error="not a recognised audio file")
    return ReadOutcome(file, not_audio="not an audio file")


def read_files(host: PluginHost, files: list[FileStat]) -> list[ReadOutcome]:
    return [read_file(host, f) for f in files]


# -- reading in worker processes ------------------------------------------------------------------
# Tag parsing is pure Python, so threads cannot use a second core. Worker processes
# can: each builds its own plugin host once, from the modules of the plugins that
# read tags (not the others: their imports would only slow its start), and reads
# chunks of files while the scanning process writes earlier batches.
# They are plain child processes exchanging pickles over their stdin/stdout: no
# multiprocessing machinery (its resource-tracker process, its re-import of the
# parent's main module), and a child whose parent dies sees its stdin close and exits.


def serve_reader() -> None:
    """The worker's loop (``python -m soniquebay_core.scanner.reader_worker``): files in, outcomes out.

    A thread takes chunks off stdin as they come, so the scanner's write of the
    next chunk never waits for this loop, even while the loop itself waits for
    the scanner to take an answer off stdout.
    """
    from ..config import Settings
    from ..plugins import load_plugins

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a plugin's print() must not corrupt the answers
    settings_json, strict, modules = pickle.load(stdin)
    host = load_plugins(Settings.model_validate_json(settings_json), strict=strict,
                        entry_points_group=False, modules=modules)
    chunks: queue.SimpleQueue[list[FileStat] | None] = queue.SimpleQueue()
    threading.Thread(target=_take_chunks, args=(stdin, chunks), daemon=True).start()
    while (files := chunks.get()) is not None:
        try:
            pickle.dump(read_files(host, files), stdout, protocol=pickle.HIGHEST_PROTOCOL)
            stdout.flush()
        except BrokenPipeError:  # the scanner stopped listening (a cancelled scan): nothing left to do
            return


def _take_chunks(stdin, chunks: queue.SimpleQueue) -> None:
    try:
        while True:
            chunks.put(pickle.load(stdin))
    except EOFError:
        chunks.put(None)


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
        self.slots = workers + 1  # batches in flight: one per reader
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
