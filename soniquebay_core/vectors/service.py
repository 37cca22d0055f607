"""The vectors of one process: which model is current, its in-memory index, the database store, artists.

The current model is the one most tracks have a vector of (``_store_embedding``
keeps one model per track, so after a switch of embedder the new model takes
over as tracks are re-vectorised); a search text's model, answered by the
plugin's ``embed_text``, switches the index to it when it differs, and makes
the tracks holding another model's vector due for ``vectorize`` again.

The first request loads the index (and waits for it); later requests use what
is loaded and start a background refresh (new vectors in, the database store
synced) when ``vectorize`` jobs ran since the last one (the runtime's job
metrics say so; looked at every ``REFRESH_S`` seconds at most) or every
``FULL_CHECK_S`` seconds anyway (work of other processes, deleted tracks), so
no request pays for it and an idle library costs no scans. When the
index would outgrow ``INDEX_BUDGET_MB``, queries go to the database's own kNN
store instead (sqlite-vec, pgvector, or the numpy scan).
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import TrackEmbedding, TrackStage
from . import artists as artist_space
from . import store as stores
from .index import VectorIndex

log = logging.getLogger("soniquebay.vectors")

REFRESH_S = 5.0
FULL_CHECK_S = 60.0
INDEX_BUDGET_MB = 512


class VectorService:
    def __init__(self, db, host_of, metrics=None):
        from threadpoolctl import threadpool_limits

        # One BLAS thread: a query's matrix-vector product is memory-bound, and on a busy 2-core machine a
        # second BLAS thread waits for a core (measured at 100k × 136: p95 ~15 ms threaded, ~5 ms single).
        threadpool_limits(1, "blas")
        self.db = db
        self._host_of = host_of  # the runtime's current plugin host (it is rebuilt when plugins are switched)
        self._metrics = metrics  # the runtime's job metrics: how many vectorize jobs ran
        self._jobs_seen = 0.0
        self._full_checked = 0.0
        self.store: stores.VectorStore | None = None
        self.index: VectorIndex | None = None
        self.in_memory = True  # False: the index would outgrow INDEX_BUDGET_MB; the database store answers
        self._artists: tuple[tuple, artist_space.ArtistSpace] | None = None
        self._checked = 0.0
        self._refreshing: asyncio.Task | None = None
        self._building: asyncio.Task | None = None
        self._redone: set[tuple[str, str]] = set()
        self._lock = asyncio.Lock()

    async def current(self, model: str | None = None, conn: AsyncConnection | None = None) -> VectorIndex | None:
        """The index of ``model`` (default: the library's main model), loaded on first use.

        ``conn``: the caller's connection, when it holds one. It is used rather than a second one from the
        pool: requests holding a connection and waiting for this lock while the lock's holder waits for a
        free connection would stall until the pool's timeout.
        """
        async with self._lock, _connection(self.db, conn) as conn:
            if self.store is None:
                self.store = await stores.detect(conn)
                log.info("vectors: database store %s (%s)", self.store.name, self.store.detail)
            if self.index is None or (model is not None and model != self.index.model):
                wanted = await self._model(conn, model)
                if wanted is None:
                    return None
                name, dims, count = wanted
                self.index = VectorIndex(name, dims)
                self.in_memory = count * dims * 4 <= INDEX_BUDGET_MB * 2**20
                self._artists = None
                if self.in_memory:
                    await self.index.refresh(conn)
                self._checked = self._full_checked = 0.0  # the database store syncs in the background, now
        now = time.monotonic()
        if now - self._checked > REFRESH_S and (self._refreshing is None or self._refreshing.done()):
            self._checked = now
            full = now - self._full_checked > FULL_CHECK_S
            if full or self._vectorize_jobs_ran():
                self._full_checked = now if full else self._full_checked
                self._refreshing = asyncio.get_running_loop().create_task(self._refresh(self.index, prune=full))
        return self.index

    def _vectorize_jobs_ran(self) -> bool:
        if self._metrics is None:
            return True
        jobs = sum(row["jobs"] for row in self._metrics.snapshot() if row["stage"] == "vectorize")
        ran, self._jobs_seen = jobs != self._jobs_seen, jobs
        return ran

    async def settled(self) -> None:
        """Wait for the background work under way (tests, benchmarks)."""
        for task in (self._refreshing, self._building):
            if task is not None:
                await asyncio.shield(task)

    async def _model(self, conn: AsyncConnection, model: str | None) -> tuple[str, int, int] | None:
        query = select(TrackEmbedding.model, TrackEmbedding.dims, func.count()).group_by(TrackEmbedding.model, TrackEmbedding.dims)\
            .order_by(func.count().desc(), TrackEmbedding.model).limit(1)
        if model is not None:
            query = query.where(TrackEmbedding.model == model)
        row = (await conn.execute(query)).first()
        return None if row is None else tuple(row)

    async def _refresh(self, index: VectorIndex, prune: bool) -> None:
        try:
            async with self.db.engine.connect() as conn:
                if self.in_memory:
                    await index.refresh(conn)
                    await conn.commit()
                await self.store.sync(conn, index.model, index.dims, prune=prune)
        except Exception:
            log.exception("vectors: refreshing the index of %s failed; trying again later", index.model)

    async def nearest(self, conn, vector: np.ndarray, k: int,
                      exclude: frozenset[int] = frozenset()) -> list[tuple[int, float]]:
        """The current index's ``k`` nearest tracks to ``vector``: (track id, cosine similarity), best first."""
        if self.in_memory:
            return self.index.search(vector, k, exclude)
        found = await self.store.knn(conn, self.index.model, vector, k + len(exclude))
        return [(t, s) for t, s in found if t not in exclude][:k]

    async def vector(self, conn, track_id: int) -> np.ndarray | None:
        """A track's vector of the current model."""
        if self.in_memory:
            return self.index.vector(track_id)
        blob = await conn.scalar(select(TrackEmbedding.vector).where(
            TrackEmbedding.track_id == track_id, TrackEmbedding.model == self.index.model))
        return None if blob is None else stores.to_array(blob)

    async def text_vector(self, text: str) -> tuple[str, np.ndarray] | None:
        """The plugin's vector for a search text, or ``None`` without a plugin (or when it fails)."""
        host = self._host_of()
        if not host.dispatch.impls("embed_text"):
            return None
        answer = await asyncio.to_thread(host.dispatch.call_first, "embed_text", text=text,
                                         on_error=lambda plugin, hook, exc: log.warning(
                                             "plugin %s could not embed a search text: %s", plugin, exc))
        if answer is None:
            return None
        plugin, embedding = answer
        if (plugin, embedding.model) not in self._redone:
            self._redone.add((plugin, embedding.model))
            await self._redo_other_models(plugin, embedding.model)
        return embedding.model, np.asarray(embedding.vector, dtype=np.float32)

    async def _redo_other_models(self, plugin: str, model: str) -> None:
        """The plugin now embeds with ``model`` (its settings changed): its ``vectorize`` stage is due again
        for every track whose vector is another model's, so the library moves to one model. Learnt from its
        ``embed_text`` answer, once per process and model; the input hashes keep it a no-op otherwise."""
        stale = select(TrackEmbedding.track_id).where(TrackEmbedding.model != model)
        async with self.db.engine.begin() as conn:
            result = await conn.execute(delete(TrackStage).where(
                TrackStage.plugin == plugin, TrackStage.stage == "vectorize", TrackStage.track_id.in_(stale)))
        if result.rowcount:
            log.info("vectors: %s now embeds with %s; %s tracks will be vectorised again", plugin, model,
                     result.rowcount)

    async def artists(self, conn, index: VectorIndex) -> artist_space.ArtistSpace:
        """Artist vectors and scenes, rebuilt when the index changed."""
        version = (index.model, index.size, index.newest)
        if self._artists is None or self._artists[0] != version:
            self._artists = (version, await artist_space.build(conn, index))
        return self._artists[1]

    def artists_if_ready(self, index: VectorIndex) -> artist_space.ArtistSpace | None:
        """The artist space as last built (possibly a little stale), never waiting: a rebuild, when due,
        runs in the background. For the "same scene" of similar tracks, which must stay fast."""
        version = (index.model, index.size, index.newest)
        if (self._artists is None or self._artists[0] != version) and \
                (self._building is None or self._building.done()):
            self._building = asyncio.get_running_loop().create_task(self._build_artists(index))
        return self._artists[1] if self._artists is not None and self._artists[0][0] == index.model else None

    async def _build_artists(self, index: VectorIndex) -> None:
        try:
            async with self.db.engine.connect() as conn:
                await self.artists(conn, index)
        except Exception:
            log.exception("vectors: building the artist space failed; trying again later")


@asynccontextmanager
async def _connection(db, conn: AsyncConnection | None):
    """The caller's connection, or one of our own for the time of the block."""
    if conn is not None:
        yield conn
        return
    async with db.engine.connect() as own:
        yield own
