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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..dispatch import Dispatcher, ErrorSink

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


# (folder, file names, subfolder names) -> the names to skip
IgnoreRules = Callable[[str, list[str], list[str]], set[str]]


def ignored_by_plugins(dispatch: Dispatcher, folder: str, files: list[str], folders: list[str],
                       on_error: ErrorSink | None = None) -> set[str]:
    """The names of ``folder`` the plugins' ``ignore_entries`` skip: per name, the first opinion decides."""
    decided: dict[str, bool] = {}
    for _, opinions in dispatch.call_each("ignore_entries", on_error=on_error, folder=folder, files=files,
                                          folders=folders):
        for name, skip in opinions.items():
            decided.setdefault(name, bool(skip))
    return {name for name, skip in decided.items() if skip}


def entries_of(folder: str, follow_symlinks: bool) -> tuple[list[os.DirEntry], list[os.DirEntry]]:
    """A folder's file entries and subfolder entries, as a walk sees them (symlinks left out unless followed)."""
    files: list[os.DirEntry] = []
    folders: list[os.DirEntry] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                if not follow_symlinks and entry.is_symlink():
                    continue
                (folders if entry.is_dir(follow_symlinks=follow_symlinks) else files).append(entry)
            except OSError:  # vanished while listing
                continue
    return files, folders


class Walker:
    """Yields a ``Listing`` for every folder that could be read.

    ``problems`` collects folders that could not be listed: their known
    tracks must be kept, not taken for deleted. ``ignored`` names the entries
    of a folder to skip (``ignored_by_plugins``), asked once per folder.
    """

    def __init__(self, ignored: IgnoreRules, follow_symlinks: bool):
        self.ignored = ignored
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
        follow = self.follow_symlinks
        files, folders = entries_of(folder, follow)
        skip = self.ignored(folder, [e.name for e in files], [e.name for e in folders])
        listing = Listing(folder)
        for entry in files:
            if entry.name in skip:
                continue
            try:
                st = entry.stat(follow_symlinks=follow)
            except OSError:  # dangling link, vanished while listing
                continue
            if stat.S_ISREG(st.st_mode):
                listing.files.append(FileStat(entry.path, st.st_size, st.st_mtime_ns))
        listing.files.sort(key=lambda f: f.path)
        return listing, [e.path for e in folders if e.name not in skip]
