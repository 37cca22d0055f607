"""Similar tracks with a short "why", and radio: a playlist that drifts from a seed without leaving it.

The "why" names what the two tracks share in the library (artist, genres,
tags, a scene) and what is close in the analysis (tempo within 6%, keys a DJ
would mix); the similarity itself comes from the vectors.

Radio walks the vector space: each next track is the nearest unused one to a
blend of the seed and the current track, skipping the artist just played and
artists already heard ``MAX_PER_ARTIST`` times, so it neither loops on one
artist nor wanders off.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import Float, case, cast, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import Album, Artist, Genre, Tag, Track, TrackArtist, TrackGenre, TrackTag
from .keys import compatible

TEMPO_TOLERANCE = 0.06
SEED_WEIGHT = 0.6
MAX_PER_ARTIST = 2
CANDIDATES = 40


def why(seed: dict, other: dict, same_scene: str | None = None) -> list[str]:
    reasons = []
    artists = [a for a in other["artists"] if a in seed["artists"]]
    if artists:
        reasons.append("same artist: " + ", ".join(artists))
    genres = [g for g in other["genres"] if g in seed["genres"]]
    if genres:
        reasons.append("shared genre: " + ", ".join(genres[:3]))
    tags = [t for t in other["tags"] if t in seed["tags"]]
    if tags:
        reasons.append("shared tags: " + ", ".join(tags[:3]))
    if seed["bpm"] and other["bpm"] and abs(seed["bpm"] - other["bpm"]) <= TEMPO_TOLERANCE * seed["bpm"]:
        reasons.append(f"close tempo: {other['bpm']:.0f} vs {seed['bpm']:.0f} BPM")
    if compatible(seed["key"], other["key"]):
        reasons.append("same key" if seed["key"] == other["key"] else f"compatible key: {other['key']} / {seed['key']}")
    if same_scene:
        reasons.append(f"same scene: {same_scene}")
    return reasons


async def details(conn: AsyncConnection, ids: list[int]) -> dict[int, dict]:
    """What answers show and the "why" compares, for a few tracks, in two queries (the library's
    ``tracks_by_id`` takes five: these answers must stay within a few milliseconds)."""
    rows = await conn.execute(
        select(Track.id, Track.title, Track.artist, Track.album_id, Album.title.label("album"), Track.duration,
               Track.year, Track.bpm, Track.key).outerjoin(Album, Album.id == Track.album_id).where(Track.id.in_(ids)))
    found = {r.id: {**r._mapping, "artists": [], "genres": [], "tags": []} for r in rows}
    names = union_all(
        select(TrackArtist.track_id, literal("artists").label("kind"), Artist.name,
               cast(case((TrackArtist.role == "main", 0), else_=1000) + TrackArtist.position, Float).label("rank"))
        .join(Artist, Artist.id == TrackArtist.artist_id)
        .where(TrackArtist.track_id.in_(ids), TrackArtist.role != "composer"),
        select(TrackGenre.track_id, literal("genres"), Genre.name, cast(TrackGenre.position, Float))
        .join(Genre, Genre.id == TrackGenre.genre_id).where(TrackGenre.track_id.in_(ids)),
        select(TrackTag.track_id, literal("tags"), Tag.name, cast(-TrackTag.weight, Float))
        .join(Tag, Tag.id == TrackTag.tag_id).where(TrackTag.track_id.in_(ids))).subquery()
    for track_id, kind, name, _ in await conn.execute(select(names).order_by(names.c.track_id, names.c.kind,
                                                                             names.c.rank)):
        values = found[track_id][kind]
        if name not in values:
            values.append(name)
    return found


def describe(track: dict, score: float, reasons: list[str]) -> dict:
    return {"id": track["id"], "title": track["title"], "artist": track["artist"], "album": track["album"],
            "album_id": track["album_id"], "duration": track["duration"], "year": track["year"],
            "genres": track["genres"], "bpm": track["bpm"], "key": track["key"], "score": round(score, 4),
            "why": reasons}


async def similar_tracks(conn: AsyncConnection, vectors, track_id: int, k: int, scene_of=None) -> list[dict] | None:
    """``vectors``: the process's ``VectorService``; ``scene_of(track dict) -> label | None`` adds "same scene"
    when both tracks' artists share one. ``None`` when the track has no vector (yet)."""
    vector = await vectors.vector(conn, track_id)
    if vector is None:
        return None
    found = await vectors.nearest(conn, vector, k, exclude=frozenset({track_id}))
    known = await details(conn, [track_id] + [i for i, _ in found])
    seed = known[track_id]
    seed_scene = scene_of(seed) if scene_of else None
    out = []
    for other_id, score in found:
        other = known.get(other_id)
        if other is None:
            continue
        shared = seed_scene if seed_scene and scene_of(other) == seed_scene else None
        out.append(describe(other, score, why(seed, other, shared)))
    return out


async def radio(conn: AsyncConnection, vectors, seed_vector: np.ndarray, length: int,
                played: set[int]) -> list[tuple[int, float]]:
    """(track id, similarity to the seed) in play order; ``played`` (the seed tracks) is never repeated."""
    used = set(played)
    per_artist: dict[str, int] = {}
    previous_artist: str | None = None
    current = seed_vector
    order: list[tuple[int, float]] = []
    while len(order) < length:
        blend = SEED_WEIGHT * seed_vector + (1 - SEED_WEIGHT) * current
        candidates = await vectors.nearest(conn, blend / max(float(np.linalg.norm(blend)), 1e-12), CANDIDATES,
                                           exclude=frozenset(used))
        if not candidates:
            break
        artists = dict((await conn.execute(select(Track.id, Track.artist_key).where(
            Track.id.in_([c for c, _ in candidates])))).all())
        chosen = next((c for c, _ in candidates if artists.get(c) != previous_artist
                       and per_artist.get(artists.get(c) or "", 0) < MAX_PER_ARTIST), candidates[0][0])
        used.add(chosen)
        previous_artist = artists.get(chosen)
        per_artist[previous_artist or ""] = per_artist.get(previous_artist or "", 0) + 1
        current = await vectors.vector(conn, chosen)
        order.append((chosen, float(current @ seed_vector)))
    return order
