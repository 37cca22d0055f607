"""Per-container tag key tables: mutagen's raw tags -> canonical text fields.

Every tag container mutagen reads is flattened into one shape: a dict from a
*canonical field name* to the list of its values in file order. The canonical
names are Picard's Vorbis comment names (``title``, ``albumartist``,
``musicbrainz_albumid``, ``replaygain_track_gain``, ...), so the Vorbis table
is mostly the identity and every other container has one table translating
its own keys (ID3 frame ids, MP4 atoms, ASF attribute names, APEv2 keys).
Keys are matched case-insensitively. Tags not in a table are ignored.

Values come out cleaned: converted to text, split on NUL (the multi-value
separator of ID3v2.4 and APEv2), stripped, NFC-normalised, empty ones dropped.
The one exception is ``cover``, whose values are the raw picture objects: only
its presence matters.

ID3v2.2/2.3 have no multi-value separator: mutagen and Picard save several
values joined with "/" by default, and mutagen does not split them when
reading. The multi-valued fields of those versions are split on "/" here,
accepting that a single name such as "AC/DC" is split too.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from operator import attrgetter

from mutagen._vorbis import VComment  # the base of every Vorbis comment container (FLAC, Ogg, ...)
from mutagen.apev2 import APEv2
from mutagen.asf import ASFTags
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Tags

Fields = dict[str, list]
COVER = "cover"

_MUSICBRAINZ = ("trackid", "releasetrackid", "albumid", "releasegroupid", "artistid", "albumartistid")
_REPLAYGAIN = ("track_gain", "track_peak", "album_gain", "album_peak")

CANONICAL = (
    "title", "artist", "artists", "artistsort", "albumartist", "albumartists", "albumartistsort",
    "album", "composer", "genre", "tracknumber", "tracktotal", "discnumber", "disctotal",
    "date", "year", "originaldate", "originalyear", "compilation", "label", "isrc", "bpm", "key",
    *(f"musicbrainz_{name}" for name in _MUSICBRAINZ),
    *(f"replaygain_{name}" for name in _REPLAYGAIN),
    "r128_track_gain", "r128_album_gain",
)

VORBIS_KEYS = {name: name for name in CANONICAL} | {
    "album artist": "albumartist", "album_artist": "albumartist",
    "totaltracks": "tracktotal", "trackc": "tracktotal", "disc": "discnumber",
    "totaldiscs": "disctotal", "discc": "disctotal", "organization": "label", "publisher": "label", "initialkey": "key",
    "metadata_block_picture": COVER, "coverart": COVER,
}

APE_KEYS = VORBIS_KEYS | {"track": "tracknumber", "cover art (front)": COVER}

ID3_KEYS = {
    "tit2": "title", "tpe1": "artist", "txxx:artists": "artists", "tsop": "artistsort",
    "tpe2": "albumartist", "txxx:albumartists": "albumartists", "tso2": "albumartistsort",
    "txxx:albumartistsort": "albumartistsort", "talb": "album", "tcom": "composer", "tcon": "genre",
    "trck": "tracknumber", "tpos": "discnumber", "tdrc": "date", "tyer": "year",
    "tdor": "originaldate", "txxx:originalyear": "originalyear", "tcmp": "compilation",
    "tpub": "label", "txxx:label": "label", "tsrc": "isrc", "tbpm": "bpm", "tkey": "key", "apic": COVER,
    "ufid:http://musicbrainz.org": "musicbrainz_trackid",
    "txxx:musicbrainz release track id": "musicbrainz_releasetrackid",
    "txxx:musicbrainz album id": "musicbrainz_albumid",
    "txxx:musicbrainz release group id": "musicbrainz_releasegroupid",
    "txxx:musicbrainz artist id": "musicbrainz_artistid",
    "txxx:musicbrainz album artist id": "musicbrainz_albumartistid",
    **{f"txxx:replaygain_{name}": f"replaygain_{name}" for name in _REPLAYGAIN},
}

_ITUNES = "----:com.apple.itunes:"  # MP4 freeform atoms written by iTunes and Picard
MP4_KEYS = {
    "\xa9nam": "title", "\xa9art": "artist", "soar": "artistsort", "aart": "albumartist",
    "soaa": "albumartistsort", "\xa9alb": "album", "\xa9wrt": "composer", "\xa9gen": "genre",
    "trkn": "tracknumber", "disk": "discnumber", "\xa9day": "date", "cpil": "compilation",
    "tmpo": "bpm", "\xa9pub": "label", "covr": COVER,
    **{_ITUNES + key: name for key, name in {
        "artists": "artists", "albumartists": "albumartists", "label": "label", "publisher": "label",
        "isrc": "isrc", "initialkey": "key", "originaldate": "originaldate", "originalyear": "originalyear",
        "musicbrainz track id": "musicbrainz_trackid",
        "musicbrainz release track id": "musicbrainz_releasetrackid",
        "musicbrainz album id": "musicbrainz_albumid",
        "musicbrainz release group id": "musicbrainz_releasegroupid",
        "musicbrainz artist id": "musicbrainz_artistid",
        "musicbrainz album artist id": "musicbrainz_albumartistid",
        **{f"replaygain_{name}": f"replaygain_{name}" for name in _REPLAYGAIN},
    }.items()},
}

# ASF's own names; some taggers (beets, for one) write Vorbis comment names too
ASF_KEYS = VORBIS_KEYS | {
    "author": "artist", "wm/artists": "artists", "wm/artistsortorder": "artistsort",
    "wm/albumartist": "albumartist", "wm/albumartistsortorder": "albumartistsort",
    "wm/albumtitle": "album", "wm/composer": "composer", "wm/genre": "genre",
    "wm/tracknumber": "tracknumber", "wm/partofset": "discnumber", "wm/year": "year",
    "wm/originalreleasetime": "originaldate", "wm/originalreleaseyear": "originalyear",
    "wm/iscompilation": "compilation", "wm/publisher": "label", "wm/isrc": "isrc",
    "wm/beatsperminute": "bpm", "wm/initialkey": "key", "wm/picture": COVER,
    "musicbrainz/track id": "musicbrainz_trackid",
    "musicbrainz/release track id": "musicbrainz_releasetrackid",
    "musicbrainz/album id": "musicbrainz_albumid",
    "musicbrainz/release group id": "musicbrainz_releasegroupid",
    "musicbrainz/artist id": "musicbrainz_artistid",
    "musicbrainz/album artist id": "musicbrainz_albumartistid",
}

# fields that ID3v2.2/2.3 store as one "/"-joined text
_SLASH_JOINED = frozenset({"artist", "artists", "albumartist", "albumartists", "composer", "genre",
                           "musicbrainz_artistid", "musicbrainz_albumartistid"})

# ID3 frames whose values are not in ``frame.text``
_ID3_VALUES: dict[str, Callable] = {
    "TCON": lambda frame: frame.genres,  # resolves ID3v1 genre numbers such as "(17)"
    "UFID": lambda frame: [frame.data],
    "APIC": lambda frame: [frame],
}
_frame_text = attrgetter("text")


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):  # MP4 freeform atoms, UFID
        return value.decode("utf-8", "replace")
    if isinstance(value, tuple):  # MP4 trkn/disk (number, total)
        return "/".join(str(part) for part in value)
    if isinstance(value, bool):  # MP4 cpil, ASF WM/IsCompilation
        return str(int(value))
    return str(value)  # ints, ID3 time stamps, APEv2 text values


def clean_texts(values: Iterable) -> list[str]:
    """Every non-empty, stripped, NFC-normalised text in ``values``; NUL separates values."""
    texts = []
    for value in values:
        for part in _as_text(value).split("\0"):
            part = part.strip()
            if part:
                texts.append(unicodedata.normalize("NFC", part))
    return texts


def _add(fields: Fields, name: str, values: Iterable) -> None:
    fields.setdefault(name, []).extend(values if name == COVER else clean_texts(values))


def _collect(pairs: Iterable[tuple[str, Iterable]], keys: dict[str, str]) -> Fields:
    fields: Fields = {}
    for key, values in pairs:
        name = keys.get(key.lower())
        if name:
            _add(fields, name, values)
    return fields


def _id3_fields(tags: ID3) -> Fields:
    slash_joined = (2, 2) <= tags.version < (2, 4)
    fields: Fields = {}
    for frame in tags.values():
        name = ID3_KEYS.get(frame.HashKey.lower()) or ID3_KEYS.get(frame.FrameID.lower())
        if not name:
            continue
        values = _ID3_VALUES.get(frame.FrameID, _frame_text)(frame)
        if slash_joined and name in _SLASH_JOINED:
            values = [part for value in values for part in str(value).split("/")]
        _add(fields, name, values)
    return fields


def _mp4_pairs(tags: MP4Tags):
    for key, value in tags.items():
        yield key, value if isinstance(value, list) else (value,)  # cpil is a bare bool


_READERS: tuple[tuple[type, Callable[..., Fields]], ...] = (
    (ID3, _id3_fields),
    (VComment, lambda tags: _collect(((key, (value,)) for key, value in tags), VORBIS_KEYS)),
    (MP4Tags, lambda tags: _collect(_mp4_pairs(tags), MP4_KEYS)),
    (ASFTags, lambda tags: _collect(((key, (attr.value,)) for key, attr in tags), ASF_KEYS)),
    (APEv2, lambda tags: _collect(((key, (value,)) for key, value in tags.items()), APE_KEYS)),
)


def read_fields(audio) -> Fields:
    """Canonical fields of a file opened with ``mutagen.File``; ``{}`` when it has no tags."""
    tags = audio.tags
    fields: Fields = {}
    if tags is not None:
        reader = next((read for kind, read in _READERS if isinstance(tags, kind)), None)
        fields = reader(tags) if reader else {}
    pictures = getattr(audio, "pictures", None)  # FLAC picture blocks live outside the tags
    if pictures:
        _add(fields, COVER, pictures)
    return fields
