"""End to end, on SQLite and PostgreSQL: scan a generated library, run the pipeline (embedded workers) with the
covers plugin and the fake web, and every album ends with a stored cover and its pre-rendered thumbnails (all but
untagged albums without art of their own, which nothing can look up)."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

from covers_fakeweb import RECORDED, FakeWeb
from covers_testing import folder_images, load_host
from PIL import Image
from sqlalchemy import func, select

from soniquebay_core.artwork import embedded_picture
from soniquebay_core.covers_store import PRERENDERED, THUMB_SIZES, thumb_path
from soniquebay_core.models import Album, ArtistImage, Cover, Track
from soniquebay_core.runtime import Runtime
from soniquebay_core.stages import stage_summary


async def test_every_album_gets_a_cover_and_thumbnails(settings, library, tmp_path):
    root, manifest = library
    with FakeWeb() as web:
        settings, host = load_host(settings, web.config(tmp_path / "cache"))
        runtime = await Runtime.open(settings, host)
        try:
            result = await runtime.scan([root])
            await runtime.wait_idle(retries=True)
            async with runtime.db.engine.connect() as conn:
                albums = (await conn.execute(
                    select(Album.id, Album.title, Cover.sha256, Cover.source, Cover.file, Cover.width, Cover.height)
                    .outerjoin(Cover, Cover.id == Album.cover_id))).all()
                summary = {s["plugin"]: s for s in await stage_summary(conn, runtime.host)}
                artist_images = (await conn.execute(select(ArtistImage.artist_id, Cover.source, Cover.width)
                                                    .join(Cover, Cover.id == ArtistImage.cover_id))).all()
                stored = await conn.scalar(select(func.count()).select_from(Cover))
                tracks = (await conn.execute(select(Track.album_id, Track.path).where(Track.album_id.is_not(None))
                                             .order_by(Track.disc_number, Track.track_number))).all()
        finally:
            await runtime.close()

    assert summary["covers"]["done"] == result.counts.new
    assert summary["covers"]["failed"] == summary["covers"]["pending"] == 0
    # every album has its cover, except those with no art of their own and nothing to look them up by on the web:
    # untagged files (no MusicBrainz id, no album artist; the title comes from the folder)
    untagged = {e["album"] for e in manifest["albums"]
                if not any(t["has_tags"] for t in manifest["tracks"] if t["path"].startswith(e["path"] + "/"))
                and e["path"] not in folder_images(manifest)}
    assert {a.title for a in albums if a.sha256 is None} == untagged
    albums = [a for a in albums if a.sha256 is not None]
    by_album = {a.id: a.sha256 for a in albums}
    first_paths: dict[str, list[str]] = {}  # manifest album path -> its tracks, in order
    album_of: dict[str, int] = {}
    for album_id, path in tracks:
        relative = Path(path).relative_to(root).as_posix()
        entry = next(e["path"] for e in manifest["albums"] if relative.startswith(e["path"] + "/"))
        first_paths.setdefault(entry, []).append(path)
        album_of[entry] = album_id
    for album in albums:
        original = settings.data_dir / album.file
        with Image.open(original) as image:
            assert image.size == (album.width, album.height)
        for size in THUMB_SIZES:
            for encoding in PRERENDERED:
                with Image.open(io.BytesIO(thumb_path(settings.data_dir / "thumbs", album.sha256, size,
                                                      encoding).read_bytes())) as thumb:
                    assert thumb.format == encoding.pillow
                    assert max(thumb.size) == min(size, max(album.width, album.height))  # fits, never upscaled

    # each album's cover is its own folder image, else its embedded picture, else the web's (one image, stored once)
    web_cover = hashlib.sha256((RECORDED / "caa-front-500.jpg").read_bytes()).hexdigest()
    images = folder_images(manifest)
    expected = {}
    for entry in manifest["albums"]:
        folder, paths = root / entry["path"], sorted(first_paths.get(entry["path"], []))
        if entry["path"] in images:
            expected[entry["path"]] = _sha((folder / images[entry["path"]]).read_bytes())
        elif any(embedded_picture(p) for p in paths):
            expected[entry["path"]] = _sha(next(filter(None, map(embedded_picture, paths))))
        elif entry["album"] not in untagged:
            expected[entry["path"]] = web_cover
    assert {path: by_album[album_of[path]] for path in expected} == expected
    assert web_cover in expected.values() and len(set(expected.values())) > 3
    assert stored < len(albums)  # the same image is stored once (every web answer is the same picture)
    # artists: Last.fm's picture for each album artist (compilations have none)
    assert artist_images and {(source, width) for _, source, width in artist_images} == {("lastfm", 300)}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
