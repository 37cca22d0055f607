"""A tag-reader worker process (``python -m soniquebay_core.scanner.reader_worker``; see ``reader.TagReader``).

Files in on stdin, outcomes out on stdout, as pickles. It imports what reading
needs and no more (no asyncio, no database): every worker pays for its imports
in memory, ~3 MB for asyncio alone.
"""
from __future__ import annotations

import os
import pickle
import queue
import sys
import threading

from soniquebay_core.scanner.reading import read_files
from soniquebay_core.scanner.walk import FileStat


def serve_reader() -> None:
    """The worker's loop (``python -m soniquebay_core.scanner.reader_worker``): files in, outcomes out.

    A thread takes chunks off stdin as they come, so the scanner's write of the
    next chunk never waits for this loop, even while the loop itself waits for
    the scanner to take an answer off stdout.
    """
    from soniquebay_core.config import Settings
    from soniquebay_core.plugins import load_plugins

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


if __name__ == "__main__":
    serve_reader()
    # Leave without finalising the interpreter: when the scanner stops listening mid-chunk, the
    # thread taking chunks off stdin is still blocked in a read, and finalising under it aborts
    # ("could not acquire lock for stdin ... at interpreter shutdown"). Answers were flushed as sent.
    sys.stderr.flush()
    os._exit(0)
