"""Routes under ``/api/vectors``: similar tracks, radio, semantic search, similar artists, scenes.

They answer from the vectors the library holds (made by a plugin serving
``vectorize``, e.g. ``soniquebay-vectors``); with none yet, they say so (404
for a track or artist without a vector, an empty list otherwise). numpy is
imported on first use, so the API starts without it when no vectors plugin
is installed.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import select

from ..api.deps import ConnDep, DbId, RuntimeDep
from ..models import Artist
from ..search import fuse
from ..text import fold

if TYPE_CHECKING:
    from .service import VectorService

router = APIRouter(prefix="/api/vectors", tags=["vectors"])

SEMANTIC_FLOOR = 0.85  # a search text's meaning matches: at least this share of the best one's similarity
Limit = Annotated[int, Query(ge=1, le=200)]


def vector_service(request: Request) -> VectorService:
    """The process's vector service (one per app), made on first use."""
    state = request.app.state
    if getattr(state, "vectors", None) is None:
        from .service import VectorService

        runtime = state.runtime
        state.vectors = VectorService(runtime.db, lambda: runtime.host, runtime.metrics)
    return state.vectors


VectorsDep = Annotated["VectorService", Depends(vector_service)]


async def semantic_ranking(conn, vectors: VectorService, text: str, limit: int) -> list[tuple[int, float]]:
    """Tracks by meaning for a search text (the vector half of hybrid search); [] without vectors."""
    query = await vectors.text_vector(text)
    if query is None:
        return []
    model, vector = query
    index = await vectors.current(model, conn)
    if index is None or index.dims != len(vector):
        return []
    found = await vectors.nearest(conn, vector, limit)
    if not found:
        return []
    floor = SEMANTIC_FLOOR * found[0][1]
    return [(t, s) for t, s in found if s >= floor]


async def _index_or_404(vectors: VectorService, conn):
    index = await vectors.current(conn=conn)
    if index is None:
        raise HTTPException(404, "no track has a vector yet: enable a vectors plugin and let it run")
    return index


@router.get("/status")
async def status(vectors: VectorsDep) -> dict:
    index = await vectors.current()
    return {"model": index.model if index else None, "dims": index.dims if index else None,
            "tracks": index.size if index else 0, "store": vectors.store.name, "store_detail": vectors.store.detail,
            "in_memory": vectors.in_memory, "index_mb": round(index.nbytes / 2**20, 1) if index else 0}


@router.get("/tracks/{track_id}/similar")
async def similar(conn: ConnDep, vectors: VectorsDep, track_id: DbId, limit: Limit = 10) -> dict:
    """More like this: the nearest tracks, each with a short "why"."""
    from . import similar as similar_tracks

    index = await _index_or_404(vectors, conn)
    space = vectors.artists_if_ready(index) if vectors.in_memory else None
    items = await similar_tracks.similar_tracks(conn, vectors, track_id, limit,
                                                scene_of=space.scene_of_track if space else None)
    if items is None:
        raise HTTPException(404, f"track {track_id} has no vector (yet)")
    return {"track_id": track_id, "model": index.model, "items": items}


@router.get("/radio")
async def radio(conn: ConnDep, vectors: VectorsDep, track: int | None = Query(None, ge=1),
                artist: int | None = Query(None, ge=1), length: Limit = 30) -> dict:
    """A playlist from a seed track or artist (exactly one of ``track``, ``artist``)."""
    import numpy as np

    from . import similar as similar_tracks

    if (track is None) == (artist is None):
        raise HTTPException(422, "give one seed: track=ID or artist=ID")
    index = await _index_or_404(vectors, conn)
    if track is not None:
        seed = await vectors.vector(conn, track)
        played = {track}
        if seed is None:
            raise HTTPException(404, f"track {track} has no vector (yet)")
    else:
        if not vectors.in_memory:
            raise HTTPException(503, "artist radio needs the in-memory index (the library's vectors exceed it)")
        space = await vectors.artists(conn, index)
        if artist not in space.rows:
            raise HTTPException(404, f"artist {artist} has no vectorised tracks")
        seed = space.matrix[space.rows[artist]]
        played = set()
    order = await similar_tracks.radio(conn, vectors, np.asarray(seed), length, played)
    known = await similar_tracks.details(conn, [t for t, _ in order])
    return {"seed": {"track": track, "artist": artist}, "model": index.model,
            "items": [similar_tracks.describe(known[t], s, []) for t, s in order if t in known]}


@router.get("/search")
async def semantic_search(conn: ConnDep, vectors: VectorsDep, q: Annotated[str, Query(min_length=1, max_length=200)],
                          limit: Limit = 20) -> dict:
    """Tracks by meaning alone ("calm piano at night"); ``/api/search`` fuses this with full text."""
    from . import similar as similar_tracks

    found = await semantic_ranking(conn, vectors, q, limit)
    known = await similar_tracks.details(conn, [t for t, _ in found])
    return {"query": q, "items": [similar_tracks.describe(known[t], s, []) for t, s in found if t in known]}


@router.get("/artists/{artist_id}/similar")
async def similar_artists(conn: ConnDep, runtime: RuntimeDep, vectors: VectorsDep, artist_id: DbId,
                          limit: Limit = 10) -> dict:
    """Nearest artists by their tracks' vectors, fused (RRF) with plugins answering ``similar_artists``."""
    name = await conn.scalar(select(Artist.name).where(Artist.id == artist_id))
    if name is None:
        raise HTTPException(404, f"no artist {artist_id}")
    index = await _index_or_404(vectors, conn)
    local: list[tuple[int, float]] = []
    if vectors.in_memory:
        space = await vectors.artists(conn, index)
        if artist_id in space.rows:
            local = space.similar(artist_id, limit * 2)
    outside = await asyncio.to_thread(runtime.host.dispatch.call_each, "similar_artists", artist=name,
                                      on_error=lambda plugin, hook, exc: None)
    rankings, sources = [[a for a, _ in local]], {a: {"vectors"} for a, _ in local}
    for plugin, answer in outside:
        keys = [fold(n) for n, _ in answer]
        ids = dict((await conn.execute(select(Artist.name_key, Artist.id).where(Artist.name_key.in_(keys)))).all())
        ranking = [ids[k] for k in keys if k in ids and ids[k] != artist_id]
        rankings.append(ranking)
        for a in ranking:
            sources.setdefault(a, set()).add(plugin)
    merged = fuse(*rankings)[:limit]
    names = dict((await conn.execute(select(Artist.id, Artist.name).where(Artist.id.in_(merged)))).all())
    scores = dict(local)
    return {"artist": {"id": artist_id, "name": name}, "items": [
        {"id": a, "name": names.get(a), "score": round(scores[a], 4) if a in scores else None,
         "sources": sorted(sources.get(a, ()))} for a in merged]}


@router.get("/scenes")
async def scenes(conn: ConnDep, vectors: VectorsDep, artists: Annotated[int, Query(ge=0, le=50)] = 5) -> dict:
    """The library's scenes (clusters of artists), each with a label and its most central artists."""
    import numpy as np

    index = await _index_or_404(vectors, conn)
    if not vectors.in_memory:
        raise HTTPException(503, "scenes need the in-memory index (the library's vectors exceed it)")
    space = await vectors.artists(conn, index)
    out = []
    for scene in space.scenes:
        members = np.flatnonzero(space.scene_of == scene["id"])
        if not len(members):  # a mixture component no artist belongs to most
            continue
        ranked = members[np.argsort(-(space.matrix[members] @ space.matrix[members].mean(axis=0)))]
        out.append({**scene, "sample": [{"id": int(space.ids[i]), "name": space.names[i]}
                                        for i in ranked[:artists]]})
    return {"model": index.model, "scenes": sorted(out, key=lambda s: -s["artists"])}


@router.get("/artists/{artist_id}/scene")
async def artist_scene(conn: ConnDep, vectors: VectorsDep, artist_id: DbId) -> dict:
    index = await _index_or_404(vectors, conn)
    space = await vectors.artists(conn, index) if vectors.in_memory else None
    scene = space.scene(artist_id) if space else None
    if scene is None:
        raise HTTPException(404, f"artist {artist_id} has no scene (no vectorised tracks)")
    return {"artist_id": artist_id, "scene": scene}
