"""Covers from the library's own files: pictures embedded in every format (real corpus), folder images (generated
library), the checks, the configured order, artist images."""
from __future__ import annotations

import io
import shutil

import pytest
from covers_testing import album_of, embedded, fetch, folder_images
from PIL import Image

from soniquebay_core.schemas import AlbumArt, AlbumSnapshot

# corpus file -> (format, size) of the picture that must win: the front cover when one is marked, else the first
EMBEDDED = {
    "beets/image.mp3": ("PNG", (2, 3)),  # ID3 APIC: front (PNG) before the artist picture (JPEG)
    "tinytag/image-text-encoding.mp3": ("JPEG", (256, 256)),
    "tinytag/multiple_values_images.flac": ("JPEG", (30, 30)),  # FLAC picture blocks
    "tinytag/mpeg4_with_image.m4a": ("JPEG", (30, 30)),  # MP4 covr
    "beets/image.wma": ("PNG", (2, 3)),  # ASF WM/Picture: the front one is second
    "beets/image.ogg": ("PNG", (2, 3)),  # Vorbis METADATA_BLOCK_PICTURE
    "beets/coverart.ogg": ("PNG", (2, 3)),  # the older base64 COVERART
    "music-tag/440Hz.opus": ("JPEG", (314, 314)),
    "tinytag/aiff_with_image.aiff": ("JPEG", (30, 30)),  # ID3 in AIFF, no front: the first
    "tinytag/wav_with_image.wav": ("JPEG", (640, 400)),
    "beets/image.ape": ("PNG", (2, 3)),  # APEv2 binary item
    "music-tag/440Hz.wv": ("JPEG", (314, 314)),
    "music-tag/440Hz.dsf": ("JPEG", (314, 314)),
}
ANY_SIZE = {"min_size": 1, "sources": ["embedded"]}


def _decoded(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.format, image.size


def _single(path, **fields) -> AlbumSnapshot:
    return AlbumSnapshot(id=1, title="Album", albumartist="Artist", track_paths=[str(path)],
                         folders=[str(path.parent)], **fields)


def _picture(width: int, height: int, colour: str = "teal", fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(EMBEDDED))
def test_embedded_pictures_of_every_format(corpus_dir, name):
    art = fetch(_single(corpus_dir / name), **ANY_SIZE)
    assert isinstance(art, AlbumArt) and art.source == f"embedded:{name.rsplit('/', 1)[1]}"
    assert _decoded(art.data) == EMBEDDED[name]
    assert art.mime == Image.MIME[EMBEDDED[name][0]]


def test_pictures_too_small_are_passed_over(corpus_dir):
    # four pictures: the marked front covers are 30×30 JPEG, 500×500 PNG and 30×30 GIF
    art = fetch(_single(corpus_dir / "tinytag/multiple_values_images.flac"), sources=["embedded"])
    assert _decoded(art.data) == ("PNG", (500, 500))
    assert fetch(_single(corpus_dir / "beets/image.mp3"), sources=["embedded"]) is None  # 2×3 only
    assert fetch(_single(corpus_dir / "music-tag/440Hz.mp3"), sources=["embedded"], min_size=400) is None


def test_unreadable_and_pictureless_files_give_nothing(corpus_dir, tmp_path):
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"fLaC" + b"\0" * 100)
    assert fetch(_single(broken), **ANY_SIZE) is None
    assert fetch(_single(corpus_dir / "beets/full.mp3"), **ANY_SIZE) is None


def test_generated_library_every_album_with_art_gets_it(library):
    root, manifest = library
    images = folder_images(manifest)
    checked = 0
    for entry in manifest["albums"]:
        album = album_of(root, manifest, entry)
        art = fetch(album)
        if entry["path"] in images:
            assert art.source == f"folder:{images[entry['path']]}"  # the default order: folder first
            assert art.data == (root / entry["path"] / images[entry["path"]]).read_bytes()
        elif embedded(manifest, entry):
            assert art.source.startswith("embedded:")
        else:
            assert art is None  # offline by default: nothing else to ask
        checked += art is not None
    assert checked >= len(manifest["albums"]) // 2


def test_order_is_the_users(library):
    root, manifest = library
    images = folder_images(manifest)
    entry = next(a for a in manifest["albums"] if a["path"] in images and embedded(manifest, a))
    album = album_of(root, manifest, entry)
    assert fetch(album).source.startswith("folder:")
    assert fetch(album, sources=["embedded", "folder"]).source.startswith("embedded:")
    assert fetch(album, sources=["folder"]).source.startswith("folder:")


def test_disc_folders_and_the_album_folder(library):
    root, manifest = library
    entry = next(a for a in manifest["albums"] if a["discs"] > 1 and (root / a["path"] / "Disc 2").is_dir())
    album = album_of(root, manifest, entry)
    name = folder_images(manifest).get(entry["path"])
    if name:
        (root / entry["path"] / name).unlink()
    # an image in a Disc N folder is found ...
    disc = _picture(300, 300, "olive")
    (root / entry["path"] / "Disc 2" / "Front.PNG").write_bytes(disc)
    assert fetch(album, sources=["folder"]).data == disc
    # ... but the album folder proper is looked in first
    whole = _picture(300, 300, "maroon")
    (root / entry["path"] / "album.webp").write_bytes(whole)
    assert fetch(album, sources=["folder"]).data == whole


def test_checks_pass_bad_images_over(library, tmp_path):
    root, manifest = library
    entry = next(a for a in manifest["albums"] if a["path"] not in folder_images(manifest)
                 and not embedded(manifest, a))
    folder = root / entry["path"]
    album = album_of(root, manifest, entry)
    (folder / "cover.jpg").write_bytes(b"not an image at all" * 50)  # ranked first, but garbage
    (folder / "cover.png").write_bytes(_picture(40, 40, fmt="PNG"))  # too small
    (folder / "folder.jpg").write_bytes(_picture(600, 200))  # a banner, not a cover
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(_picture(300, 300, "navy"))
    (folder / "folder.png").symlink_to(outside)  # leads out of the album
    assert fetch(album) is None
    good = _picture(320, 300)  # nearly square is fine
    (folder / "front.jpg").write_bytes(good)
    art = fetch(album)
    assert art.data == good and art.source == "folder:front.jpg" and art.mime == "image/jpeg"
    assert fetch(album, max_aspect=3.5).source == "folder:folder.jpg"  # the banner, once allowed


def test_artist_image_from_the_artist_folder(library):
    root, manifest = library
    entry = next(a for a in manifest["albums"] if a["type"] == "normal" and a["path"] in folder_images(manifest))
    portrait = _picture(200, 300, "navy")
    (root / entry["path"]).parent.joinpath("Artist.jpg").write_bytes(portrait)
    art = fetch(album_of(root, manifest, entry))
    assert art.artist_image is not None and art.artist_image.data == portrait
    assert art.artist_image.source == "folder:Artist.jpg"
    assert fetch(album_of(root, manifest, entry), artist_images=False).artist_image is None

    compilation = next(a for a in manifest["albums"] if a["type"] == "compilation")
    (root / compilation["path"]).parent.joinpath("artist.jpg").write_bytes(portrait)
    shutil.copy(root / entry["path"] / folder_images(manifest)[entry["path"]], root / compilation["path"] / "cover.jpg")
    assert fetch(album_of(root, manifest, compilation)).artist_image is None  # "Various Artists" has no portrait


def test_misspelt_settings_fail_clearly(library):
    from soniquebay_core.errors import PermanentPluginError

    root, manifest = library
    album = album_of(root, manifest, manifest["albums"][0])
    with pytest.raises(PermanentPluginError, match=r"\[plugins.covers\] min_sise"):
        fetch(album, min_sise=100)
    with pytest.raises(PermanentPluginError, match=r"sources"):
        fetch(album, sources=["folder", "google"])
