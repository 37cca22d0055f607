"""Cover storage: checks, one original per content, thumbnails rendered when stored and served by the API as they are."""
from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import select

from soniquebay_core import covers_store
from soniquebay_core.covers_store import JPEG, PRERENDERED, THUMB_SIZES, WEBP, InvalidImage, check, inspect, store
from soniquebay_core.models import Album, AlbumArtist, ArtistImage, Cover
from soniquebay_core.pipeline.results import Outcome, write_outcomes
from soniquebay_core.schemas import AlbumArt, CoverCandidate


def _image(width: int, height: int, fmt: str = "JPEG", colour="teal", **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt, **save)
    return out.getvalue()


def _size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_checks():
    info = inspect(_image(600, 300, "PNG"))
    assert (info.format, info.width, info.height, info.mime, info.aspect) == ("PNG", 600, 300, "image/png", 2.0)
    check(info, min_size=300, max_aspect=2.0)
    with pytest.raises(InvalidImage, match="smaller than 301"):
        check(info, min_size=301)
    with pytest.raises(InvalidImage, match="further from square than 1.5"):
        check(info, max_aspect=1.5)
    jpeg = _image(100, 100)
    for bad in (b"", b"not an image" * 10, jpeg[: len(jpeg) // 2]):
        with pytest.raises(InvalidImage):
            inspect(bad)


def test_a_decompression_bomb_is_refused(tmp_path):
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")  # small file, 81 million pixels
    with pytest.raises(InvalidImage, match="more than a cover needs"):
        store(out.getvalue(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_store_once_with_thumbnails(tmp_path):
    data = _image(700, 500)
    first = store(data, tmp_path)
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert (first.mime, first.width, first.height) == ("image/jpeg", 700, 500)
    assert (tmp_path / first.file).read_bytes() == data
    for size in THUMB_SIZES:
        for encoding in PRERENDERED:
            thumb = covers_store.thumb_path(tmp_path / "thumbs", first.sha256, size, encoding)
            assert _size(thumb) == (size, round(size * 5 / 7))
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(files) == 1 + len(THUMB_SIZES) * len(PRERENDERED)
    assert store(data, tmp_path) == first and sorted(p for p in tmp_path.rglob("*") if p.is_file()) == files


def test_large_jpegs_are_decoded_small_and_recorded_at_full_size(tmp_path):
    data = _image(3000, 2000, quality=90)
    assert (inspect(data).width, inspect(data).height) == (3000, 2000)
    stored = store(data, tmp_path)
    assert (stored.width, stored.height) == (3000, 2000) and (tmp_path / stored.file).read_bytes() == data
    assert _size(covers_store.thumb_path(tmp_path / "thumbs", stored.sha256, 512, WEBP)) == (512, 341)
    with pytest.raises(InvalidImage):
        inspect(data[: len(data) * 3 // 4])  # a truncated one still fails


def test_small_images_are_never_upscaled_and_odd_formats_kept_as_png(tmp_path):
    bmp = _image(100, 80, "BMP")
    stored = store(bmp, tmp_path)
    assert stored.mime == "image/png" and stored.file.endswith(".png")
    with Image.open(tmp_path / stored.file) as png:
        assert png.format == "PNG" and png.size == (100, 80)
    for size in THUMB_SIZES:
        assert _size(covers_store.thumb_path(tmp_path / "thumbs", stored.sha256, size, JPEG)) == \
            ((64, 51) if size == 64 else (100, 80))


def test_thumbnails_are_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the camera was held on its side
    stored = store(_image(400, 200, exif=exif), tmp_path)
    assert (stored.width, stored.height) == (400, 200)  # the original as it is
    assert _size(covers_store.thumb_path(tmp_path / "thumbs", stored.sha256, 256, WEBP)) == (128, 256)


async def test_stored_art_is_served_without_decoding(api, app_and_tokens, settings, monkeypatch):
    client, _, _ = api
    runtime = app_and_tokens[0].state.runtime
    cover, portrait = _image(500, 500, colour="maroon"), _image(300, 400, colour="navy")
    async with runtime.db.engine.begin() as conn:
        album_id, artist_id = (await conn.execute(select(AlbumArtist.album_id, AlbumArtist.artist_id).limit(1))).one()
        art = AlbumArt(data=cover, mime="image/jpeg", source="test",
                       artist_image=CoverCandidate(data=portrait, mime="image/jpeg", source="test"))
        await write_outcomes(conn, "test", "fetch_cover", "1", [Outcome(album_id, "done", art)], settings.data_dir)
        rows = (await conn.execute(select(Cover.sha256, Cover.width, Cover.height).order_by(Cover.width))).all()
        assert [tuple(r)[1:] for r in rows] == [(300, 400), (500, 500)]
        assert await conn.scalar(select(Album.cover_id).where(Album.id == album_id)) is not None
        assert await conn.scalar(select(ArtistImage.cover_id).where(ArtistImage.artist_id == artist_id)) is not None

    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    thumb = await client.get(f"/api/albums/{album_id}/cover", params={"size": 256}, headers={"Accept": "image/webp"})
    assert thumb.headers["x-cover-source"] == "stored" and thumb.headers["content-type"] == "image/webp"
    image = await client.get(f"/api/artists/{artist_id}/image", params={"size": 64})
    assert image.headers["x-cover-source"] == "stored" and image.headers["content-type"] == "image/jpeg"
    assert opened == []  # both pre-rendered when stored
    assert real_open(io.BytesIO(thumb.content)).size == (256, 256)
    assert real_open(io.BytesIO(image.content)).size == (48, 64)


async def test_bytes_that_are_no_image_are_left_out_and_the_rest_written(db, settings):
    garbage = CoverCandidate(data=b"<html>not found</html>", mime="image/jpeg", source="test")
    async with db.engine.begin() as conn:
        await write_outcomes(conn, "test", "fetch_cover", "1", [Outcome(1, "done", garbage)], settings.data_dir)
        assert (await conn.execute(select(Cover.id))).all() == []
    assert not (settings.data_dir / "covers").exists()
