"""Images the library keeps: checked, stored once by content, thumbnails made ahead of time.

An original is stored once, under ``data_dir/covers/<sha[:2]>/<sha256>.<ext>``, named by
the hash of its bytes, so albums sharing a cover share one file. JPEG, PNG, WebP and GIF
are kept as they are; any other format Pillow reads (BMP in old WMA and M4A files, TIFF)
is kept as a lossless PNG.

Thumbnails fit inside N×N, keep the aspect ratio, are never upscaled and are written to
``data_dir/thumbs/<sha256 of the original>-<N>.<jpg|webp>``. Storing renders
``THUMB_SIZES`` in both encodings at once, so the API answers those sizes without decoding
anything; it renders other sizes on first request with the same ``thumbnail`` function.

Everything here blocks (file I/O, Pillow): async callers run it in a thread. Pillow is
imported on first use: every process that loads the covers plugin (a scan, say) loads this
module, and most never decode an image.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from PIL import Image

THUMB_SIZES = (64, 256, 512)
KEPT_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp"),
                "GIF": ("image/gif", ".gif")}
DECODE_AT_LEAST = 2 * max(THUMB_SIZES)
MAX_PIXELS = 64_000_000  # a cover larger than 8000×8000 is a decompression bomb, not art


class Encoding(NamedTuple):
    pillow: str
    mime: str
    ext: str


JPEG = Encoding("JPEG", "image/jpeg", "jpg")
WEBP = Encoding("WEBP", "image/webp", "webp")
PRERENDERED = (WEBP, JPEG)


class InvalidImage(ValueError):
    """Bytes that are not an image the library can use, with the reason."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # Pillow's name: JPEG, PNG, ...
    width: int
    height: int

    @property
    def mime(self) -> str:
        from PIL import Image

        return Image.MIME.get(self.format, "application/octet-stream")

    @property
    def aspect(self) -> float:
        """Long side over short side: 1.0 for a square."""
        return max(self.width, self.height) / max(1, min(self.width, self.height))


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    mime: str
    width: int
    height: int
    file: str  # relative to the data dir


def inspect(data: bytes) -> ImageInfo:
    """Decode the whole image (a truncated file fails here, not later) and say what it is."""
    image, (width, height) = _decode(data)
    with image:
        return ImageInfo(image.format or "", width, height)


def check(info: ImageInfo, min_size: int = 0, max_aspect: float | None = None) -> None:
    """Raise ``InvalidImage`` when the image is too small or too far from square to be a cover."""
    if min(info.width, info.height) < min_size:
        raise InvalidImage(f"{info.width}×{info.height} is smaller than {min_size}×{min_size}")
    if max_aspect is not None and info.aspect > max_aspect:
        raise InvalidImage(f"{info.width}×{info.height} is further from square than {max_aspect}:1")


def store(data: bytes, data_dir: Path) -> StoredImage:
    """Write the original (once) and its pre-rendered thumbnails (those missing); say what was stored."""
    image, (width, height) = _decode(data)
    with image:
        kept = image.format if image.format in KEPT_FORMATS else "PNG"
        if kept != image.format:
            data = _encode(image, "PNG")
        mime, ext = KEPT_FORMATS[kept]
        digest = hashlib.sha256(data).hexdigest()
        relative = Path("covers") / digest[:2] / f"{digest}{ext}"
        if not (data_dir / relative).exists():
            write_atomically(data_dir / relative, data)
        thumbs = data_dir / "thumbs"
        missing = [(size, enc) for size in THUMB_SIZES for enc in PRERENDERED
                   if not thumb_path(thumbs, digest, size, enc).exists()]
        if missing:
            from PIL import ImageOps

            upright = ImageOps.exif_transpose(image)
            for size, enc in missing:
                write_atomically(thumb_path(thumbs, digest, size, enc), _thumbnail_of(upright, size, enc))
        return StoredImage(digest, mime, width, height, str(relative))


def thumb_path(thumbs: Path, sha256: str, size: int, encoding: Encoding) -> Path:
    return thumbs / f"{sha256}-{size}.{encoding.ext}"


def thumbnail(data: bytes, size: int, encoding: Encoding) -> bytes:
    """A thumbnail of an original's bytes (see the module doc)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((size, size))  # keeps the aspect ratio, never upscales
        return _encode(ImageOps.exif_transpose(image), encoding.pillow, keep_alpha=encoding is WEBP)


def _thumbnail_of(image: Image.Image, size: int, encoding: Encoding) -> bytes:
    small = image.copy()
    small.thumbnail((size, size))
    return _encode(small, encoding.pillow, keep_alpha=encoding is WEBP)


def _encode(image: Image.Image, pillow_format: str, keep_alpha: bool = True) -> bytes:
    alpha = keep_alpha and pillow_format != "JPEG" and image.has_transparency_data
    out = io.BytesIO()
    image.convert("RGBA" if alpha else "RGB").save(out, pillow_format, quality=85)
    return out.getvalue()


def _decode(data: bytes) -> tuple[Image.Image, tuple[int, int]]:
    """The image, fully loaded, and its size; ``InvalidImage`` when Pillow cannot make one of the bytes.

    A large JPEG is decoded at a reduced scale (libjpeg's, from the same bytes: every byte is still read and
    checked), no smaller than ``DECODE_AT_LEAST``: a 3000 px scan costs a sixteenth of the memory and time
    on a Pi, and the thumbnails are the same.
    """
    if not data:
        raise InvalidImage("no bytes")
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            size = image.size
            if image.width * image.height > MAX_PIXELS:
                raise InvalidImage(f"{image.width}×{image.height} pixels is more than a cover needs")
            if image.format == "JPEG":
                image.draft("RGB", (DECODE_AT_LEAST, DECODE_AT_LEAST))
            image.load()
    except InvalidImage:
        raise
    except Exception as exc:  # Pillow raises many kinds of errors on broken images
        raise InvalidImage(f"not a readable image ({type(exc).__name__}: {exc})") from None
    return image, size


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file and a rename: readers, and a second writer, never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise
