"""Deciding which files to read, and reading them through the ``read_tags`` hook.

Files with an audio extension are read, and a failure is an error worth
reporting. Files with a known non-audio extension (covers, logs, playlists)
are passed over without opening them. Anything else (no extension, unusual
ones) is sniffed: a reader may recognise it by content; if none does it is
remembered as "not audio", not as an error.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..plugins import PluginHost
from ..schemas import TagInfo
from .walk import FileStat

AUDIO_EXTENSIONS = frozenset(
    "mp3 mp2 mp1 mpga flac fla ogg oga opus spx m4a m4b m4p mp4 3g2 aac alac wma asf wav wave aif aiff aifc "
    "ape wv mpc mp+ tta dsf dff ofr ofs tak ac3 eac3 mka webm shn".split()
)
NON_AUDIO_EXTENSIONS = frozenset(
    "jpg jpeg png gif bmp webp tif tiff heic svg ico txt nfo log cue m3u m3u8 pls xspf pdf sfv md5 sha1 ffp "
    "xml json html htm db ini url lrc doc docx rtf accurip exe zip rar 7z tar gz torrent mkv avi mov mpg "
    "mpeg wmv sbignore".split()
)


def extension(path: str) -> str:
    return os.path.splitext(path)[1][1:].lower()


def worth_reading(path: str) -> bool:
    return extension(path) not in NON_AUDIO_EXTENSIONS


@dataclass(slots=True)
class ReadOutcome:
    file: FileStat
    tags: TagInfo | None = None
    error: str | None = None    # broken audio: reported
    not_audio: str | None = None  # not a track, not an error


def describe(exc: BaseException) -> str:
    """'mutagen.id3.error: …': the exception's public dotted name and first line."""
    kind = type(exc)
    module = ".".join(part for part in kind.__module__.split(".") if not part.startswith("_"))
    name = kind.__name__ if module in ("builtins", "") else f"{module}.{kind.__name__}"
    text = str(exc).strip()
    return f"{name}: {text.splitlines()[0]}"[:500] if text else name


def read_file(host: PluginHost, file: FileStat) -> ReadOutcome:
    errors: list[str] = []
    answer = host.dispatch.call_first(
        "read_tags", on_error=lambda plugin, hook, exc: errors.append(describe(exc)), strict=False,
        path=file.path)
    if answer is not None:
        return ReadOutcome(file, tags=answer[1])
    if errors:
        return ReadOutcome(file, error=errors[0])
    if extension(file.path) in AUDIO_EXTENSIONS:
        return ReadOutcome(file, error="not a recognised audio file")
    return ReadOutcome(file, not_audio="not an audio file")


def read_files(host: PluginHost, files: list[FileStat]) -> list[ReadOutcome]:
    return [read_file(host, f) for f in files]
