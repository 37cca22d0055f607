#!/usr/bin/env python3
"""Reference loops that scan_bench.py runs as subprocesses, next to ``soniquebay scan``.

    python bench/baselines.py mutagen PATH   # the "bare mutagen loop"
    python bench/baselines.py walkstat PATH  # the "bare os.walk + stat"

Each prints one JSON object on stdout with its file counts and ``inner_s``, the
time spent in the loop itself (excluding interpreter start-up); scan_bench.py
times the whole process from outside, as it does for ``soniquebay scan``.

Both loops walk the tree the same way: ``os.walk(PATH)`` top-down, not
following symlinked folders (``soniquebay scan``'s default), skipping hidden
entries (names starting with "."; this drops AppleDouble "._" files, which
carry audio extensions but are not audio, and .DS_Store - as ``soniquebay``'s
built-in ignore rules do).

mutagen: for every file whose extension (lower-cased) is in AUDIO_EXTENSIONS,
call ``mutagen.File(path)`` (tags and stream info, the default) inside
``try/except Exception``. ``ok`` counts files mutagen recognised, ``unrecognised``
those it returned None for, ``failed`` those it raised on (corrupt files). The
loop keeps nothing: it is the floor for "read the tags of every audio file".

walkstat: ``os.stat`` every non-hidden file (following a file symlink, as a
scanner must to get the target's size and mtime); no file is opened. It is the
floor for a rescan of an unchanged library, which must at least notice that
nothing changed.
"""
from __future__ import annotations

import json
import os
import sys
import time

AUDIO_EXTENSIONS = frozenset({
    ".mp3", ".mp2", ".flac", ".ogg", ".oga", ".opus", ".spx", ".m4a", ".m4b", ".mp4", ".aac",
    ".alac", ".wav", ".aif", ".aiff", ".aifc", ".wma", ".asf", ".ape", ".wv", ".mpc", ".tta", ".dsf",
})


def walk_files(root: str):
    """Yield (path, name) for every non-hidden file under root, not following symlinked folders."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                yield os.path.join(folder, name), name


def mutagen_loop(root: str) -> dict:
    import mutagen  # imported here so that walkstat does not pay for it

    counts = {"files_seen": 0, "audio_files": 0, "ok": 0, "unrecognised": 0, "failed": 0}
    t0 = time.perf_counter()
    for path, name in walk_files(root):
        counts["files_seen"] += 1
        if os.path.splitext(name)[1].lower() not in AUDIO_EXTENSIONS:
            continue
        counts["audio_files"] += 1
        try:
            audio = mutagen.File(path)
        except Exception:
            counts["failed"] += 1
            continue
        counts["ok" if audio is not None else "unrecognised"] += 1
    counts["inner_s"] = time.perf_counter() - t0
    return counts


def walkstat_loop(root: str) -> dict:
    counts = {"files_seen": 0, "stat_failed": 0}
    t0 = time.perf_counter()
    for path, _name in walk_files(root):
        counts["files_seen"] += 1
        try:
            os.stat(path)
        except OSError:
            counts["stat_failed"] += 1  # e.g. a dangling symlink
    counts["inner_s"] = time.perf_counter() - t0
    return counts


LOOPS = {"mutagen": mutagen_loop, "walkstat": walkstat_loop}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in LOOPS or not os.path.isdir(argv[1]):
        print(f"usage: baselines.py {{{'|'.join(LOOPS)}}} DIRECTORY", file=sys.stderr)
        return 2
    json.dump(LOOPS[argv[0]](argv[1]), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
