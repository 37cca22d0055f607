"""Walking library folders with ``os.scandir``, one folder at a time.

Memory stays bounded: a stack of folders still to visit and the current
folder's listing. Symlinks are either refused (default) or followed with a
guard on (device, inode) of every folder entered, so a link loop or a second
path to the same folder is walked once.
"""
from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

log = logging.getLogger("soniquebay.scanner")


@dataclass(slots=True)
class FileStat:
    path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Listing:
    folder: str
    files: list[FileStat] = field(default_factory=list)


@dataclass(slots=True)
class WalkProblem:
    path: str
    message: str


class Walker:
    """Yields a ``Listing`` for every folder that could be read.

    ``problems`` collects folders that could not be listed: their known
    tracks must be kept, not taken for deleted. ``is_ignored(path, is_dir)``
    is the plugin host's ``ignore_file`` answer.
    """

    def __init__(self, is_ignored: Callable[[str, bool], bool], follow_symlinks: bool):
        self.is_ignored = is_ignored
        self.follow_symlinks = follow_symlinks
        self.problems: list[WalkProblem] = []

    def walk(self, top: str) -> Iterator[Listing]:
        seen: set[tuple[int, int]] = set()
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                folder_stat = os.stat(folder)
                if self.follow_symlinks:
                    key = (folder_stat.st_dev, folder_stat.st_ino)
                    if key in seen:
                        continue
                    seen.add(key)
                listing, subfolders = self._list(folder)
            except OSError as exc:
                self.problems.append(WalkProblem(folder, exc.strerror or str(exc)))
                log.warning("cannot read folder %s: %s", folder, exc.strerror or exc)
                continue
            yield listing
            stack.extend(sorted(subfolders, reverse=True))

    def _list(self, folder: str) -> tuple[Listing, list[str]]:
        listing = Listing(folder)
        subfolders: list[str] = []
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    if entry.is_symlink() and not self.follow_symlinks:
                        continue
                    is_dir = entry.is_dir(follow_symlinks=self.follow_symlinks)
                    if self.is_ignored(entry.path, is_dir):
                        continue
                    if is_dir:
                        subfolders.append(entry.path)
                        continue
                    st = entry.stat(follow_symlinks=self.follow_symlinks)
                except OSError:  # dangling link, vanished while listing
                    continue
                if stat.S_ISREG(st.st_mode):
                    listing.files.append(FileStat(entry.path, st.st_size, st.st_mtime_ns))
        listing.files.sort(key=lambda f: f.path)
        return listing, subfolders
