"""Album covers, artist images and album downloads.

An album's cover is the first of:

1. its stored cover (``albums.cover_id``: a file under ``data_dir/covers``, written by cover plugins);
2. an image in its folder: ``cover``, ``folder``, ``front`` or ``album`` with ``.jpg``, ``.jpeg``,
   ``.png`` or ``.webp``, in any case, in that order; the album folder proper (the parent of
   ``Disc N`` folders) is looked in before the folders holding its files;
3. the embedded picture (the front cover if marked) of its first track with ``has_embedded_cover``;
4. a placeholder: a neutral grey PNG, cached briefly so real art shows once it exists.

Stored covers are pre-rendered at 64, 256 and 512 pixels (``covers_store``); steps 2 and 3
(``artwork``, shared with the covers plugin) serve albums the pipeline has not reached yet.

An artist's image is their stored image (``artist_images``, left by a cover plugin); else
``artist.jpg`` (or ``.png``, ...) in the folder that holds all their album folders, when that
folder lies below a library root; else their most recent album's cover; else the placeholder.

Every file read lies inside a library root (stored covers: inside ``data_dir/covers``) once
symlinks are resolved. ``?size=N`` asks for a thumbnail that fits inside N×N, keeps the aspect
ratio and is never upscaled, encoded as JPEG, or WebP when the client accepts it. Each thumbnail
is written once, atomically, to ``data_dir/thumbs/<sha256 of the source>-<N>.<ext>``: later
requests read the source only to hash it, and decode nothing. ETags name the source hash, the
size and the format; ``X-Cover-Source`` says which source answered (stored, folder, embedded or
placeholder). A source Pillow cannot decode is answered with the placeholder, never an error.
Originals are served as they are, after Pillow's ``verify``.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property, lru_cache
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..artwork import ARTIST_STEMS, COVER_STEMS, album_search_folders, embedded_picture, folder_image
from ..covers_store import JPEG, WEBP, Encoding, thumb_path, thumbnail, write_atomically
from ..library.pathinfo import album_folder
from ..models import Album, AlbumArtist, Artist, ArtistImage, Cover, Root, Track
from .deps import ConnDep, DbId, RuntimeDep
from .stream import etag_matches, inside_library

log = logging.getLogger("soniquebay.api.covers")

router = APIRouter(prefix="/api", tags=["covers"])

Size = IntEnum("Size", {f"px{n}": n for n in (64, 128, 256, 512, 1024)})

REAL_ART_CACHE = "public, max-age=86400"
PLACEHOLDER_CACHE = "public, max-age=300"
PLACEHOLDER_SIZE = 512  # when no size is asked for
ZIP_BLOCK = 1 << 20
TRACK_ORDER = (Track.disc_number, Track.track_number, Track.title_key)  # as the album's detail lists them
_UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


IMAGE_RESPONSES = {200: {"content": {"image/jpeg": {}, "image/webp": {}, "image/png": {}}},
                   304: {"description": "the client's copy is current"}, 404: {}}


@dataclass
class Art:
    data: bytes
    source: str  # stored | folder | embedded

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class AlbumFiles:
    """Where an album's art may be: what the database says, before any file is read."""

    cover_file: str | None  # relative to the data dir
    folders: list[str]  # the folders holding its files, in track order
    embedded: list[str]  # its files with an embedded picture, in track order


# -- routes ------------------------------------------------------------------------------------------

@router.get("/albums/{album_id}/cover", response_class=Response, responses=IMAGE_RESPONSES)
async def album_cover(request: Request, conn: ConnDep, runtime: RuntimeDep, album_id: DbId,
                      size: Size | None = None) -> Response:
    """The album's cover, or a thumbnail of it; a placeholder when it has none."""
    files = await _album_files(conn, album_id)
    if files is None:
        raise HTTPException(404, f"no album {album_id}")
    roots, data_dir = await _roots(conn), runtime.settings.data_dir
    art = await asyncio.to_thread(_album_art, files, roots, data_dir)
    return await _image_response(request, art, size, data_dir / "thumbs")


@router.get("/artists/{artist_id}/image", response_class=Response, responses=IMAGE_RESPONSES)
async def artist_image(request: Request, conn: ConnDep, runtime: RuntimeDep, artist_id: DbId,
                       size: Size | None = None) -> Response:
    """The artist's stored or own image, else their most recent album's cover, else a placeholder."""
    if await conn.scalar(select(Artist.id).where(Artist.id == artist_id)) is None:
        raise HTTPException(404, f"no artist {artist_id}")
    album_ids = (await conn.execute(
        select(AlbumArtist.album_id).join(Album, Album.id == AlbumArtist.album_id)
        .where(AlbumArtist.artist_id == artist_id)
        .order_by(Album.year.desc().nulls_last(), Album.id.desc()))).scalars().all()
    folders = (await conn.execute(select(Track.folder).distinct().where(
        Track.album_id.in_(album_ids), Track.missing.is_(False)))).scalars().all()
    latest = await _album_files(conn, album_ids[0]) if album_ids else None
    stored = await conn.scalar(select(Cover.file).join(ArtistImage, ArtistImage.cover_id == Cover.id)
                               .where(ArtistImage.artist_id == artist_id))
    roots, data_dir = await _roots(conn), runtime.settings.data_dir
    art = await asyncio.to_thread(_artist_art, stored, list(folders), latest, roots, data_dir)
    return await _image_response(request, art, size, data_dir / "thumbs")


@router.get("/albums/{album_id}/download", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}}, 404: {}})
async def download_album(conn: ConnDep, album_id: DbId) -> StreamingResponse:
    """The album's files as one uncompressed ZIP, streamed as it is written."""
    album = (await conn.execute(select(Album.title, Album.albumartist).where(Album.id == album_id))).first()
    if album is None:
        raise HTTPException(404, f"no album {album_id}")
    tracks = (await conn.execute(
        select(Track.path, Track.title, Track.track_number, Track.disc_number)
        .where(Track.album_id == album_id, Track.missing.is_(False))
        .order_by(*TRACK_ORDER))).all()
    roots = await _roots(conn)
    await conn.rollback()  # end the read transaction: the connection stays checked out while the body streams
    readable = await asyncio.to_thread(_readable, tracks, roots)
    if not readable:
        raise HTTPException(404, f"no file of album {album_id} is available")
    filename = _safe_name(f"{album.albumartist or 'Unknown Artist'} - {album.title}") + ".zip"
    return StreamingResponse(_zip_stream(_member_names(readable)), media_type="application/zip",
                             headers={"Content-Disposition": _attachment(filename)})


# -- what the database says ----------------------------------------------------------------------------

async def _roots(conn: AsyncConnection) -> list[str]:
    return list((await conn.execute(select(Root.path))).scalars())


async def _album_files(conn: AsyncConnection, album_id: int) -> AlbumFiles | None:
    album = (await conn.execute(select(Album.id, Cover.file).outerjoin(Cover, Cover.id == Album.cover_id)
                                .where(Album.id == album_id))).first()
    if album is None:
        return None
    tracks = (await conn.execute(
        select(Track.path, Track.folder, Track.has_embedded_cover)
        .where(Track.album_id == album_id, Track.missing.is_(False))
        .order_by(*TRACK_ORDER))).all()
    return AlbumFiles(album.file, list(dict.fromkeys(t.folder for t in tracks)),
                      [t.path for t in tracks if t.has_embedded_cover])


# -- finding the art (blocking: run in a thread) -------------------------------------------------------

def _album_art(files: AlbumFiles, roots: list[str], data_dir: Path) -> Art | None:
    data = _stored(files.cover_file, data_dir)
    if data:
        return Art(data, "stored")
    found = folder_image(album_search_folders(files.folders), COVER_STEMS, lambda p: inside_library(p, roots))
    if found:
        return Art(found.data, "folder")
    inside = (path for path in files.embedded if inside_library(path, roots))
    data = next(filter(None, map(embedded_picture, inside)), None)
    return Art(data, "embedded") if data else None


def _artist_art(stored: str | None, folders: list[str], latest: AlbumFiles | None, roots: list[str],
                data_dir: Path) -> Art | None:
    data = _stored(stored, data_dir)
    if data:
        return Art(data, "stored")
    home = _artist_folder(folders, roots)
    found = folder_image([home], ARTIST_STEMS, lambda p: inside_library(p, roots)) if home else None
    if found:
        return Art(found.data, "folder")
    return _album_art(latest, roots, data_dir) if latest else None


def _stored(cover_file: str | None, data_dir: Path) -> bytes | None:
    """A stored image's bytes, when its file is still a file inside ``data_dir/covers``."""
    path = str(data_dir / cover_file) if cover_file else None
    if not (path and inside_library(path, [str(data_dir / "covers")]) and os.path.isfile(path)):
        return None
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


def _artist_folder(folders: list[str], roots: list[str]) -> str | None:
    """The folder holding all the artist's album folders, when it lies below a library root."""
    if not folders:
        return None
    parent = os.path.commonpath([os.path.dirname(album_folder(f)) for f in folders])
    below_a_root = inside_library(parent, roots) and os.path.realpath(parent) not in map(os.path.realpath, roots)
    return parent if below_a_root else None


# -- answering with an image ----------------------------------------------------------------------------

async def _image_response(request: Request, art: Art | None, size: Size | None, thumbs: Path) -> Response:
    if art is None:
        return _placeholder_response(request, size)
    encoding = WEBP if "image/webp" in request.headers.get("accept", "") else JPEG
    variant = "original" if size is None else f"{size}.{encoding.ext}"
    headers = {"ETag": f'"{art.sha256}-{variant}"', "Cache-Control": REAL_ART_CACHE, "Vary": "Accept",
               "X-Cover-Source": art.source}
    if etag_matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    try:
        body, mime = await asyncio.to_thread(_render, art, size, encoding, thumbs)
    except Exception as exc:  # Pillow raises many kinds of errors on broken images
        log.warning("cannot use the %s image %s: %s", art.source, art.sha256, exc)
        return _placeholder_response(request, size)
    return Response(body, media_type=mime, headers=headers)


def _render(art: Art, size: Size | None, encoding: Encoding, thumbs: Path) -> tuple[bytes, str]:
    """The original's bytes as they are, or the thumbnail: pre-rendered when stored, else made on first use."""
    if size is None:
        with Image.open(io.BytesIO(art.data)) as image:
            image.verify()
            return art.data, Image.MIME.get(image.format, "application/octet-stream")
    cached = thumb_path(thumbs, art.sha256, size, encoding)
    try:
        return cached.read_bytes(), encoding.mime
    except FileNotFoundError:
        data = thumbnail(art.data, size, encoding)
        write_atomically(cached, data)
        return data, encoding.mime


def _placeholder_response(request: Request, size: Size | None) -> Response:
    pixels = int(size or PLACEHOLDER_SIZE)
    headers = {"ETag": f'"placeholder-{pixels}"', "Cache-Control": PLACEHOLDER_CACHE,
               "X-Cover-Source": "placeholder"}
    if etag_matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(_placeholder_png(pixels), media_type="image/png", headers=headers)


@lru_cache(maxsize=len(Size) + 1)
def _placeholder_png(pixels: int) -> bytes:
    """A grey square with a darker disc."""
    image = Image.new("RGB", (pixels, pixels), (208, 208, 208))
    ImageDraw.Draw(image).ellipse((pixels * 0.2, pixels * 0.2, pixels * 0.8, pixels * 0.8), fill=(176, 176, 176))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# -- album downloads ------------------------------------------------------------------------------------

def _readable(tracks, roots: list[str]) -> list:
    return [t for t in tracks if os.path.isfile(t.path) and inside_library(t.path, roots)]


def _member_names(tracks) -> list[tuple[str, str]]:
    """(path, name in the ZIP): ``NN - Title.ext``, ``D-NN - Title.ext`` when there are several discs."""
    several_discs = len({t.disc_number or 1 for t in tracks}) > 1
    taken: set[str] = set()
    members = []
    for position, track in enumerate(tracks, start=1):
        number = f"{track.track_number or position:02d}"
        stem = _safe_name(f"{f'{track.disc_number or 1}-' if several_discs else ''}{number} - {track.title}")
        ext = os.path.splitext(track.path)[1]
        name, copy = stem + ext, 1
        while name in taken:
            copy += 1
            name = f"{stem} ({copy}){ext}"
        taken.add(name)
        members.append((track.path, name))
    return members


def _safe_name(text: str, max_bytes: int = 200) -> str:
    """One path component any file system takes: no separators, reserved or control characters."""
    name = _UNSAFE_IN_NAMES.sub("_", text).strip(" .") or "_"
    return name.encode()[:max_bytes].decode("utf-8", "ignore")


def _attachment(filename: str) -> str:
    """A Content-Disposition with an ASCII name for old clients and the real one (RFC 5987)."""
    ascii_name = "".join(c if c.isascii() else "_" for c in unicodedata.normalize("NFKD", filename)
                         if not unicodedata.combining(c))
    header = f'attachment; filename="{ascii_name}"'
    return header if ascii_name == filename else f"{header}; filename*=UTF-8''{quote(filename, safe='')}"


class _Chunks(io.RawIOBase):
    """An unseekable file zipfile writes into; what it wrote is taken out block by block."""

    def __init__(self):
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _zip_stream(members: list[tuple[str, str]]) -> Iterator[bytes]:
    """The ZIP, in blocks of about ``ZIP_BLOCK`` bytes: memory stays bounded whatever the album's size."""
    sink = _Chunks()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        for path, name in members:
            try:
                info = zipfile.ZipInfo.from_file(path, name, strict_timestamps=False)  # size known: ZIP64 if needed
                source = open(path, "rb")
            except OSError as exc:
                log.warning("left %s out of an album download: %s", path, exc)
                continue
            with source, archive.open(info, "w") as member:
                while block := source.read(ZIP_BLOCK):
                    member.write(block)
                    yield sink.take()
    yield sink.take()
