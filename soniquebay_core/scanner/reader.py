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
import subprocess
import sys
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
# read tags (not the others: their imports would only slow its start), and reads whole batches while the scanning process writes the previous ones.
# They are plain child processes exchanging pickles over their stdin/stdout: no
# multiprocessing machinery (its resource-tracker process, its re-import of the
# parent's main module), and a child whose parent dies sees its stdin close and exits.


def serve_reader() -> None:
    """The worker's loop (``python -m soniquebay_core.scanner.reader_worker``): batches in, outcomes out."""
    from ..config import Settings
    from ..plugins import load_plugins

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a plugin's print() must not corrupt the answers
    settings_json, strict, modules = pickle.load(stdin)
    host = load_plugins(Settings.model_validate_json(settings_json), strict=strict,
                        entry_points_group=False, modules=modules)
    while True:
        try:
            files = pickle.load(stdin)
        except EOFError:
            return
        pickle.dump(read_files(host, files), stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()


class _Worker:
    def __init__(self, host: PluginHost):
        self.proc = subprocess.Popen([sys.executable, "-m", "soniquebay_core.scanner.reader_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_child_env())
        pickle.dump((host.settings.model_dump_json(), host.dispatch.strict, host.modules_serving("read_tags")),
                    self.proc.stdin)
        self.proc.stdin.flush()

    def read(self, files: list[FileStat]) -> list[ReadOutcome]:
        pickle.dump(files, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()
        return pickle.load(self.proc.stdout)

    def close(self) -> None:
        self.proc.stdin.close()
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
    """Reads batches of files through ``read_tags``, in ``workers`` processes and one local thread.

    A batch goes to a free worker process; when they are all busy (or still
    starting), the scanning process reads it itself in a thread, using the time
    it does not spend writing. ``slots`` batches can be read at once. Workers
    start on the first batch that has anything to read, so a rescan of an
    unchanged library never pays for them. ``workers = 0`` reads in the thread only.
    """

    def __init__(self, host: PluginHost, workers: int):
        self.host = host
        self.workers = workers
        self.slots = workers + 1
        self._idle: list[_Worker] = []
        self._started = 0
        self._local_busy = False

    async def read(self, files: list[FileStat]) -> list[ReadOutcome]:
        if not files:
            return []
        if not self._local_busy and (self.workers == 0 or not self._idle and self._started >= self.workers):
            self._local_busy = True
            try:
                return await asyncio.to_thread(read_files, self.host, files)
            finally:
                self._local_busy = False
        worker = self._idle.pop() if self._idle else self._start()
        try:
            outcomes = await asyncio.to_thread(worker.read, files)
        except (EOFError, OSError, pickle.PickleError) as exc:  # the worker died: read here instead
            log.error("tag reader process failed (%s); reading in the scanner", exc)
            worker.close()
            self._started -= 1
            return await asyncio.to_thread(read_files, self.host, files)
        self._idle.append(worker)
        return outcomes

    def warm_up(self) -> None:
        """Start the worker processes now, when a scan will surely read (a first scan, ``--full``)."""
        while self._started < self.workers:
            self._idle.append(self._start())

    def _start(self) -> _Worker:
        self._started += 1
        return _Worker(self.host)

    def close(self) -> None:
        for worker in self._idle:
            worker.close()
        self._idle.clear()
        self._started = 0

