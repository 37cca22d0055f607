"""Built-in tag reader: tags and stream properties of any file mutagen opens.

``mutagen.File`` picks the container class from the file's header. Its tags,
whatever the container (ID3v1/v2, Vorbis comments, MP4 atoms, ASF attributes,
APEv2), are flattened by ``tagmap.read_fields`` into canonical fields through
one key table per container family; this module turns those texts into a
``TagInfo``: numbers ("3/12"), dates, flags, ReplayGain, and the display
artist. Format, codec and stream properties come from the mutagen class and
its ``info``.

Choices:
* Display artist: the artist tag's text, its values joined with "; " when it
  holds several. ``artists`` is the ARTISTS tag (Picard's list) when present,
  else the artist values. The same for the album artist.
* Opus R128 gains (Q7.8 dB relative to -23 LUFS) become ReplayGain-equivalent
  gains by adding 5 dB (ReplayGain 2 targets -18 LUFS); explicit ReplayGain
  tags win over them.
* Values that are absent, zero or unparseable become ``None``; parsing a tag
  never raises. A file mutagen does not recognise gives ``None``; a broken file
  of a recognised format raises whatever mutagen raises.
* Compressed WAV (ADPCM, MP3, GSM, ...): mutagen computes length and bitrate
  as if the data were PCM, so both are left ``None``.
"""
from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from functools import partial

import mutagen
from mutagen.aiff import AIFF
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggtheora import OggTheora
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from soniquebay_core import PluginManifest, TagInfo, hookimpl
from soniquebay_core.builtin.tagmap import COVER, Fields, read_fields

MANIFEST = PluginManifest(
    id="tags",
    version="1.0.0",
    description="Reads tags and stream info with mutagen.",
    essential=True,
)

_MP4_CODECS = {"alac": "ALAC", "mp4a.40.36": "ALS", "mp4a.69": "MP3", "mp4a.6b": "MP3", "flac": "FLAC",
               "opus": "Opus", "ac-3": "AC-3", "ec-3": "E-AC-3"}
_ASF_CODECS = (("lossless", "WMA Lossless"), ("professional", "WMA Pro"), ("voice", "WMA Voice"),
               ("windows media audio", "WMA"), ("mp3", "MP3"))
_WAV_CODECS = {1: "PCM", 3: "PCM float", 0xFFFE: "PCM", 6: "A-law", 7: "mu-law", 2: "ADPCM",
               0x11: "ADPCM", 0x31: "GSM 6.10", 0x55: "MP3"}
_WAV_EXACT_LENGTH = frozenset({1, 3, 0xFFFE, 6, 7})  # one fixed-size block per sample frame
_AC3_CODECS = {"ac-3": "AC-3", "ec-3": "E-AC-3"}


def _mp4_codec(info) -> str | None:
    codec = info.codec.lower()
    default = "AAC" if codec.startswith("mp4a.40.") else info.codec_description
    return _MP4_CODECS.get(codec, default) or None


def _asf_codec(info) -> str | None:
    name = info.codec_name or ""
    return next((codec for word, codec in _ASF_CODECS if word in name.lower()), name or None)


# mutagen class name -> (format, codec), or a function of the stream info giving them.
# Classes not listed (such as APEv2File, a bare APEv2 tag) take the file's extension as format.
_FILE_TYPES = {
    "MP3": lambda info: (f"mp{info.layer}", f"MP{info.layer}"),
    "MP4": lambda info: ("m4a", _mp4_codec(info)),
    "ASF": lambda info: ("wma", _asf_codec(info)),
    "WAVE": lambda info: ("wav", _WAV_CODECS.get(info.audio_format)),
    "AC3": lambda info: ("ac3", _AC3_CODECS.get(info.codec)),
    "FLAC": ("flac", "FLAC"), "OggVorbis": ("ogg", "Vorbis"), "OggOpus": ("opus", "Opus"),
    "OggSpeex": ("spx", "Speex"), "OggFLAC": ("ogg", "FLAC"), "OggTheora": ("ogg", "Theora"),
    "AIFF": ("aiff", None), "MonkeysAudio": ("ape", "Monkey's Audio"), "WavPack": ("wv", "WavPack"),
    "Musepack": ("mpc", "Musepack"), "OptimFROG": ("ofr", "OptimFROG"), "TAK": ("tak", "TAK"),
    "TrueAudio": ("tta", "TTA"), "DSF": ("dsf", "DSD"), "DSDIFF": ("dff", "DSD"), "AAC": ("aac", "AAC"),
    "SMF": ("mid", "MIDI"),
}

_NUMBER = re.compile(r"\s*([-+]?\d+(?:[.,]\d+)?)")
_INTEGER = re.compile(r"\s*\+?(\d+)")
_YEAR = re.compile(r"\d{4}")
_PLAUSIBLE_YEARS = range(1000, 3000)
_TRUE = frozenset({"1", "true", "yes"})
_R128_TO_REPLAYGAIN_DB = 5.0  # -18 LUFS (ReplayGain 2) minus -23 LUFS (EBU R128)


# --- parsing helpers: text (or None) in, value or None out; they never raise

def parse_int(text: str | None) -> int | None:
    """Leading positive integer: '03' -> 3, '7 of 9' -> 7; 0 and garbage -> None."""
    match = _INTEGER.match(text) if text else None
    return (int(match.group(1)) or None) if match else None


def parse_pair(text: str | None) -> tuple[int | None, int | None]:
    """'3/12' -> (3, 12); '3' -> (3, None); '/12' -> (None, 12)."""
    if not text:
        return None, None
    number, _, total = text.partition("/")
    return parse_int(number), parse_int(total)


def parse_number(text: str | None) -> float | None:
    """Leading decimal number: '-6.50 dB' -> -6.5, '128 BPM' -> 128.0, '0,5' -> 0.5."""
    match = _NUMBER.match(text) if text else None
    return float(match.group(1).replace(",", ".")) if match else None


def parse_positive(text: str | None) -> float | None:
    number = parse_number(text)
    return number if number and number > 0 else None


def parse_peak(text: str | None) -> float | None:
    number = parse_number(text)
    return number if number is not None and number >= 0 else None


def parse_year(date: str | None) -> int | None:
    """First four digits of a date when they make a plausible year: '1999-05-01' -> 1999."""
    match = _YEAR.search(date) if date else None
    year = int(match.group()) if match else None
    return year if year in _PLAUSIBLE_YEARS else None


def r128_to_replaygain(text: str | None) -> float | None:
    """An R128 gain (Q7.8 fixed point, -23 LUFS reference) as a ReplayGain dB value."""
    try:
        q78 = int(text) if text else None
    except ValueError:
        return None
    return None if q78 is None else round(q78 / 256 + _R128_TO_REPLAYGAIN_DB, 2)


def _display(values: list[str]) -> str | None:
    return "; ".join(values) or None


# --- file type and stream properties

def _extension(path: str) -> str:
    return os.path.splitext(path)[1].lstrip(".").lower()


def _format_and_codec(audio, path: str) -> tuple[str, str | None]:
    type_name = type(audio).__name__
    kind = _FILE_TYPES.get(type_name, (None, None))
    fmt, codec = kind(audio.info) if callable(kind) else kind
    return fmt or _extension(path) or type_name.lower(), codec


def _positive(value, kind: type) -> int | float | None:
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number > 0 and math.isfinite(number) else None


def _stream(info) -> dict:
    exact_length = getattr(info, "audio_format", 1) in _WAV_EXACT_LENGTH  # only WAV has audio_format
    return {
        "duration": _positive(getattr(info, "length", None), float) if exact_length else None,
        "bitrate": _positive(getattr(info, "bitrate", None), int) if exact_length else None,
        "sample_rate": _positive(getattr(info, "sample_rate", None), int),
        "channels": _positive(getattr(info, "channels", None), int),
        "bits_per_sample": _positive(getattr(info, "bits_per_sample", None), int),
    }


# --- canonical fields -> TagInfo values

def _every(fields: Fields, name: str) -> list[str]:
    return fields.get(name, [])


def _first(fields: Fields, name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


def _gain(fields: Fields, scope: str) -> float | None:
    """ReplayGain of ``scope`` ('track' or 'album'); the R128 gain when there is none."""
    gain = parse_number(_first(fields, f"replaygain_{scope}_gain"))
    return gain if gain is not None else r128_to_replaygain(_first(fields, f"r128_{scope}_gain"))


def _tag_values(fields: Fields) -> dict:
    every, first = partial(_every, fields), partial(_first, fields)
    track_number, track_total = parse_pair(first("tracknumber"))
    disc_number, disc_total = parse_pair(first("discnumber"))
    artists = every("artists") or every("artist")
    albumartists = every("albumartists") or every("albumartist")
    date = first("date") or first("year")
    return {
        "title": first("title"),
        "artist": _display(every("artist")) or _display(artists),
        "artists": artists,
        "artist_sort": first("artistsort"),
        "albumartist": _display(every("albumartist")) or _display(albumartists),
        "albumartists": albumartists,
        "albumartist_sort": first("albumartistsort"),
        "album": first("album"),
        "composers": every("composer"),
        "genres": every("genre"),
        "track_number": track_number,
        "track_total": track_total or parse_int(first("tracktotal")),
        "disc_number": disc_number,
        "disc_total": disc_total or parse_int(first("disctotal")),
        "date": date,
        "year": parse_year(date),
        "original_date": first("originaldate") or first("originalyear"),
        "compilation": (first("compilation") or "").lower() in _TRUE,
        "label": first("label"),
        "isrc": first("isrc"),
        "bpm": parse_positive(first("bpm")),
        "key": first("key"),
        "mb_trackid": first("musicbrainz_trackid"),
        "mb_releasetrackid": first("musicbrainz_releasetrackid"),
        "mb_albumid": first("musicbrainz_albumid"),
        "mb_releasegroupid": first("musicbrainz_releasegroupid"),
        "mb_artistids": every("musicbrainz_artistid"),
        "mb_albumartistids": every("musicbrainz_albumartistid"),
        "replaygain_track_gain": _gain(fields, "track"),
        "replaygain_track_peak": parse_peak(first("replaygain_track_peak")),
        "replaygain_album_gain": _gain(fields, "album"),
        "replaygain_album_peak": parse_peak(first("replaygain_album_peak")),
        "has_embedded_cover": COVER in fields,
    }


# --- opening

# ``mutagen.File`` asks each of the ~25 formats it knows to score a file (APEv2's
# score seeks to the end of the file for a footer): a fifth of its time on a
# typical library. When a file's first bytes carry the signature its extension
# promises, only that format's classes are asked. They win the full scoring too:
# with signature and extension no other format scores as high (or, on a tie, it
# sorts before them by name), so the answer is the same. Anything else, and a
# file none of them takes, gets the full scoring.
_OGG = (OggVorbis, OggOpus, OggFLAC, OggSpeex, OggTheora)
_ASF_HEADER_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")  # the ASF spec's Header Object
_MP3_HEADERS = (b"ID3", b"\xFF\xF2", b"\xFF\xF3", b"\xFF\xFA", b"\xFF\xFB")  # what MP3.score weighs
_SIGNED: dict[str, tuple[Callable[[bytes], bool], tuple[type, ...]]] = {
    **dict.fromkeys(("mp3", "mp2"), (lambda header: header.startswith(_MP3_HEADERS), (MP3,))),
    "flac": (lambda header: header.startswith(b"fLaC"), (FLAC,)),
    **dict.fromkeys(("ogg", "oga", "opus", "spx"), (lambda header: header.startswith(b"OggS"), _OGG)),
    **dict.fromkeys(("m4a", "m4b", "m4p", "mp4"), (lambda header: header[4:8] == b"ftyp", (MP4,))),
    **dict.fromkeys(("wav", "wave"), (lambda header: header.startswith(b"RIFF") and header[8:12] == b"WAVE",
                                      (WAVE,))),
    **dict.fromkeys(("aif", "aiff", "aifc"), (lambda header: header.startswith(b"FORM"), (AIFF,))),
    "wma": (lambda header: header.startswith(_ASF_HEADER_GUID), (ASF,)),
}


def open_audio(path: str):
    """``mutagen.File(path)``, asking only the file's own format when its header confirms it."""
    signed = _SIGNED.get(_extension(path))
    if signed is not None:
        with open(path, "rb") as fileobj:
            if signed[0](fileobj.read(128)):
                fileobj.seek(0)
                audio = mutagen.File(fileobj, options=signed[1])
                if audio is not None:
                    return audio
    return mutagen.File(path)


@hookimpl(trylast=True)
def read_tags(path: str) -> TagInfo | None:
    """Tags and stream info of ``path``; ``None`` when mutagen does not take it for audio."""
    audio = open_audio(path)
    if audio is None:
        return None
    fmt, codec = _format_and_codec(audio, path)
    return TagInfo(format=fmt, codec=codec, **_stream(audio.info), **_tag_values(read_fields(audio)))
