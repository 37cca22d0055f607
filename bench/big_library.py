#!/usr/bin/env python3
"""A large library database, without audio files, for the benchmarks that query one (API, web, vectors).

    .venv/bin/python bench/big_library.py URL [--tracks 100000] [--seed 1]

Scanning 100,000 real files takes minutes and gigabytes; what the query benchmarks need is the rows a
scan would have written. This writes them directly, in the shapes the scanner writes (folded keys,
``search_text`` for full-text search, artist credits with roles, genres and tags from the ``tags`` source),
with a realistic spread: artists with a long-tailed number of albums, ~11 tracks an album, a few
multi-disc albums and compilations, featuring credits, 1960–2025, MP3/FLAC/M4A/Ogg/Opus, BPM, key and
audio features on most tracks. Paths point under ``/bench-music`` (no file exists there: streaming and
covers answer 404 / placeholder). Same seed, same library.

``cached_sqlite(tracks, seed)`` builds a SQLite file once under ``bench/.cache/`` and returns its path;
copy it before writing to it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = "/bench-music"
CACHE = Path(__file__).resolve().parent / ".cache"
FORMATS = (("mp3", "MPEG-1 Layer 3", 320_000), ("flac", "FLAC", 900_000), ("m4a", "AAC LC", 256_000),
           ("ogg", "Vorbis", 192_000), ("opus", "Opus", 128_000))
FORMAT_WEIGHTS = (50, 30, 10, 6, 4)
GENRES = ("Rock", "Pop", "Jazz", "Electronic", "Techno", "House", "Ambient", "Hip-Hop", "Classical", "Folk",
          "Metal", "Punk", "Soul", "Funk", "Reggae", "Blues", "Country", "Indie", "Drum and Bass", "Dubstep",
          "Trance", "Disco", "R&B", "Latin", "Bossa Nova", "Chanson", "K-Pop", "Afrobeat", "Shoegaze", "Post-Rock",
          "Trip-Hop", "Synthwave", "Grunge", "Ska", "Gospel", "Opera", "Soundtrack", "World", "Lo-Fi", "Garage")
TAGS = ("chill", "energetic", "melancholic", "happy", "dark", "dreamy", "aggressive", "romantic", "party",
        "workout", "focus", "sleep", "summer", "night", "rainy day", "road trip", "instrumental", "vocal",
        "acoustic", "live", "remix", "cover", "80s", "90s", "00s", "female vocalist", "male vocalist",
        "guitar", "piano", "synth", "strings", "brass", "groovy", "epic", "minimal", "experimental")
KEYS = [f"{note} {mode}" for mode in ("major", "minor")
        for note in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")]
SYLLABLES = ("ka", "lo", "mi", "ra", "su", "ne", "to", "vi", "da", "ze", "po", "lu", "ma", "ri", "so", "fe",
             "an", "el", "or", "un", "ba", "co", "di", "ga", "hu", "jo", "ky", "qu", "wa", "xi", "yo", "ti")
WORDS = ("love", "night", "heart", "dream", "fire", "light", "rain", "city", "river", "star", "summer", "blue",
         "gold", "shadow", "ocean", "wild", "electric", "silver", "midnight", "dance", "home", "road", "sky",
         "moon", "sun", "paradise", "echo", "storm", "glass", "velvet", "neon", "ghost", "garden", "winter",
         "highway", "angel", "thunder", "crystal", "desert", "forever", "tonight", "broken", "golden", "lost")


def _name(rng: random.Random, syllables: tuple[int, int]) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(*syllables))).capitalize()


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) if rng.random() < 0.6 else _name(rng, (2, 3)).lower()
             for _ in range(rng.randint(1, 4))]
    return " ".join(words).title()


def _plan(tracks: int, seed: int):
    """Yield (album, [track dicts]) until ``tracks`` tracks exist; deterministic for a seed."""
    rng = random.Random(seed)
    artists = [f"{_name(rng, (2, 3))} {_name(rng, (2, 4))}" if rng.random() < 0.6
               else f"The {_name(rng, (2, 3))}s" for _ in range(max(20, tracks // 16))]
    made = 0
    album_no = 0
    while made < tracks:
        album_no += 1
        compilation = rng.random() < 0.04
        artist = "Various Artists" if compilation else artists[int(len(artists) * rng.random() ** 2.2)]
        year = rng.randint(1960, 2025)
        genres = rng.sample(GENRES, rng.choice((1, 1, 2, 3)))
        discs = 2 if rng.random() < 0.05 else 1
        count = min(tracks - made, rng.randint(8, 14) * discs)
        title = _title(rng)
        fmt = rng.choices(FORMATS, FORMAT_WEIGHTS)[0]
        album = {"key": f"{artist.lower()}\x1f{title.lower()}\x1f{album_no}", "title": title, "artist": artist,
                 "year": year, "compilation": compilation, "discs": discs, "genres": genres}
        rows = []
        for i in range(count):
            disc = 1 + i * discs // count
            performer = artists[rng.randrange(len(artists))] if compilation else artist
            featuring = artists[rng.randrange(len(artists))] if rng.random() < 0.08 else None
            analysed = rng.random() < 0.9
            bpm = round(rng.uniform(60, 190), 1) if analysed else None
            rows.append({
                "number": i + 1 - (disc - 1) * (count // discs), "disc": disc, "title": _title(rng),
                "artist": performer, "featuring": featuring, "format": fmt,
                "duration": round(rng.uniform(90, 480), 2),
                "tags": rng.sample(TAGS, rng.randint(0, 3)),
                "bpm": bpm, "key": rng.choice(KEYS) if analysed else None,
                "features": {"energy": round(rng.random(), 3), "danceability": round(rng.random(), 3),
                             "loudness_lufs": round(rng.uniform(-20, -6), 1),
                             "spectral_centroid_hz": round(rng.uniform(800, 4000))} if analysed else None,
            })
        made += count
        yield album, rows


async def build(url: str, tracks: int = 100_000, seed: int = 1) -> dict:
    """Create (migrate) the database at ``url`` and fill it; it must hold no library yet."""
    from sqlalchemy import func, insert, select

    from soniquebay_core.db import Database
    from soniquebay_core.library.writer import ids_by_key
    from soniquebay_core.models import (
        Album, AlbumArtist, Artist, Genre, Root, Tag, Track, TrackArtist, TrackGenre, TrackTag,
    )
    from soniquebay_core.search import search_text
    from soniquebay_core.text import fold

    started = time.monotonic()
    db = await Database.open(url)
    try:
        async with db.engine.begin() as conn:
            if await conn.scalar(select(func.count()).select_from(Track)):
                raise SystemExit(f"{url} already holds tracks: build into an empty database")
            root_id = (await conn.execute(insert(Root).values(path=ROOT).returning(Root.id))).scalar_one()
            genre_ids = await ids_by_key(conn, Genre.__table__, "name_key",
                                         {fold(g): {"name": g, "name_key": fold(g)} for g in GENRES})
            tag_ids = await ids_by_key(conn, Tag.__table__, "name_key",
                                       {fold(t): {"name": t, "name_key": fold(t)} for t in TAGS})
        counts = {"tracks": 0, "albums": 0}
        track_id = 0
        pending: list[tuple[dict, list[dict]]] = []

        async def flush() -> None:
            nonlocal track_id
            async with db.engine.begin() as conn:
                names = {fold(n): n for album, rows in pending
                         for n in [album["artist"], *(r["artist"] for r in rows), *(r["featuring"] for r in rows)]
                         if n}
                artist_ids = await ids_by_key(conn, Artist.__table__, "name_key", {
                    k: {"name": n, "name_key": k, "sort_name": n[4:] + ", The" if n.startswith("The ") else None}
                    for k, n in names.items()})
                album_ids = await ids_by_key(conn, Album.__table__, "album_key", {album["key"]: {
                    "album_key": album["key"], "title": album["title"], "title_key": fold(album["title"]),
                    "albumartist": album["artist"], "year": album["year"], "date": str(album["year"]),
                    "compilation": album["compilation"], "disc_total": album["discs"]} for album, _ in pending})
                track_rows, credits, album_credits, genre_links, tag_links = [], [], [], [], []
                for album, rows in pending:
                    album_id = album_ids[album["key"]]
                    album_credits.append({"album_id": album_id, "artist_id": artist_ids[fold(album["artist"])],
                                          "role": "main", "position": 0})
                    folder = f"{ROOT}/{album['artist']}/{album['title']} ({album['year']})"
                    for row in rows:
                        track_id += 1
                        fmt, codec, bitrate = row["format"]
                        display = row["artist"] + (f" feat. {row['featuring']}" if row["featuring"] else "")
                        track_rows.append({
                            "id": track_id, "root_id": root_id, "folder": folder,
                            "path": f"{folder}/{row['disc']}-{row['number']:02d} - {row['title']}.{fmt}",
                            "size": int(bitrate / 8 * row["duration"]), "mtime_ns": 1_700_000_000_000_000_000,
                            "format": fmt, "codec": codec, "bitrate": bitrate, "sample_rate": 44100,
                            "channels": 2, "duration": row["duration"], "title": row["title"],
                            "title_key": fold(row["title"]), "artist": display, "artist_key": fold(display),
                            "album_id": album_id, "track_number": row["number"], "disc_number": row["disc"],
                            "disc_total": album["discs"], "year": album["year"], "date": str(album["year"]),
                            "bpm": row["bpm"], "key": row["key"], "features": row["features"],
                            "search_text": search_text(row["title"], display, album["title"],
                                                       lists=(album["genres"], row["tags"]))})
                        credits.append({"track_id": track_id, "artist_id": artist_ids[fold(row["artist"])],
                                        "role": "main", "position": 0})
                        if row["featuring"] and fold(row["featuring"]) != fold(row["artist"]):
                            credits.append({"track_id": track_id, "artist_id": artist_ids[fold(row["featuring"])],
                                            "role": "featuring", "position": 1})
                        genre_links += [{"track_id": track_id, "genre_id": genre_ids[fold(g)], "source": "tags",
                                         "position": i} for i, g in enumerate(album["genres"])]
                        tag_links += [{"track_id": track_id, "tag_id": tag_ids[fold(t)], "source": "tags",
                                       "weight": 1.0} for t in row["tags"]]
                for table, rows in ((Track, track_rows), (TrackArtist, credits), (AlbumArtist, album_credits),
                                    (TrackGenre, genre_links), (TrackTag, tag_links)):
                    if rows:
                        await conn.execute(insert(table), rows)
                counts["tracks"] += len(track_rows)
                counts["albums"] += len(pending)
            pending.clear()

        for album, rows in _plan(tracks, seed):
            pending.append((album, rows))
            if sum(len(r) for _, r in pending) >= 5000:
                await flush()
        if pending:
            await flush()
        async with db.engine.begin() as conn:
            counts["artists"] = await conn.scalar(select(func.count()).select_from(Artist))
            if db.dialect == "postgresql":  # ids were given explicitly: move the sequence past them
                await conn.exec_driver_sql("SELECT setval('tracks_id_seq', (SELECT max(id) FROM tracks))")
                await conn.exec_driver_sql("ANALYZE")
            else:
                await conn.exec_driver_sql("ANALYZE")
    finally:
        await db.engine.dispose()
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def cached_sqlite(tracks: int = 100_000, seed: int = 1) -> Path:
    """A SQLite library of ``tracks`` tracks, built once and kept under bench/.cache/. Copy before writing."""
    from soniquebay_core.db import SCHEMA_REVISION

    path = CACHE / f"library-{tracks}-{seed}-schema{SCHEMA_REVISION}.db"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        for leftover in CACHE.glob(partial.name + "*"):
            leftover.unlink()
        asyncio.run(build(f"sqlite+aiosqlite:///{partial}", tracks, seed))
        shutil.move(partial, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="database URL, e.g. sqlite+aiosqlite:///big.db or postgresql+asyncpg://...")
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(build(args.url, args.tracks, args.seed))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
