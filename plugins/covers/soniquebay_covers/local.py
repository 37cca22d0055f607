"""Sources in the library's own files: folder images and embedded pictures (found by ``soniquebay_core.artwork``).

Each source yields candidates, best first; the caller takes the first that passes the checks.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

from soniquebay_core.artwork import (
    ARTIST_STEMS,
    COVER_STEMS,
    FRONT_COVER,
    album_search_folders,
    embedded_pictures,
    folder_images,
)
from soniquebay_core.library.pathinfo import album_folder
from soniquebay_core.schemas import AlbumSnapshot

from .found import Found

VARIOUS_ARTISTS = frozenset({"various artists", "various", "va"})


def folder_covers(album: AlbumSnapshot) -> Iterator[Found]:
    folders = album_search_folders(album.folders)
    for image in folder_images(folders, COVER_STEMS, _within(folders)):
        yield Found(image.data, f"folder:{os.path.basename(image.path)}")


def embedded_covers(album: AlbumSnapshot) -> Iterator[Found]:
    """The tracks' pictures in track order, each track's front covers first, each distinct picture once."""
    seen: set[str] = set()
    for path in album.track_paths:
        pictures = sorted(embedded_pictures(path), key=lambda p: p.type != FRONT_COVER)  # stable: file order
        for picture in pictures:
            digest = hashlib.sha256(picture.data).hexdigest()
            if digest not in seen:
                seen.add(digest)
                yield Found(picture.data, f"embedded:{os.path.basename(path)}")


def folder_artist_images(album: AlbumSnapshot) -> Iterator[Found]:
    """``artist.*`` in the folder above the album's folder (Artist/Album (Year)/...), never for compilations."""
    if not album.folders or is_various(album.albumartist):
        return
    home = os.path.commonpath([os.path.dirname(album_folder(f)) for f in album.folders])
    for image in folder_images([home], ARTIST_STEMS, _within([home])):
        yield Found(image.data, f"folder:{os.path.basename(image.path)}")


def is_various(albumartist: str | None) -> bool:
    return albumartist is None or albumartist.strip().casefold() in VARIOUS_ARTISTS


def _within(folders: list[str]):
    """Images must resolve inside the folders they were found in: a link out of the library is not art."""
    reals = [os.path.realpath(f) for f in folders]

    def allowed(path: str) -> bool:
        real = os.path.realpath(path)
        return any(real.startswith(folder.rstrip("/") + "/") for folder in reals)
    return allowed
