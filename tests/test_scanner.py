"""The scanner on real files, on SQLite and PostgreSQL: first scans, rescans, moves, errors."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import psutil
import pytest
from corpus import KNOWN_DIFFERENCES
from sqlalchemy import func, insert, select

from soniquebay_core.builtin import ignore as ignore_plugin
from soniquebay_core.config import Settings
from soniquebay_core.library import query as track_query
from soniquebay_core.library import writer
from soniquebay_core.library.rows import track_row
from soniquebay_core.models import (Album, Artist, FolderState, Genre, PluginError, Root, SkippedFile, Track,
                                    TrackStage)
from soniquebay_core.plugins import load_plugins
from soniquebay_core.scanner.reading import AUDIO_EXTENSIONS, extension, worth_reading
from soniquebay_core.scanner.scan import ScanError, Scanner
from soniquebay_core.scanner.walk import FileStat
from soniquebay_core.schemas import TagInfo
from soniquebay_core.text import fold


async def scan(db, settings, *paths, host=None, full=False):
    host = host or load_plugins(settings, strict=True)
    return await Scanner(db, host, settings).scan([Path(p) for p in paths] or None, full=full)


async def all_tracks(db, *terms: str) -> dict[str, dict]:
    async with db.engine.connect() as conn:
        return {t["path"]: t async for t in track_query.tracks(conn, track_query.parse(list(terms)))}


async def count(db, model, *where) -> int:
    async with db.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


# -- the writer ----------------------------------------------------------------------------------

async def test_writer_stores_values_as_given(db):
    """Rows reach the database unchanged through the batched upsert (one JSON array on SQLite)."""
    path = "/music/Ünï \"quoted\" back\\slash 'apostrophe' 🎵/01 - x.flac"
    tags = TagInfo(format="flac", codec="flac", duration=215.123456789, bitrate=1411, sample_rate=44100,
                   channels=2, title='Tïtle "with" quotes', artist="Ärtist feat. B", artists=["Ärtist", "B"],
                   genres=["Rock", "Jazz"], replaygain_track_gain=-6.53, replaygain_track_peak=0.987654321,
                   has_embedded_cover=True, bpm=123.4, key="Am", date="1999-05", year=1999, track_number=1)
    file = FileStat(path, 2**40 + 1, 1_700_000_000_123_456_789)
    async with db.engine.begin() as conn:
        root = (await conn.execute(insert(Root).values(path="/music").returning(Root.id))).scalar_one()
        ids = await writer.write_tracks(conn, [track_row(file, tags, root, None)])
        again = await writer.write_tracks(conn, [track_row(file, tags.model_copy(update={"bpm": 99.5}), root, None)])
    assert again == ids
    async with db.engine.connect() as conn:
        track = (await conn.execute(select(Track.__table__).where(Track.id == ids[path]))).one()
        artists = (await conn.execute(select(Artist.name).order_by(Artist.name))).scalars().all()
        genres = (await conn.execute(select(Genre.name).order_by(Genre.name))).scalars().all()
    assert (track.path, track.size, track.mtime_ns, track.duration) == (path, 2**40 + 1, 1_700_000_000_123_456_789,
                                                                      215.123456789)
    assert (track.title, track.replaygain_track_gain, track.replaygain_track_peak) == \
        ('Tïtle "with" quotes', -6.53, 0.987654321)
    assert (track.has_embedded_cover, track.missing, track.bpm, track.key, track.year) == (True, False, 99.5, "Am", 1999)
    assert artists == ["B", "Ärtist"] and genres == ["Jazz", "Rock"]


def test_tag_numbers_are_finite():
    with pytest.raises(ValueError, match="finite"):
        TagInfo(format="mp3", replaygain_track_gain=float("nan"))


def test_tags_cross_processes_whole():
    """Answers pickle back equal, with the fields they were given (all answers share one full set)."""
    import pickle

    full = TagInfo(**{**TagInfo(format="flac").model_dump(), "title": "T", "genres": ["Rock"]})
    partial = TagInfo(format="mp3", title="T")
    full_back, partial_back, other_back = pickle.loads(pickle.dumps([full, partial, full.model_copy()]))
    assert (full_back, partial_back) == (full, partial)
    assert full_back.model_fields_set == set(TagInfo.model_fields)
    assert partial_back.model_fields_set == {"format", "title"}
    assert full_back.model_copy(update={"title": "U"}).title == "U" and other_back.title == "T"


# -- the real corpus ---------------------------------------------------------------------------

async def test_real_corpus_scans_into_matching_tracks(db, settings, corpus_dir):
    expected = json.loads((corpus_dir / "expected.json").read_text())["files"]
    result = await scan(db, settings, corpus_dir)
    assert result.status == "completed"
    tracks = await all_tracks(db)
    errors = {e["path"] for e in result.errors}

    opened = {rel: info for rel, info in expected.items() if info["mutagen"]["opens"]}
    for rel, info in opened.items():
        path = str(corpus_dir / rel)
        assert path in tracks, f"{rel} opens in mutagen but is not a track ({'error' if path in errors else 'absent'})"
        track, tags = tracks[path], info["mutagen"]["tags"]
        field, ours = KNOWN_DIFFERENCES.get(rel, (None, None))
        if tags.get("title") and tags["title"][0].strip(" \x00"):
            assert track["title"] == tags["title"][0].strip(" \x00"), rel
        if tags.get("album") and tags["album"][0].strip(" \x00"):
            assert track["album"] == tags["album"][0].strip(" \x00"), rel
        wanted = [a.strip(" \x00") for a in tags.get("artist") or [] if a.strip(" \x00")]
        if field == "artists":
            assert track["artists"] == ours, rel
        elif wanted:  # one artist per folded name: "the artist" and "The Artist" are one
            assert track["artists"] and {fold(a) for a in track["artists"]} <= {fold(a) for a in wanted}, rel
        if field == "duration":
            assert track["duration"] == ours, rel
        elif info["mutagen"].get("duration"):  # 0 (an empty stream) is stored as unknown
            assert track["duration"] == pytest.approx(info["mutagen"]["duration"], abs=0.5), rel

    # every file that is not a track is remembered (so a rescan does not read it again) and,
    # when it claims to be audio by its extension, reported as an error: nothing is silently lost
    async with db.engine.connect() as conn:
        skipped = dict((await conn.execute(select(SkippedFile.path, SkippedFile.is_error))).all())
    for rel in expected:
        path = str(corpus_dir / rel)
        if path in tracks or not worth_reading(path):  # e.g. .mkv video: passed over unopened
            continue
        assert path in skipped, f"{rel} neither read nor remembered"
        if extension(path) in AUDIO_EXTENSIONS:
            assert skipped[path] and path in errors, f"{rel} is broken audio but was not reported"
    assert result.counts.errors == len(errors) == await count(db, SkippedFile, SkippedFile.is_error.is_(True))
    assert result.counts.new == len(tracks) >= len(opened)


# -- a generated library -------------------------------------------------------------------------

async def test_generated_library_matches_its_manifest(db, settings, library):
    root, manifest = library
    result = await scan(db, settings, root)
    tracks = await all_tracks(db)
    good = [t for t in manifest["tracks"] if not t["corrupt"]]
    for t in good:
        got = tracks[str(root / t["path"])]
        assert got["title"] == t["title"], t["path"]
        if t["has_tags"]:
            assert got["artists"] == t["artists"], t["path"]
            assert got["album"] == t["album"], t["path"]
            assert got["genres"] == t["genres"], t["path"]
            assert got["year"] == t["year"] and got["date"] == t["date"], t["path"]
            assert got["disc_number"] == t["discnumber"] and got["disc_total"] == t["disctotal"], t["path"]
            assert got["track_total"] == t["tracktotal"], t["path"]
            expected_aa = t["albumartist"] or (t["artist"] and got["albumartist"])
            assert got["albumartist"] == expected_aa, t["path"]
        assert got["track_number"] == t["tracknumber"], t["path"]
        assert got["duration"] == pytest.approx(t["duration"], abs=0.1), t["path"]

    broken = [t for t in manifest["tracks"] if t["corrupt"] and t["corrupt_kind"] in ("zero_byte", "random_bytes")]
    for t in broken:
        assert str(root / t["path"]) not in tracks
        assert any(e["path"] == str(root / t["path"]) for e in result.errors), t["path"]
    # one album per manifest album: untagged files join their folder's album, discs stay together
    assert await count(db, Album) == len(manifest["albums"])
    # compilations: flagged, credited to Various Artists, each track keeps its own artist
    compilation = [a for a in manifest["albums"] if a["type"] == "compilation"][0]
    comp_tracks = await all_tracks(db, f"path:{compilation['path']}/")
    assert {t["albumartist"] for t in comp_tracks.values()} == {"Various Artists"}
    assert len({t["artist"] for t in comp_tracks.values()}) > 1
    # AppleDouble files and non-audio extras are not tracks and not errors
    for extra in manifest["extras"]:
        assert str(root / extra["path"]) not in tracks
        assert not any(e["path"] == str(root / extra["path"]) for e in result.errors)


async def test_featuring_and_multi_valued_artists(db, settings, library):
    root, manifest = library
    await scan(db, settings, root)
    tracks = await all_tracks(db)
    feat = [t for t in manifest["tracks"] if t.get("artist_style") == "feat" and not t["corrupt"]]
    multi = [t for t in manifest["tracks"] if t.get("artist_style") == "multi" and not t["corrupt"]]
    assert feat and multi, "the generated library should hold both styles"
    for t in feat + multi:
        assert tracks[str(root / t["path"])]["artists"] == t["artists"]
    async with db.engine.connect() as conn:
        from soniquebay_core.models import Artist, TrackArtist

        roles = (await conn.execute(
            select(Artist.name, TrackArtist.role).join(Artist, Artist.id == TrackArtist.artist_id)
            .join(Track, Track.id == TrackArtist.track_id).where(Track.path == str(root / feat[0]["path"]))
            .order_by(TrackArtist.position))).all()
    assert [r.role for r in roles] == ["main"] + ["featuring"] * (len(feat[0]["artists"]) - 1)


async def test_queries_fold_case_and_accents(db, settings, library):
    root, manifest = library
    await scan(db, settings, root)
    accented = next(t for t in manifest["tracks"] if t["has_tags"] and not t["corrupt"]
                    and any(ord(ch) > 127 for ch in t["artist"] or ""))
    plain = "".join(ch for ch in __import__("unicodedata").normalize("NFKD", accented["artist"])
                    if ord(ch) < 128).upper()
    found = await all_tracks(db, f"artist:{plain}")
    assert str(root / accented["path"]) in found
    assert all(t["year"] and 1990 <= t["year"] <= 1999 for t in (await all_tracks(db, "year:1990..1999")).values())


# -- rescans -----------------------------------------------------------------------------------

async def test_unchanged_rescan_reads_no_tags(db, settings, library, fake_plugins):
    root, _ = library
    # read in this process (no worker processes) so the recorder sees every read
    settings = settings.model_copy(update={"scanner": settings.scanner.model_copy(update={"read_workers": 0})})
    host = load_plugins(settings, strict=True, modules={"recorder": "sb_recorder"})
    first = await scan(db, settings, root, host=host)
    import sb_recorder

    assert len(sb_recorder.read) > first.counts.new  # every audio file was read, broken ones too
    assert len(sb_recorder.discovered) == first.counts.new
    sb_recorder.read.clear()
    sb_recorder.discovered.clear()

    again = await scan(db, settings, root, host=host)
    assert (again.counts.new, again.counts.changed, again.counts.removed, again.counts.moved) == (0, 0, 0, 0)
    assert again.counts.unchanged == first.counts.new
    assert sb_recorder.read == [] and sb_recorder.discovered == []
    full = await scan(db, settings, root, host=host, full=True)
    assert full.counts.changed == first.counts.new and len(sb_recorder.read) > first.counts.new


async def test_rescan_compares_only_folders_whose_listing_changed(db, settings, library, monkeypatch):
    root, manifest = library
    first = await scan(db, settings, root)
    assert await count(db, FolderState) > 0
    compared: list[str] = []
    known_in = writer.known_in

    async def spy(conn, folders):
        compared.extend(folders)
        return await known_in(conn, folders)

    monkeypatch.setattr(writer, "known_in", spy)
    again = await scan(db, settings, root)
    assert compared == [] and again.counts.unchanged == first.counts.new and again.counts.files_seen > 0

    new_file = root / manifest["tracks"][0]["path"]
    added = new_file.with_name("99 - Added Later" + new_file.suffix)
    shutil.copy2(new_file, added)
    result = await scan(db, settings, root)
    assert compared == [str(added.parent)] and result.counts.new == 1


async def test_a_change_made_outside_the_scanner_drops_the_folder_state(db, settings, library):
    """Whoever deletes a track or skipped file, or changes its path, size, mtime or missing flag, the folder's
    state goes with it (database triggers), so the next rescan compares that folder's files again."""
    root, _ = library
    await scan(db, settings, root)
    tracks = await all_tracks(db)
    by_folder: dict[str, list[str]] = {}
    for path in tracks:
        by_folder.setdefault(os.path.dirname(path), []).append(path)
    deleted, resized = (paths[0] for paths in list(by_folder.values())[:2])
    async with db.engine.begin() as conn:
        skipped_path, skipped_folder = (await conn.execute(select(SkippedFile.path, SkippedFile.folder))).first()
        await conn.execute(Track.__table__.delete().where(Track.path == deleted))
        await conn.execute(Track.__table__.update().where(Track.path == resized).values(size=1))
        await conn.execute(SkippedFile.__table__.delete().where(SkippedFile.path == skipped_path))
    for folder in (os.path.dirname(deleted), os.path.dirname(resized), skipped_folder):
        assert await count(db, FolderState, FolderState.folder == folder) == 0
    result = await scan(db, settings, root)
    assert (result.counts.new, result.counts.changed) == (1, 1)
    assert skipped_path in {e["path"] for e in result.errors}  # the broken file was looked at again
    assert set(await all_tracks(db)) == set(tracks) and result.counts.errors == 1


async def test_a_missing_file_that_comes_back_is_found_again(db, settings, library, tmp_path):
    root, _ = library
    keeping = settings.model_copy(update={"scanner": settings.scanner.model_copy(update={"keep_missing": True})})
    await scan(db, keeping, root)
    path = next(iter(await all_tracks(db)))
    shutil.move(path, tmp_path / "away")
    await scan(db, keeping, root)
    assert path in await all_tracks(db, "missing:true")
    shutil.move(tmp_path / "away", path)  # the same size and mtime as before
    result = await scan(db, keeping, root)
    assert result.counts.unchanged > 0 and path in await all_tracks(db)


def _retitle(path: Path, title: str) -> None:
    import mutagen

    audio = mutagen.File(path, easy=True)
    audio["title"] = title
    audio.save()
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


async def test_rescan_sees_new_changed_deleted_and_moved_files(db, settings, library):
    root, manifest = library
    await scan(db, settings, root)
    before = await all_tracks(db)
    flacs = [root / t["path"] for t in manifest["tracks"]
             if t["path"].endswith(".flac") and not t["corrupt"] and t["has_tags"]]
    changed, deleted, moved, copied = flacs[0], flacs[1], flacs[2], flacs[3]
    moved_id = before[str(moved)]["id"]
    async with db.engine.begin() as conn:  # pretend a stage ran on the file that will move
        await conn.execute(insert(TrackStage).values(track_id=moved_id, plugin="recorder", stage="enrich_track",
                                                     status="done", plugin_version="1.0.0"))

    _retitle(changed, "A New Title")
    deleted.unlink()
    target = root / "Moved Here" / moved.name
    target.parent.mkdir()
    shutil.move(moved, target)
    new_file = root / "Newcomer" / "01 - Brand New.flac"
    new_file.parent.mkdir()
    shutil.copy2(copied, new_file)
    _retitle(new_file, "Brand New")

    result = await scan(db, settings, root)
    c = result.counts
    assert (c.new, c.changed, c.removed, c.moved) == (1, 1, 1, 1)
    after = await all_tracks(db)
    assert after[str(changed)]["title"] == "A New Title"
    assert after[str(changed)]["id"] == before[str(changed)]["id"]
    assert str(deleted) not in after
    assert str(moved) not in after and after[str(target)]["id"] == moved_id
    assert after[str(target)]["stages"]["recorder.enrich_track"]["status"] == "done"
    assert after[str(new_file)]["title"] == "Brand New"
    assert len(after) == len(before)


async def test_deleted_folder_and_keep_missing(db, settings, library):
    root, manifest = library
    await scan(db, settings, root)
    album = next(a for a in manifest["albums"] if a["type"] != "compilation")
    in_album = await all_tracks(db, f"path:{root / album['path']}/")
    shutil.rmtree(root / album["path"])

    keeping = settings.model_copy(update={"scanner": settings.scanner.model_copy(update={"keep_missing": True})})
    result = await scan(db, keeping, root)
    assert result.counts.removed == 0
    assert set(await all_tracks(db, "missing:true")) == set(in_album)
    assert not set(await all_tracks(db)) & set(in_album)  # hidden from normal queries

    result = await scan(db, settings, root)
    assert result.counts.removed == len(in_album)
    assert await count(db, Track, Track.missing.is_(True)) == 0


async def test_scan_of_a_sub_folder_leaves_the_rest_alone(db, settings, library):
    root, manifest = library
    first = await scan(db, settings, root)
    album = root / manifest["albums"][0]["path"]
    result = await scan(db, settings, album)
    assert result.counts.removed == 0 and result.counts.new == 0
    assert len(await all_tracks(db)) == first.counts.new


async def test_killed_scan_resumes(tmp_path, library, db_url):
    """A scan killed half-way keeps what it committed; the next one reads only the rest."""
    import asyncio
    import signal
    import subprocess
    import sys

    root, _ = library
    config = tmp_path / "config.toml"
    config.write_text("[scanner]\nbatch_size = 20\n")
    env = {**os.environ, "SONIQUEBAY_CONFIG": str(config), "SONIQUEBAY_DATA_DIR": str(tmp_path / "data"),
           "SONIQUEBAY_DATABASE_URL": db_url}
    proc = subprocess.Popen([sys.executable, "-m", "soniquebay_core.cli", "scan", str(root)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    from soniquebay_core.db import Database

    db = await Database.open(db_url)
    try:
        for _ in range(400):
            if proc.poll() is None and await count(db, Track) >= 40:
                break
            await asyncio.sleep(0.02)
        if proc.poll() is not None:
            pytest.fail(f"scan finished before it could be killed: {proc.stderr.read().decode()[-500:]}")
        import psutil

        readers = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        gone, alive = psutil.wait_procs(readers, timeout=10)
        assert not alive, "reader processes outlived the killed scan"
        committed = await count(db, Track)
        assert committed >= 40

        settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
        result = await scan(db, settings, root)
        assert result.counts.unchanged >= committed - 20  # a batch may have been half-announced
        total = len(await all_tracks(db))
        assert result.counts.new + result.counts.unchanged == total
        fresh_settings = Settings(data_dir=tmp_path / "fresh", database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
        fresh = await Database.open(fresh_settings.effective_database_url)
        try:
            assert total == (await scan(fresh, fresh_settings, root)).counts.new
        finally:
            await fresh.close()
    finally:
        await db.close()


# -- ignore rules, symlinks, unreadable folders ---------------------------------------------------

async def test_ignore_rules(db, tmp_path, library, fake_plugins):
    root, manifest = library
    album = root / manifest["albums"][0]["path"]
    (album / ".sbignore").write_text("# keep out\n*.flac\n*.mp3\n*.ogg\n*.opus\n*.m4a\n*.wav\n")
    hidden = root / ".hidden"
    hidden.mkdir()
    shutil.copy2(next(album.glob("*.*")), hidden / "x.flac")
    settings = Settings(data_dir=tmp_path / "data", database_url=str(db.engine.url.render_as_string(False)),
                        plugins={"ignore": {"patterns": ["*Live*"]}})
    await scan(db, settings, root)
    paths = set(await all_tracks(db))
    assert not any(p.startswith(str(album) + "/") for p in paths)
    assert not any("/.hidden/" in p for p in paths)
    assert not any("Live" in p for p in paths)
    assert paths


async def test_a_star_in_sbignore_leaves_out_the_folder_and_everything_below(db, settings, library):
    root, manifest = library
    album = root / manifest["albums"][0]["path"]
    artist = album.parent
    await scan(db, settings, root)
    assert any(p.startswith(str(artist) + "/") for p in await all_tracks(db))
    (artist / ".sbignore").write_text("*\n")
    ignore_plugin._cache.clear()  # an edited .sbignore is otherwise seen within seconds, not at once
    result = await scan(db, settings, root)
    assert result.counts.removed > 0
    paths = set(await all_tracks(db))
    assert paths and not any(p.startswith(str(artist) + "/") for p in paths)
    (artist / ".sbignore").unlink()
    ignore_plugin._cache.clear()
    await scan(db, settings, root)
    assert any(p.startswith(str(album) + "/") for p in await all_tracks(db))


async def test_symlinks_refused_by_default_and_followed_without_loops(db, settings, library):
    root, manifest = library
    (root / "loop").symlink_to(root)  # a link back to the top must not loop
    await scan(db, settings, root)
    refused = set(await all_tracks(db))
    assert not any("/_Links/" in p or "/loop/" in p for p in refused)

    follow = settings.model_copy(update={"library": settings.library.model_copy(update={"follow_symlinks": True})})
    result = await scan(db, follow, root)
    assert result.status == "completed"
    followed = set(await all_tracks(db))
    linked = [s for s in manifest["symlinks"] if s["resolves_to"]]
    # each folder is walked once: its files are tracks once, under one of their paths
    assert len(followed) == len(refused)
    assert linked


async def test_unreadable_folder_is_reported_and_its_tracks_kept(db, settings, library, monkeypatch):
    root, manifest = library
    await scan(db, settings, root)
    album = str(root / manifest["albums"][1]["path"])
    kept = await all_tracks(db, f"path:{album}/")
    real_scandir = os.scandir

    def failing_scandir(path):
        if str(path) == album:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", failing_scandir)
    result = await scan(db, settings, root)
    assert result.counts.removed == 0
    assert any(e["path"] == album and "Permission denied" in e["error"] for e in result.errors)
    assert set(kept) <= set(await all_tracks(db))


async def test_plugin_failure_on_discovery_is_recorded_and_scan_goes_on(db, settings, library, fake_plugins):
    root, _ = library
    host = load_plugins(settings, strict=False, modules={"raiser": "sb_raiser", "recorder": "sb_recorder"})
    result = await scan(db, settings, root, host=host)
    assert result.status == "completed"
    assert await count(db, PluginError, PluginError.plugin == "raiser") == result.counts.new
    import sb_recorder

    assert len(sb_recorder.discovered) == result.counts.new


async def test_bad_paths_are_refused_with_clear_errors(db, settings, tmp_path):
    with pytest.raises(ScanError, match="no such folder"):
        await scan(db, settings, tmp_path / "nope")
    (tmp_path / "file.mp3").write_bytes(b"")
    with pytest.raises(ScanError, match="not a folder"):
        await scan(db, settings, tmp_path / "file.mp3")
    with pytest.raises(ScanError, match="no library folder"):
        await scan(db, settings)


async def test_roots_are_remembered_and_nested_roots_merge(db, settings, library):
    root, manifest = library
    album = root / manifest["albums"][0]["path"]
    await scan(db, settings, album)
    await scan(db, settings, root)
    async with db.engine.connect() as conn:
        from soniquebay_core.models import Root

        roots = (await conn.execute(select(Root.path))).scalars().all()
    assert roots == [str(root)]
    again = await scan(db, settings)  # no path: the remembered roots
    assert again.counts.new == 0 and again.counts.unchanged > 0


# -- the tag readers -----------------------------------------------------------------------------

async def test_readers_share_batches_and_survive_a_dead_worker(settings, library, caplog):
    """Chunks read by the worker processes and the local thread come back in the batch's order;
    a worker process that dies mid-scan leaves its chunks to the others, nothing lost."""
    from soniquebay_core.scanner.reader import TagReader
    from soniquebay_core.scanner.reading import read_files
    from soniquebay_core.scanner.walk import Walker

    root, _ = library
    files = [f for listing in Walker(lambda folder, files, folders: set(), False).walk(str(root)) for f in listing.files
             if worth_reading(f.path)]
    host = load_plugins(settings)
    reader = TagReader(host, workers=2, chunk=7)
    try:
        first = await reader.read(files)
        assert [o.file.path for o in first] == [f.path for f in files]
        expected = read_files(host, files)
        assert [(o.tags, o.error) for o in first] == [(o.tags, o.error) for o in expected]

        workers = [p for p in psutil.Process().children() if "soniquebay_core.scanner.reader_worker" in p.cmdline()]
        assert len(workers) == 2
        victim = workers[0]
        victim.kill()
        victim.wait(timeout=10)
        second = await reader.read(files)
        assert [(o.file.path, o.tags, o.error) for o in second] == [(o.file.path, o.tags, o.error) for o in first]
        assert "tag reader process failed" in caplog.text
    finally:
        await reader.close()
    assert not [p for p in psutil.Process().children() if "soniquebay_core.scanner.reader_worker" in p.cmdline()]
