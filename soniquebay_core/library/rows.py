"""Turning what a tag reader found into the rows the library stores.

Pure functions, no database: the writer persists what ``track_rows`` returns.
Rules that decide identity live here:

- an album is its MusicBrainz release id when tagged; else its album artist
  and title; without an album artist tag, the album's folder and title (so an
  untagged "Greatest Hits" folder never merges with someone else's);
- a file without an album tag is an album named after its folder (``Disc N``
  folders belong to their parent);
- "A feat. B" credits A as main artist and B as featuring.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..scanner.walk import FileStat
from ..schemas import TagInfo
from ..text import fold
from . import pathinfo

VARIOUS_ARTISTS = "Various Artists"
_FEAT = re.compile(r"\s+(?:feat\.?|ft\.?|featuring)\s+", re.I)
_FEAT_SPLIT = re.compile(r"\s*(?:,|&| and )\s*", re.I)


@dataclass(slots=True)
class Credit:
    name: str
    role: str  # main | featuring | composer
    sort_name: str | None = None
    mbid: str | None = None


@dataclass(slots=True)
class AlbumRow:
    album_key: str
    title: str
    albumartist: str | None
    albumartist_sort: str | None
    artists: list[Credit]
    year: int | None
    date: str | None
    original_date: str | None
    compilation: bool
    disc_total: int | None
    label: str | None
    mb_albumid: str | None
    mb_releasegroupid: str | None

    def values(self) -> dict:
        return {
            "album_key": self.album_key, "title": self.title, "title_key": fold(self.title),
            "albumartist": self.albumartist, "albumartist_sort": self.albumartist_sort, "year": self.year,
            "date": self.date, "original_date": self.original_date, "compilation": self.compilation,
            "disc_total": self.disc_total, "label": self.label, "mb_albumid": self.mb_albumid,
            "mb_releasegroupid": self.mb_releasegroupid,
        }


@dataclass(slots=True)
class TrackRow:
    track: dict
    album: AlbumRow
    credits: list[Credit]
    genres: list[str] = field(default_factory=list)
    album_folder: str = ""
    album_guessed: bool = False  # no album tag: named after its folder


def adopt_folder_albums(rows: list[TrackRow]) -> None:
    """A file without an album tag joins the tagged album of its own folder, if there is one.

    Rows of one batch hold whole folders, so siblings are here to be asked.
    """
    tagged = {}
    for row in rows:
        if not row.album_guessed:
            tagged.setdefault(row.album_folder, row.album)
    for row in rows:
        if row.album_guessed and row.album_folder in tagged:
            row.album = tagged[row.album_folder]


def split_featuring(display: str) -> tuple[str, str]:
    """'A feat. B & C' → ('A', 'B & C')."""
    parts = _FEAT.split(display, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (display, "")


def _credits(tags: TagInfo) -> list[Credit]:
    display = tags.artist or ""
    main_name, featuring = split_featuring(display)
    names = list(tags.artists) or ([display] if display else [])
    if names == [display] and featuring:  # no ARTISTS tag: the display string is all we have
        names = [main_name, *(n for n in _FEAT_SPLIT.split(featuring) if n)]
    featuring_key = fold(featuring)
    same_length = len(tags.mb_artistids) == len(names)
    credits = [
        Credit(name, "featuring" if i > 0 and featuring_key and fold(name) in featuring_key else "main",
               tags.artist_sort if i == 0 else None, tags.mb_artistids[i] if same_length else None)
        for i, name in enumerate(names)
    ]
    credits += [Credit(name, "composer") for name in tags.composers]
    return _dedupe(credits)


def _dedupe(credits: list[Credit]) -> list[Credit]:
    seen: set[tuple[str, str]] = set()
    out = []
    for credit in credits:
        key = (fold(credit.name), credit.role)
        if credit.name.strip() and key not in seen:
            seen.add(key)
            out.append(credit)
    return out


def album_row(tags: TagInfo, folder: str, credits: list[Credit]) -> AlbumRow:
    album_dir = pathinfo.album_folder(folder)
    title = tags.album or pathinfo.album_from_folder(folder)
    main = [c for c in credits if c.role == "main"]
    if tags.albumartists:
        names = tags.albumartists
        display = tags.albumartist or "; ".join(names)
    elif tags.albumartist:
        names, display = [tags.albumartist], tags.albumartist
    elif tags.compilation:
        names, display = [VARIOUS_ARTISTS], VARIOUS_ARTISTS
    else:
        names = [c.name for c in main]
        display = split_featuring(tags.artist)[0] if tags.artist else (names[0] if names else None)
    if tags.mb_albumid:
        key = f"mb:{tags.mb_albumid}"
    elif tags.album and (tags.albumartist or tags.albumartists or tags.compilation):
        key = f"aa:{fold(display or '')}|{fold(title)}"
    else:
        key = f"dir:{album_dir}|{fold(title)}"
    mbids = tags.mb_albumartistids
    artists = [Credit(n, "main", tags.albumartist_sort if i == 0 else None,
                      mbids[i] if len(mbids) == len(names) else None) for i, n in enumerate(names)]
    return AlbumRow(
        album_key=key, title=title, albumartist=display, albumartist_sort=tags.albumartist_sort,
        artists=_dedupe(artists), year=tags.year, date=tags.date, original_date=tags.original_date,
        compilation=tags.compilation, disc_total=tags.disc_total, label=tags.label,
        mb_albumid=tags.mb_albumid, mb_releasegroupid=tags.mb_releasegroupid,
    )


def track_row(file: FileStat, tags: TagInfo, root_id: int, scan_id: int) -> TrackRow:
    folder = os.path.dirname(file.path)
    name_title, name_track, name_disc = pathinfo.from_file_name(file.path)
    title = tags.title or name_title
    credits = _credits(tags)
    track = {
        "root_id": root_id, "path": file.path, "folder": folder, "size": file.size, "mtime_ns": file.mtime_ns,
        "missing": False, "scan_id": scan_id, "first_scan_id": scan_id,
        "format": tags.format, "codec": tags.codec, "bitrate": tags.bitrate, "sample_rate": tags.sample_rate,
        "channels": tags.channels, "bits_per_sample": tags.bits_per_sample, "duration": tags.duration,
        "title": title, "title_key": fold(title), "artist": tags.artist,
        "artist_key": fold(tags.artist) if tags.artist else None,
        "track_number": tags.track_number if tags.track_number is not None else name_track,
        "track_total": tags.track_total,
        "disc_number": tags.disc_number if tags.disc_number is not None
        else (name_disc or pathinfo.disc_from_folder(folder)),
        "disc_total": tags.disc_total, "date": tags.date, "year": tags.year, "isrc": tags.isrc,
        "mb_trackid": tags.mb_trackid, "mb_releasetrackid": tags.mb_releasetrackid,
        "replaygain_track_gain": tags.replaygain_track_gain, "replaygain_track_peak": tags.replaygain_track_peak,
        "replaygain_album_gain": tags.replaygain_album_gain, "replaygain_album_peak": tags.replaygain_album_peak,
        "has_embedded_cover": tags.has_embedded_cover, "bpm": tags.bpm, "key": tags.key,
    }
    genres = list(dict.fromkeys(g for g in tags.genres if g.strip()))
    return TrackRow(track, album_row(tags, folder, credits), credits, genres,
                    album_folder=pathinfo.album_folder(folder), album_guessed=not tags.album)
