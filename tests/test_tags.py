"""The built-in tag reader against real-world files, a generated library and edge cases.

* ``corpus``: every file of ``shared/corpus/real`` (one test per file) must give the
  outcome ``expected.json`` records for mutagen (TagInfo, None or an exception) and,
  when it opens, the same title, album, artists and duration.
* ``library``: a library generated with ``make_library.py`` must read back as its
  manifest says, field by field, for every track.
* helpers and containers: parsing of numbers, dates and gains, and the key tables,
  on in-memory values.
"""
from __future__ import annotations

import json
import string
from pathlib import Path
from types import SimpleNamespace

import pytest
from corpus import KNOWN_DIFFERENCES, SHARED
from mutagen._vorbis import VCommentDict
from mutagen.apev2 import APEv2
from mutagen.asf import ASFBoolAttribute, ASFTags
from mutagen.id3 import ID3, TCON, TPE1, TXXX
from mutagen.mp4 import MP4Cover, MP4FreeForm, MP4Tags

from soniquebay_core import TagInfo
from soniquebay_core.builtin.tagmap import COVER, clean_texts, read_fields
from soniquebay_core.builtin.tags import (
    open_audio,
    parse_int,
    parse_number,
    parse_pair,
    parse_peak,
    parse_positive,
    parse_year,
    r128_to_replaygain,
    read_tags,
)

CORPUS = SHARED / "corpus" / "real"
WHITESPACE_AND_NUL = string.whitespace + "\0"

def _corpus_params(only_opening: bool) -> list:
    expected = CORPUS / "expected.json"
    if not expected.is_file():
        return [pytest.param(None, None, id="no-corpus",
                             marks=pytest.mark.skip(reason=f"real corpus not found at {CORPUS}"))]
    files = json.loads(expected.read_text(encoding="utf-8"))["files"]
    return [pytest.param(rel, entry, id=rel) for rel, entry in sorted(files.items())
            if entry["mutagen"]["opens"] or not only_opening]


def _outcome(path: Path) -> TagInfo | Exception | None:
    """What read_tags gives; a BaseException that is not an Exception escapes and fails the test."""
    try:
        return read_tags(str(path))
    except Exception as exc:  # noqa: BLE001 - "raises an Exception" is an allowed outcome
        return exc


def _clean(values: list[str] | None) -> list[str]:
    return [text for value in values or () if (text := value.strip(WHITESPACE_AND_NUL))]


def _first(values: list[str] | None) -> str | None:
    return next(iter(_clean(values)), None)


# --- real corpus

@pytest.mark.timeout(60)
@pytest.mark.parametrize(("rel", "expected"), _corpus_params(only_opening=False))
def test_corpus_file_gives_mutagens_outcome(corpus_dir, rel, expected):
    outcome = _outcome(corpus_dir / rel)
    mutagen_result = expected["mutagen"]
    if mutagen_result["opens"]:
        assert isinstance(outcome, TagInfo), f"{rel}: expected tags, got {outcome!r}"
    elif mutagen_result["error"].startswith("unrecognized"):
        assert outcome is None, f"{rel}: not audio for mutagen, got {outcome!r}"
    else:
        assert isinstance(outcome, Exception), f"{rel}: broken ({mutagen_result['error']}), got {outcome!r}"


def _opened(opener, path: Path):
    try:
        audio = opener(str(path))
    except Exception as exc:  # noqa: BLE001 - the same error is the same outcome
        return type(exc).__name__, str(exc)
    if audio is None:
        return None
    return type(audio).__name__, audio.tags is not None and sorted(audio.tags.keys()), audio.info.pprint()


@pytest.mark.parametrize(("rel", "expected"), _corpus_params(only_opening=False))
def test_opening_by_signature_picks_what_mutagen_picks(corpus_dir, rel, expected):
    """Asking only the format header and extension agree on gives mutagen.File's answer, file by file."""
    import mutagen

    assert _opened(open_audio, corpus_dir / rel) == _opened(mutagen.File, corpus_dir / rel)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("rel", "expected"), _corpus_params(only_opening=True))
def test_corpus_tags_match_expected(corpus_dir, rel, expected):
    info = read_tags(str(corpus_dir / rel))
    tags = expected["mutagen"]["tags"] or {}
    duration = expected["mutagen"]["duration"]
    field, our_value = KNOWN_DIFFERENCES.get(rel, (None, None))

    assert info.title == _first(tags.get("title"))
    assert info.album == _first(tags.get("album"))
    if field == "artists":
        assert info.artists == our_value
    else:
        artists = _clean(tags.get("artist"))
        assert artists in (info.artists, [info.artist] if info.artist else []), (info.artist, info.artists)
    if field == "duration":
        assert info.duration == our_value
    elif duration:
        assert info.duration == pytest.approx(duration, abs=0.5)
    else:
        assert info.duration is None, "a zero or missing length is reported as unknown"


def test_known_differences_name_opening_corpus_files(corpus_dir):
    files = json.loads((corpus_dir / "expected.json").read_text(encoding="utf-8"))["files"]
    assert [rel for rel in KNOWN_DIFFERENCES if not files.get(rel, {}).get("mutagen", {}).get("opens")] == []


# --- generated library

def _expected_from_manifest(track: dict) -> dict:
    """TagInfo values the manifest promises for one non-corrupt track."""
    tagged = track["has_tags"]
    musicbrainz = track.get("musicbrainz", {})
    expected = {
        "format": track["format"],
        "title": track["title"] if tagged else None,  # the scanner takes untagged titles from the name
        "artist": track["artist"], "artists": track["artists"], "album": track["album"],
        "albumartist": track["albumartist"],
        "track_number": track["tracknumber"] if tagged else None, "track_total": track["tracktotal"],
        "disc_number": track["discnumber"], "disc_total": track["disctotal"],
        "date": track["date"], "year": track["year"], "genres": track["genres"],
        "compilation": track["compilation"], "has_embedded_cover": track["has_embedded_cover"],
        "mb_trackid": musicbrainz.get("recording_id"), "mb_albumid": musicbrainz.get("release_id"),
        "mb_releasegroupid": musicbrainz.get("releasegroup_id"),
        "mb_releasetrackid": musicbrainz.get("releasetrack_id"),
        "mb_artistids": musicbrainz.get("artist_ids", []),
        "mb_albumartistids": [musicbrainz["albumartist_id"]] if musicbrainz else [],
    }
    return expected | _expected_replaygain(track.get("replaygain", {}))


def _expected_replaygain(gains: dict) -> dict:
    if "r128_track_gain" in gains:  # Opus: Q7.8 relative to -23 LUFS, read as ReplayGain dB (+5)
        return {"replaygain_track_gain": pytest.approx(gains["r128_track_gain"] / 256 + 5, abs=0.01),
                "replaygain_album_gain": pytest.approx(gains["r128_album_gain"] / 256 + 5, abs=0.01),
                "replaygain_track_peak": None, "replaygain_album_peak": None}
    return {f"replaygain_{name}": gains.get(name)
            for name in ("track_gain", "track_peak", "album_gain", "album_peak")}


def test_library_tracks_match_manifest(generated_master):
    root, manifest = generated_master
    problems = []
    for track in (t for t in manifest["tracks"] if not t["corrupt"]):
        info = read_tags(str(root / track["path"]))
        got = info.model_dump()
        problems += [f"{track['path']}: {field}: expected {want!r}, got {got[field]!r}"
                     for field, want in _expected_from_manifest(track).items() if got[field] != want]
        if info.duration != pytest.approx(track["duration"], abs=0.1):
            problems.append(f"{track['path']}: duration {info.duration} != {track['duration']}")
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:40])


def test_library_exercises_every_case(generated_master):
    """Guards the test above against passing vacuously: every kind and style is in the library."""
    tracks = [t for t in generated_master[1]["tracks"] if not t["corrupt"]]
    kinds = {t["kind"] for t in tracks}
    assert kinds >= {"mp3_id3v24", "mp3_id3v23", "mp3_id3v1", "flac", "ogg", "opus", "m4a", "wav_id3",
                     "wav_plain"}
    assert {t["artist_style"] for t in tracks} >= {"single", "feat", "multi"}
    assert any(t["kind"] == "mp3_id3v23" and len(t["genres"]) > 1 for t in tracks)
    assert any("r128_track_gain" in t.get("replaygain", {}) for t in tracks)
    for flag in ("musicbrainz", "replaygain", "id3v1_tail"):
        assert any(flag in t for t in tracks), flag
    assert any(t["has_embedded_cover"] for t in tracks) and any(t["compilation"] for t in tracks)


def test_library_corrupt_files_fail_gracefully(generated_master):
    root, manifest = generated_master
    corrupt = [t for t in manifest["tracks"] if t["corrupt"]]
    assert corrupt
    for track in corrupt:
        outcome = _outcome(root / track["path"])
        kind = track["corrupt_kind"]
        if kind == "wrong_extension":  # valid audio under a misleading name: read by content
            assert isinstance(outcome, TagInfo), (track["path"], outcome)
            title = track["title"] if track["has_tags"] else None
            assert (outcome.format, outcome.title) == (track["format"], title)
        elif kind == "truncated":  # mutagen reads what survives of the file, or gives up
            assert outcome is None or isinstance(outcome, (TagInfo, Exception)), track["path"]
        else:  # zero_byte, random_bytes
            assert outcome is None or isinstance(outcome, Exception), (track["path"], outcome)


def test_non_audio_file_is_not_recognised_but_a_broken_one_raises(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio at all\n" * 10)
    assert read_tags(str(notes)) is None
    fake = notes.rename(tmp_path / "notes.mp3")  # mutagen takes the extension as a claim to be MP3
    with pytest.raises(Exception):  # noqa: B017, PT011 - any exception: the scanner records it
        read_tags(str(fake))


# --- parsing helpers

@pytest.mark.parametrize(("text", "expected"), [
    ("3/12", (3, 12)), (" 07 / 09 ", (7, 9)), ("3", (3, None)), ("/12", (None, 12)), ("0/0", (None, None)),
    ("x/y", (None, None)), ("-1", (None, None)), ("", (None, None)), (None, (None, None)),
])
def test_parse_pair(text, expected):
    assert parse_pair(text) == expected


def test_parse_int_takes_a_leading_number():
    assert (parse_int("05"), parse_int("7 of 9"), parse_int("A1"), parse_int("0"), parse_int(None)) == (
        5, 7, None, None, None)


@pytest.mark.parametrize(("date", "year"), [
    ("1999-05-01", 1999), ("1999", 1999), ("2001-01-01T12:00:00", 2001), ("May 1987", 1987),
    ("19990501", 1999), ("0000", None), ("99", None), ("unknown", None), ("", None), (None, None),
])
def test_parse_year(date, year):
    assert parse_year(date) == year


@pytest.mark.parametrize(("text", "gain"), [
    ("-6.50 dB", -6.5), ("+2.10 dB", 2.1), ("0.00 dB", 0.0), ("-3,5 dB", -3.5),
    ("dB", None), ("nan", None), ("", None), (None, None),
])
def test_parse_number_reads_replaygain_gains(text, gain):
    assert parse_number(text) == gain


def test_parse_peak_and_positive_reject_impossible_values():
    assert (parse_peak("0.988525"), parse_peak("0"), parse_peak("-1"), parse_peak("loud")) == (
        0.988525, 0.0, None, None)
    assert (parse_positive("128 BPM"), parse_positive("0"), parse_positive("-5"), parse_positive("fast")) == (
        128.0, None, None, None)


@pytest.mark.parametrize(("text", "gain"), [
    ("-2560", -5.0), ("0", 5.0), ("384", 6.5), ("1.5", None), ("loud", None), ("", None), (None, None),
])
def test_r128_gain_becomes_replaygain_equivalent(text, gain):
    assert r128_to_replaygain(text) == gain


# --- key tables, on in-memory tag containers

def test_clean_texts_splits_on_nul_strips_and_normalises():
    assert clean_texts([" A\0B ", "", "\0", "Cafe\u0301", 7, b"x"]) == ["A", "B", "Caf\u00e9", "7", "x"]


def test_id3v23_multi_values_are_split_on_slash():
    tags = ID3()
    tags.version = (2, 3, 0)
    tags.add(TPE1(encoding=3, text=["A/B"]))
    tags.add(TXXX(encoding=3, desc="MusicBrainz Artist Id", text=["id-1/id-2"]))
    tags.add(TCON(encoding=3, text=["(17)"]))
    fields = read_fields(SimpleNamespace(tags=tags))
    assert fields == {"artist": ["A", "B"], "musicbrainz_artistid": ["id-1", "id-2"], "genre": ["Rock"]}
    tags.version = (2, 4, 0)
    assert read_fields(SimpleNamespace(tags=tags))["artist"] == ["A/B"]


def test_vorbis_and_ape_keys_are_case_insensitive_with_aliases():
    vorbis = VCommentDict()
    vorbis["Title"], vorbis["DISCC"], vorbis["totaltracks"] = ["T"], ["5"], ["12"]
    assert read_fields(SimpleNamespace(tags=vorbis)) == {"title": ["T"], "disctotal": ["5"], "tracktotal": ["12"]}
    ape = APEv2()
    ape["ALBUM ARTIST"], ape["Track"] = "Q\0R", "3/4"
    assert read_fields(SimpleNamespace(tags=ape)) == {"albumartist": ["Q", "R"], "tracknumber": ["3/4"]}


def test_mp4_and_asf_values_become_text():
    mp4 = MP4Tags()
    mp4["cpil"], mp4["trkn"], mp4["covr"] = True, [(3, 12)], [MP4Cover(b"\xff\xd8")]
    mp4["----:com.apple.iTunes:MusicBrainz Album Artist Id"] = [MP4FreeForm(b"id-1"), MP4FreeForm(b"id-2")]
    mp4["----:com.apple.iTunes:replaygain_track_gain"] = [MP4FreeForm(b"-6.50 dB")]
    fields = read_fields(SimpleNamespace(tags=mp4))
    assert fields.pop(COVER) == [b"\xff\xd8"]  # pictures are kept raw: only their presence counts
    assert fields == {"compilation": ["1"], "tracknumber": ["3/12"],
                      "musicbrainz_albumartistid": ["id-1", "id-2"], "replaygain_track_gain": ["-6.50 dB"]}
    asf = ASFTags()
    asf["WM/IsCompilation"], asf["Author"] = [ASFBoolAttribute(True)], ["X", "Y"]
    assert read_fields(SimpleNamespace(tags=asf)) == {"compilation": ["1"], "artist": ["X", "Y"]}
