"""Built-in ignore rules: hidden entries, name patterns, ``.sbignore`` files.

Settings (``[plugins.ignore]``): ``hidden = true`` skips names starting with a
dot; ``patterns = [...]`` adds fnmatch patterns to the defaults below.

A ``.sbignore`` file in a folder lists fnmatch patterns (one per line, ``#``
comments) for names in that folder and below; a line ``*`` ignores the whole
folder. Answers last, so any other plugin's opinion wins.
"""
from __future__ import annotations

import fnmatch
import os
import re
import time
from fnmatch import fnmatchcase
from functools import lru_cache

from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(
    id="ignore",
    version="1.0.0",
    description="Skips hidden files, configured patterns and what .sbignore files list.",
    essential=True,
)

IGNORE_FILE = ".sbignore"
DEFAULT_PATTERNS = (
    "._*",            # AppleDouble resource forks: audio extensions, not audio
    ".DS_Store",
    "Thumbs.db",
    "desktop.ini",
    "@eaDir",         # Synology thumbnails
    "#recycle",
    "lost+found",
    "*.part",
    "*.tmp",
    "*.crdownload",
)

# folder -> (read at, patterns). A scan asks once per entry of a folder, so the
# file is read once per folder; entries expire so that an edited .sbignore is
# seen by the next scan of a long-running process.
_CACHE_SECONDS = 5.0
_CACHE_MAX = 4096
_cache: dict[str, tuple[float, tuple[str, ...]]] = {}


def _patterns_in(folder: str) -> tuple[str, ...]:
    now = time.monotonic()
    hit = _cache.get(folder)
    if hit is not None and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    try:
        with open(os.path.join(folder, IGNORE_FILE), encoding="utf-8", errors="replace") as fh:
            lines = (line.strip() for line in fh)
            patterns = tuple(line for line in lines if line and not line.startswith("#"))
    except OSError:
        patterns = ()
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[folder] = (now, patterns)
    return patterns


@lru_cache(maxsize=8)
def _matcher(extra: tuple[str, ...]):
    """One compiled regular expression for the default and configured patterns."""
    return re.compile("|".join(fnmatch.translate(p) for p in (*DEFAULT_PATTERNS, *extra))).match


@hookimpl(trylast=True)
def ignore_file(path: str, is_dir: bool, config: dict) -> bool | None:
    folder, name = os.path.split(path)
    if name == IGNORE_FILE:
        return True
    if name.startswith(".") and config.get("hidden", True):
        return True
    if _matcher(tuple(config.get("patterns", ())))(name):
        return True
    folder_patterns = _patterns_in(folder)  # a .sbignore beside it; folders above: never entered
    if folder_patterns and any(fnmatchcase(name, pattern) for pattern in folder_patterns):
        return True
    if is_dir and "*" in _patterns_in(path):
        return True
    return None
