"""Finding art in the library's own files: images beside the audio, pictures inside it.

The one home for this: the covers plugin looks here when the pipeline reaches an
album, and the API looks here at request time for albums no plugin has reached yet.

- Folder images: ``cover``, ``folder``, ``front`` or ``album`` (``artist`` for artists)
  with ``.jpg``, ``.jpeg``, ``.png`` or ``.webp``, in any case, ranked by folder, then
  stem, then extension. An album is looked for in its folder proper (the parent of
  ``Disc N`` folders) before the folders holding its files.
- Embedded pictures, in every container mutagen reads: ID3 ``APIC`` (MP3, AIFF, WAV,
  DSF), FLAC picture blocks, Vorbis/Opus ``METADATA_BLOCK_PICTURE`` (and the old
  base64 ``COVERART``), MP4 ``covr``, ASF ``WM/Picture`` and APEv2 ``Cover Art (Front)``.
  The front cover wins when a file marks one; else the first picture.

Nothing here decodes an image: checking is ``covers_store``'s job.
"""
from __future__ import annotations

import base64
import binascii
import logging
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from itertools import product
from pathlib import Path
from typing import NamedTuple

import mutagen
from mutagen.apev2 import APEBinaryValue
from mutagen.flac import Picture
from mutagen.mp4 import MP4Cover

from .builtin.tagmap import COVER, read_fields
from .library.pathinfo import album_folder

log = logging.getLogger("soniquebay.artwork")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
COVER_STEMS = ("cover", "folder", "front", "album")
ARTIST_STEMS = ("artist",)
FRONT_COVER = 3  # the picture type of a front cover, in ID3, FLAC and ASF alike

Allowed = Callable[[str], bool]


class FoundImage(NamedTuple):
    path: str  # the image file, or the audio file holding the picture
    data: bytes


class EmbeddedPicture(NamedTuple):
    type: int | None  # None: the container does not say (MP4, APEv2)
    data: bytes


def album_search_folders(folders: Iterable[str]) -> list[str]:
    """Where an album's folder image may be: its folder proper first, then the folders holding its files."""
    folders = list(folders)
    return list(dict.fromkeys([album_folder(f) for f in folders] + folders))


def folder_image(folders: Iterable[str], stems: tuple[str, ...], allowed: Allowed | None = None) -> FoundImage | None:
    """The first ``stem.ext`` image found (see the module doc); ``allowed`` vets each file's path."""
    return next(folder_images(folders, stems, allowed), None)


def folder_images(folders: Iterable[str], stems: tuple[str, ...], allowed: Allowed | None = None) -> Iterator[FoundImage]:
    """Every ``stem.ext`` image, best ranked first, read one at a time as the caller asks for the next."""
    rank = {f"{stem}{ext}": i for i, (stem, ext) in enumerate(product(stems, IMAGE_EXTENSIONS))}
    for folder in folders:
        try:
            names = sorted((n for n in os.listdir(folder) if n.lower() in rank), key=lambda n: rank[n.lower()])
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            data = _read(path, allowed)
            if data:
                yield FoundImage(path, data)


def _read(path: str, allowed: Allowed | None) -> bytes | None:
    if (allowed is not None and not allowed(path)) or not os.path.isfile(path):
        return None
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def embedded_picture(path: str) -> bytes | None:
    """The file's front cover, else its first picture; ``None`` when it has none or cannot be read."""
    pictures = embedded_pictures(path)
    front = next((p for p in pictures if p.type == FRONT_COVER), None)
    return (front or pictures[0]).data if pictures else None


def embedded_pictures(path: str) -> list[EmbeddedPicture]:
    """Every picture the file holds, in file order."""
    try:
        audio = mutagen.File(path)
        values = read_fields(audio).get(COVER, []) if audio is not None else []
    except (mutagen.MutagenError, OSError, ValueError, struct.error) as exc:
        log.info("no embedded picture read from %s: %s", path, exc)
        return []
    pictures = []
    for value in values:
        try:
            picture = _as_picture(value)
        except (mutagen.MutagenError, ValueError, struct.error, binascii.Error) as exc:
            log.info("a picture in %s cannot be read: %s", path, exc)
            continue
        if picture is not None and picture.data:
            pictures.append(picture)
    return pictures


def _as_picture(value) -> EmbeddedPicture | None:
    if isinstance(value, MP4Cover):  # a bytes subclass: test it before plain bytes
        return EmbeddedPicture(None, bytes(value))
    if isinstance(value, bytes):
        return _asf_picture(value)
    if isinstance(value, str):
        return _vorbis_picture(value)
    if isinstance(value, APEBinaryValue):
        return _ape_picture(value.value)
    if hasattr(value, "data"):  # ID3 APIC frames and FLAC Picture blocks
        return EmbeddedPicture(getattr(value, "type", None), bytes(value.data))
    return None


def _vorbis_picture(text: str) -> EmbeddedPicture:
    """``METADATA_BLOCK_PICTURE`` is a base64 FLAC picture block; the older ``COVERART`` the base64 image."""
    raw = base64.b64decode(text)
    try:
        picture = Picture(raw)
        return EmbeddedPicture(picture.type, picture.data)
    except (mutagen.MutagenError, struct.error, ValueError, UnicodeDecodeError):
        return EmbeddedPicture(None, raw)


def _asf_picture(raw: bytes) -> EmbeddedPicture:
    """``WM/Picture``: type (1 byte), size (4, little-endian), MIME and description (UTF-16 with a NUL), data."""
    kind, size = struct.unpack_from("<BI", raw)
    offset = 5
    for _ in range(2):  # skip the MIME type, then the description
        end = offset
        while raw[end:end + 2] not in (b"\0\0", b""):
            end += 2
        offset = end + 2
    data = raw[offset:offset + size]
    if len(data) != size:
        raise ValueError(f"WM/Picture declares {size} bytes, holds {len(data)}")
    return EmbeddedPicture(kind, data)


def _ape_picture(raw: bytes) -> EmbeddedPicture:
    """APEv2 binary cover: a file name, a NUL, then the image."""
    _, sep, data = raw.partition(b"\0")
    return EmbeddedPicture(FRONT_COVER, data if sep else raw)
