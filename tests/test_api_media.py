"""Album covers, artist images and album downloads over the API, on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote

import mutagen
from PIL import Image

from soniquebay_core.pipeline.results import Outcome, write_outcomes
from soniquebay_core.schemas import CoverCandidate

UNSAFE = set('/\\:*?"<>|')


def _picture(width: int, height: int, colour: str, fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()


def _decoded(response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


def _tracks_of(manifest: dict, album: dict) -> list[dict]:
    return [t for t in manifest["tracks"] if t["path"].startswith(album["path"] + "/")]


def _folder_images(manifest: dict) -> dict[str, str]:
    """album folder → the name of its cover image file"""
    return dict(e["path"].rsplit("/", 1) for e in manifest["extras"] if e["kind"] == "folder_image")


def _pick(manifest: dict, folder_image: bool, embedded: bool) -> dict:
    """A plain, fully tagged album with (or without) a folder image and embedded pictures."""
    images, linked = _folder_images(manifest), {s["resolves_to"] for s in manifest["symlinks"]}
    return next(a for a in manifest["albums"]
                if a["type"] == "normal" and a["kind"] not in ("mp3_id3v1", "wav_plain") and a["path"] not in linked
                and (a["path"] in images) == folder_image
                and any(t["has_embedded_cover"] for t in _tracks_of(manifest, a)) == embedded)


def _multi_disc_in_folders(manifest: dict) -> dict:
    return next(a for a in manifest["albums"]
                if a["type"] == "multidisc" and any("/Disc 1/" in t["path"] for t in _tracks_of(manifest, a)))


async def _album_id(client, title: str, albumartist: str | None = None) -> int:
    albums = (await client.get("/api/albums", params={"limit": 500})).json()["items"]
    return next(a["id"] for a in albums if a["title"] == title and albumartist in (None, a["albumartist"]))


async def _cover(client, album_id: int, size: int | None = None, **headers):
    return await client.get(f"/api/albums/{album_id}/cover", params={"size": size} if size else {}, headers=headers)


def _assert_placeholder(response, size: int) -> None:
    assert response.status_code == 200 and response.headers["x-cover-source"] == "placeholder"
    assert response.headers["content-type"] == "image/png" and _decoded(response).size == (size, size)
    assert int(re.search(r"max-age=(\d+)", response.headers["cache-control"]).group(1)) <= 3600


async def test_folder_and_embedded_covers_fit_the_size(api):
    client, root, manifest = api
    folder_album = _pick(manifest, folder_image=True, embedded=False)
    image_file = root / folder_album["path"] / _folder_images(manifest)[folder_album["path"]]
    for album, source in ((folder_album, "folder"), (_pick(manifest, folder_image=False, embedded=True), "embedded")):
        album_id = await _album_id(client, album["album"], album["albumartist"])
        original = await _cover(client, album_id)
        assert original.status_code == 200 and original.headers["x-cover-source"] == source
        if source == "folder":
            assert original.content == image_file.read_bytes()
        longest = max(_decoded(original).size)
        for size in (64, 256):
            thumb = await _cover(client, album_id, size)
            assert thumb.headers["content-type"] == "image/jpeg" and _decoded(thumb).format == "JPEG"
            assert thumb.headers["cache-control"] == "public, max-age=86400"
            assert max(_decoded(thumb).size) == min(size, longest)  # fits inside, never upscaled
        webp = await _cover(client, album_id, 64, Accept="image/avif,image/webp,*/*")
        assert webp.headers["content-type"] == "image/webp" and _decoded(webp).format == "WEBP"


async def test_disc_folders_use_the_album_folder_image(api):
    client, root, manifest = api
    album = _multi_disc_in_folders(manifest)
    wide = _picture(300, 150, "darkred")
    (root / album["path"] / "Cover.JPG").write_bytes(wide)  # any case; "cover" ranks first
    album_id = await _album_id(client, album["album"], album["albumartist"])
    assert (await _cover(client, album_id)).content == wide
    assert _decoded(await _cover(client, album_id, 64)).size == (64, 32)  # the aspect ratio is kept


async def test_thumbnails_are_cached_on_disk_and_not_decoded_again(api, settings, monkeypatch):
    client, root, manifest = api
    album = _pick(manifest, folder_image=True, embedded=False)
    source = (root / album["path"] / _folder_images(manifest)[album["path"]]).read_bytes()
    album_id = await _album_id(client, album["album"], album["albumartist"])
    first = await _cover(client, album_id, 128)
    cached = settings.data_dir / "thumbs" / f"{hashlib.sha256(source).hexdigest()}-128.jpg"
    assert cached.read_bytes() == first.content

    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *args, **kwargs: opened.append(args) or real_open(*args, **kwargs))
    second = await _cover(client, album_id, 128)
    assert second.content == first.content and opened == []
    await _cover(client, album_id, 64)  # not cached yet: decoded once
    assert len(opened) == 1


async def test_etags_and_not_modified(api):
    client, _, manifest = api
    album = _pick(manifest, folder_image=False, embedded=True)
    album_id = await _album_id(client, album["album"], album["albumartist"])
    first = await _cover(client, album_id, 256)
    etag = first.headers["etag"]
    again = await _cover(client, album_id, 256, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    others = [await _cover(client, album_id, 512), await _cover(client, album_id, 256, Accept="image/webp"),
              await _cover(client, album_id)]
    assert len({etag, *(r.headers["etag"] for r in others)}) == 4
    assert (await _cover(client, album_id, 512, **{"If-None-Match": etag})).status_code == 200


async def test_placeholder_for_an_album_without_art(api, app_and_tokens):
    client, root, manifest = api
    app = app_and_tokens[0]
    track = next(t for t in manifest["tracks"] if t["format"] == "flac" and t["has_tags"] and not t["corrupt"]
                 and not t["has_embedded_cover"] and "musicbrainz" not in t)
    folder = root / "Nobody Painted This"
    folder.mkdir()
    copy = folder / "01 - Plain.flac"
    shutil.copyfile(root / track["path"], copy)
    audio = mutagen.File(copy)
    audio["album"] = ["No Art Anywhere"]
    audio.save()
    await app.state.runtime.scan([folder])
    album_id = await _album_id(client, "No Art Anywhere")
    _assert_placeholder(await _cover(client, album_id), 512)
    placeholder = await _cover(client, album_id, 128)
    _assert_placeholder(placeholder, 128)
    cached = await _cover(client, album_id, 128, **{"If-None-Match": placeholder.headers["etag"]})
    assert cached.status_code == 304


async def test_unknown_ids_and_sizes(api):
    client, _, _ = api
    for url, message in (("/api/albums/999999/cover", "no album 999999"),
                         ("/api/artists/999999/image", "no artist 999999"),
                         ("/api/albums/999999/download", "no album 999999")):
        response = await client.get(url)
        assert response.status_code == 404 and response.json() == {"error": {"status": 404, "message": message}}
    album_id = (await client.get("/api/albums", params={"limit": 1})).json()["items"][0]["id"]
    odd = await client.get(f"/api/albums/{album_id}/cover", params={"size": 100})
    assert odd.status_code == 422 and odd.json()["error"]["details"][0]["where"] == "query.size"


async def test_corrupt_images_give_the_placeholder(api):
    client, root, manifest = api
    album = _pick(manifest, folder_image=True, embedded=False)
    image_file = root / album["path"] / _folder_images(manifest)[album["path"]]
    album_id = await _album_id(client, album["album"], album["albumartist"])
    truncated = image_file.read_bytes()[: image_file.stat().st_size // 2]
    image_file.write_bytes(truncated)  # Pillow knows the format but cannot decode it
    _assert_placeholder(await _cover(client, album_id, 128), 128)
    image_file.write_bytes(b"not an image at all" * 50)
    _assert_placeholder(await _cover(client, album_id), 512)
    _assert_placeholder(await _cover(client, album_id, 64), 64)


async def _zip_of(client, album_id: int) -> tuple[zipfile.ZipFile, str]:
    response = await client.get(f"/api/albums/{album_id}/download")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    return archive, response.headers["content-disposition"]


async def test_album_download_is_a_zip_of_its_files(api):
    client, root, manifest = api
    multi = _multi_disc_in_folders(manifest)
    single = next(a for a in manifest["albums"] if a["type"] == "normal" and a["kind"] != "mp3_id3v1"
                  and not a["album"].isascii() and not UNSAFE & set(a["album"] + a["albumartist"]))
    for album, pattern in ((multi, r"\d-\d\d - .+"), (single, r"\d\d - .+")):
        album_id = await _album_id(client, album["album"], album["albumartist"])
        tracks = (await client.get(f"/api/albums/{album_id}")).json()["tracks"]
        archive, disposition = await _zip_of(client, album_id)
        names = archive.namelist()
        assert [archive.read(name) for name in names] == [Path(t["path"]).read_bytes() for t in tracks]
        assert all(re.fullmatch(pattern + re.escape(Path(t["path"]).suffix), name) for name, t in zip(names, tracks))
    assert disposition.startswith('attachment; filename="') and disposition.count('"') == 2
    encoded = re.search(r"filename\*=UTF-8''(\S+)$", disposition).group(1)
    assert unquote(encoded) == f"{single['albumartist']} - {single['album']}.zip"


async def test_files_linked_from_outside_are_never_served(api, app_and_tokens, settings, tmp_path):
    client, root, manifest = api
    secret = _picture(40, 40, "blue", "PNG")
    outside = tmp_path / "secret.png"
    outside.write_bytes(secret)

    # a folder image
    album = _pick(manifest, folder_image=True, embedded=False)
    image_file = root / album["path"] / _folder_images(manifest)[album["path"]]
    image_file.unlink()
    image_file.symlink_to(outside)
    album_id = await _album_id(client, album["album"], album["albumartist"])
    _assert_placeholder(await _cover(client, album_id), 512)
    _assert_placeholder(await _cover(client, album_id, 64), 64)

    # a stored cover, as a cover plugin leaves it
    album = _pick(manifest, folder_image=False, embedded=True)
    album_id = await _album_id(client, album["album"], album["albumartist"])
    stored = _picture(80, 60, "green", "PNG")
    async with app_and_tokens[0].state.runtime.db.engine.begin() as conn:
        await write_outcomes(conn, "test", "fetch_cover", "1",
                             [Outcome(album_id, "done", CoverCandidate(data=stored, mime="image/png", source="test"))],
                             settings.data_dir)
    served = await _cover(client, album_id)
    assert served.headers["x-cover-source"] == "stored" and served.content == stored
    stored_file = next((settings.data_dir / "covers").rglob("*.png"))
    stored_file.unlink()
    stored_file.symlink_to(outside)
    fallback = await _cover(client, album_id)
    assert fallback.headers["x-cover-source"] == "embedded" and fallback.content != secret

    # a track in a download
    tracks = (await client.get(f"/api/albums/{album_id}")).json()["tracks"]
    Path(tracks[0]["path"]).unlink()
    Path(tracks[0]["path"]).symlink_to(outside)
    archive, _ = await _zip_of(client, album_id)
    assert len(archive.namelist()) == len(tracks) - 1 and secret not in [archive.read(n) for n in archive.namelist()]


async def test_artist_images(api):
    client, root, manifest = api
    artists = {a["name"]: a["id"] for a in (await client.get("/api/artists", params={"limit": 500})).json()["items"]}
    sources = set()
    for name in {a["albumartist"] for a in manifest["albums"] if a["type"] == "normal" and a["kind"] != "mp3_id3v1"}:
        albums = (await client.get(f"/api/artists/{artists[name]}")).json()["albums"]
        latest = min(albums, key=lambda a: (a["year"] is None, -(a["year"] or 0), -a["id"]))
        image, cover = await client.get(f"/api/artists/{artists[name]}/image"), await _cover(client, latest["id"])
        assert image.content == cover.content and image.headers["x-cover-source"] == cover.headers["x-cover-source"]
        sources.add(image.headers["x-cover-source"])
    assert {"placeholder", "embedded"} <= sources  # the most recent album's cover, whatever it is

    album = _pick(manifest, folder_image=False, embedded=True)
    portrait = _picture(120, 200, "navy")
    (root / album["path"]).parent.joinpath("Artist.jpg").write_bytes(portrait)
    artist_id = artists[album["albumartist"]]
    image = await client.get(f"/api/artists/{artist_id}/image")
    assert image.headers["x-cover-source"] == "folder" and image.content == portrait
    thumb = await client.get(f"/api/artists/{artist_id}/image", params={"size": 64})
    assert _decoded(thumb).size == (38, 64) and thumb.headers["cache-control"] == "public, max-age=86400"
