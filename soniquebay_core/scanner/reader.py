"""Deciding which files to read, and reading them through the ``read_tags`` hook.

Files with an audio extension are read, and a failure is an error worth
reporting. Files with a known non-audio extension (covers, logs, playlists)
are passed over without opening them. Anything else (no extension, unusual
ones) is sniffed: a reader may recognise it by content; if none does it is
remembered as "not audio", not as an error.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from ..plugins import PluginHost
from ..schemas import TagInfo
from .walk import FileStat

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
# can: each builds its own plugin host once, the same way the scanning process did,
# and reads whole batches while the scanning process writes the previous ones.

_worker_host: PluginHost | None = None


def _exit_with_parent(parent: int) -> None:
    """A killed scan must not leave its readers behind: they wait for work that never comes."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _start_worker(settings_json: str, strict: bool, entry_points_group: bool, modules: dict[str, str]) -> None:
    global _worker_host
    from ..config import Settings
    from ..plugins import load_plugins

    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _worker_host = load_plugins(Settings.model_validate_json(settings_json), strict=strict,
                                entry_points_group=entry_points_group, modules=modules)


def _read_in_worker(files: list[FileStat]) -> list[ReadOutcome]:
    assert _worker_host is not None, "worker started without a plugin host"
    return read_files(_worker_host, files)


class TagReader:
    """Reads batches of files through ``read_tags``, in ``workers`` processes and one local thread.

    A batch goes to a free worker process; when they are all busy (or still
    starting), the scanning process reads it itself in a thread, using the time
    it does not spend writing. ``slots`` batches can be read at once. The pool
    starts on the first batch that has anything to read, so a rescan of an
    unchanged library never pays for it. ``workers = 0`` reads in the thread only.
    """

    def __init__(self, host: PluginHost, workers: int):
        self.host = host
        self.workers = workers
        self.slots = workers + 1
        self._pool: ProcessPoolExecutor | None = None
        self._pool_busy = 0
        self._local_busy = False

    async def read(self, files: list[FileStat]) -> list[ReadOutcome]:
        if not files:
            return []
        if not self._local_busy and (self.workers == 0 or self._pool_busy >= self.workers):
            self._local_busy = True
            try:
                return await asyncio.to_thread(read_files, self.host, files)
            finally:
                self._local_busy = False
        self._pool_busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._start_pool(), _read_in_worker, files)
        finally:
            self._pool_busy -= 1

    def warm_up(self) -> None:
        """Start the worker processes now, when a scan will surely read (a first scan, ``--full``)."""
        if self.workers:
            self._start_pool().submit(os.getpid)

    def _start_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.host.settings.model_dump_json(), self.host.dispatch.strict, *self.host.recipe))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
