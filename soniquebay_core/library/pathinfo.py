"""What a path says about a track when its tags do not.

``Artist/Album (1999)/Disc 2/03 - Title.flac`` gives title "Title", track 3,
disc 2 and album "Album"; a file without tags still gets a sensible entry.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache

_DISC_FOLDER = re.compile(r"^(?:disc|disk|cd)\s*[-_.]?\s*(\d{1,3})\b", re.I)
# "03 - Title", "03. Title", "1-03 - Title" (disc-track), "03 Title"
_NUMBERED = re.compile(r"^(?:(?P<disc>\d{1,2})[-.])?(?P<track>\d{1,3})(?:\s*[-.]\s*|\s+)(?P<title>.+)$")
_YEAR_SUFFIX = re.compile(r"\s*[\(\[](?:\d{4})[\)\]]\s*$")


@lru_cache(maxsize=4096)  # asked for every file of a folder
def disc_from_folder(folder: str) -> int | None:
    match = _DISC_FOLDER.match(os.path.basename(folder))
    return int(match.group(1)) if match else None


@lru_cache(maxsize=4096)  # asked for every file of a folder
def album_folder(folder: str) -> str:
    """The folder that stands for the album: the parent of a ``Disc N`` folder."""
    return os.path.dirname(folder) if disc_from_folder(folder) is not None else folder


@lru_cache(maxsize=4096)  # asked for every file of a folder
def album_from_folder(folder: str) -> str:
    """'Album (1999)' → 'Album'."""
    name = os.path.basename(album_folder(folder)) or folder
    return _YEAR_SUFFIX.sub("", name) or name


def from_file_name(path: str) -> tuple[str, int | None, int | None]:
    """(title, track number, disc number) from a file name."""
    stem = os.path.splitext(os.path.basename(path))[0].strip()
    match = _NUMBERED.match(stem)
    if not match:
        return stem or os.path.basename(path), None, None
    disc = int(match.group("disc")) if match.group("disc") else None
    return match.group("title").strip(), int(match.group("track")), disc
