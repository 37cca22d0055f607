"""Artists in vector space: an artist's vector is the mean of their tracks' vectors.

Scenes are the components of a Gaussian mixture fitted to the artist vectors
(first reduced by PCA, so a few hundred artists suffice); each scene is named
by the genres and tags most typical of its artists' tracks (frequent in the
scene, rarer elsewhere). Similar artists are the nearest artist vectors.
"""
from __future__ import annotations

import asyncio
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import Artist, Genre, Tag, TrackArtist, TrackGenre, TrackTag
from ..text import fold
from . import gmm
from .index import VectorIndex
from .store import top_k

PCA_DIMS = 16
MAX_SCENES = 40
LABEL_NAMES = 3


@dataclass
class ArtistSpace:
    ids: np.ndarray
    names: list[str]
    matrix: np.ndarray  # unit-length artist vectors
    tracks: np.ndarray  # vectorised tracks per artist
    scene_of: np.ndarray  # scene number per artist
    scenes: list[dict] = field(default_factory=list)
    rows: dict[int, int] = field(default_factory=dict)
    by_key: dict[str, int] = field(default_factory=dict)  # folded name → artist id

    def similar(self, artist_id: int, k: int) -> list[tuple[int, float]]:
        row = self.rows[artist_id]
        scores = self.matrix @ self.matrix[row]
        best = [int(i) for i in top_k(scores, min(len(scores), k + 1)) if int(i) != row][:k]
        return [(int(self.ids[i]), float(scores[i])) for i in best]

    def scene(self, artist_id: int) -> dict | None:
        row = self.rows.get(artist_id)
        return None if row is None else self.scenes[int(self.scene_of[row])]

    def scene_of_track(self, track: dict) -> str | None:
        """The scene label of a track's first credited artist that has one."""
        for name in track["artists"]:
            scene = self.scene(self.by_key.get(fold(name), 0))
            if scene is not None:
                return scene["label"]
        return None


async def build(conn: AsyncConnection, index: VectorIndex) -> ArtistSpace:
    """Artist vectors, scenes and their labels from the index and the library's credits."""
    pairs = (await conn.execute(select(TrackArtist.artist_id, TrackArtist.track_id)
                                .where(TrackArtist.role == "main"))).all()
    pairs = [(a, index.rows[t]) for a, t in pairs if t in index.rows]
    artist_ids = sorted({a for a, _ in pairs})
    rows = {a: i for i, a in enumerate(artist_ids)}
    matrix = np.zeros((len(artist_ids), index.dims), dtype=np.float32)
    tracks = np.zeros(len(artist_ids), dtype=np.int64)
    if pairs:
        artist_rows = np.array([rows[a] for a, _ in pairs])
        np.add.at(matrix, artist_rows, index.matrix[np.array([r for _, r in pairs])])
        np.add.at(tracks, artist_rows, 1)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    names, by_key = {}, {}
    if artist_ids:
        for artist_id, name, key in await conn.execute(select(Artist.id, Artist.name, Artist.name_key)):
            if artist_id in rows:
                names[artist_id], by_key[key] = name, artist_id
    space = ArtistSpace(np.array(artist_ids, dtype=np.int64), [names.get(a, "") for a in artist_ids], matrix,
                        tracks, np.zeros(len(artist_ids), dtype=np.int64), rows=rows, by_key=by_key)
    if artist_ids:
        await _scenes(conn, space)
    return space


def _cluster(matrix: np.ndarray) -> tuple[int, np.ndarray]:
    """(number of scenes, scene of each row): PCA, then a Gaussian mixture."""
    x = matrix.astype(np.float64)
    centred = x - x.mean(axis=0)
    dims = max(1, min(PCA_DIMS, len(x) - 1, x.shape[1]))
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dims].T
    k = max(1, min(MAX_SCENES, round(math.sqrt(len(x) / 2))))
    mixture = gmm.fit(reduced, k, seed=len(x))
    return k, mixture.predict_proba(reduced).argmax(axis=1)


async def _scenes(conn: AsyncConnection, space: ArtistSpace) -> None:
    k, space.scene_of = await asyncio.to_thread(_cluster, space.matrix)  # seconds on a big library: off the loop
    labels = await _label_counts(conn, set(space.rows))
    overall: Counter = Counter()
    per_scene: dict[int, Counter] = defaultdict(Counter)
    for artist_id, counts in labels.items():
        scene = int(space.scene_of[space.rows[artist_id]])
        per_scene[scene].update(counts)
        overall.update(counts)
    total = sum(overall.values()) or 1
    for scene in range(k):
        members = np.flatnonzero(space.scene_of == scene)
        counts = per_scene[scene]
        scene_total = sum(counts.values()) or 1
        typical = sorted(counts, key=lambda n: (-counts[n] * (counts[n] / scene_total) / (overall[n] / total), n))
        top = typical[:LABEL_NAMES]
        space.scenes.append({"id": scene, "label": " · ".join(top) if top else f"scene {scene + 1}",
                             "typical": top, "artists": len(members),
                             "tracks": int(space.tracks[members].sum())})


async def _label_counts(conn: AsyncConnection, artist_ids: set[int]) -> dict[int, Counter]:
    """Per artist: how many of their tracks carry each genre and tag."""
    counts: dict[int, Counter] = defaultdict(Counter)
    for entity, link, column in ((Genre, TrackGenre, TrackGenre.genre_id), (Tag, TrackTag, TrackTag.tag_id)):
        rows = await conn.execute(
            select(TrackArtist.artist_id, entity.name, func.count(func.distinct(link.track_id)))
            .join(link, link.track_id == TrackArtist.track_id).join(entity, entity.id == column)
            .where(TrackArtist.role == "main").group_by(TrackArtist.artist_id, entity.name))
        for artist_id, name, count in rows:
            if artist_id in artist_ids:
                counts[artist_id][name] += count
    return counts
