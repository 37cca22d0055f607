"""The database's kNN index of one model's vectors: sqlite-vec, pgvector, or a streamed numpy scan.

``track_embeddings`` is the source of truth. The extension's table is an index
beside it (``vec_<model>``), brought up to date by ``sync``: rows written since
the last sync (by ``added_at``, with a few seconds of overlap) are copied, rows
whose track lost its vector are dropped. Which store a database gets is decided
by ``detect`` when the process starts (and shown by ``soniquebay doctor``):

- SQLite: sqlite-vec (a ``vec0`` virtual table, cosine distance) when the
  driver can load extensions and the ``sqlite_vec`` package is installed;
- PostgreSQL: pgvector (a table with an HNSW index, cosine distance) when the
  server offers the ``vector`` extension and we may create it;
- otherwise ``NumpyStore``: every vector of the model is streamed from
  ``track_embeddings`` in chunks and the best ``k`` kept (exact, slower).

All stores return (track id, cosine similarity), best first, and agree on the
top-k (the tests compare them with brute force).
"""
from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import settings_store
from ..models import TrackEmbedding

log = logging.getLogger("soniquebay.vectors")

OVERLAP = timedelta(seconds=5)  # rows committed late, second-resolution timestamps (SQLite)
CHUNK = 4096


class VectorStore(Protocol):
    name: str
    detail: str

    async def sync(self, conn: AsyncConnection, model: str, dims: int, prune: bool = True) -> int:
        """Bring the index up to date, committing as it goes (pass a connection outside ``begin()``);
        ``prune``: also drop the rows of tracks that lost their vector (a scan of the index)."""

    async def knn(self, conn: AsyncConnection, model: str, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...


def table_name(model: str, dims: int) -> str:
    """A safe table name per (model, dims): readable prefix plus a short hash."""
    slug = re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")[:32]
    return f"vec_{slug}_{hashlib.sha1(f'{model}:{dims}'.encode()).hexdigest()[:8]}"


def to_array(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (ties by position)."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.lexsort((part, -scores[part]))]


class NumpyStore:
    """No extension: an exact scan of ``track_embeddings``, streamed in chunks (bounded memory)."""

    name = "numpy"

    def __init__(self, detail: str):
        self.detail = detail

    async def sync(self, conn: AsyncConnection, model: str, dims: int, prune: bool = True) -> int:
        return 0

    async def knn(self, conn, model, vector, k):
        best_ids: list[int] = []
        best_scores = np.empty(0, dtype=np.float32)
        result = await conn.stream(select(TrackEmbedding.track_id, TrackEmbedding.vector).where(
            TrackEmbedding.model == model, TrackEmbedding.dims == len(vector)))
        async for rows in result.partitions(CHUNK):
            ids = best_ids + [r[0] for r in rows]
            block = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
            scores = np.concatenate([best_scores, block @ vector.astype(np.float32)])
            keep = top_k(scores, k)
            best_ids, best_scores = [ids[i] for i in keep], scores[keep]
        return list(zip(best_ids, (float(s) for s in best_scores)))


class _Synced:
    """What the two extension stores share: syncing from ``track_embeddings`` with a stored watermark."""

    async def _create(self, conn: AsyncConnection, table: str, dims: int) -> None:
        raise NotImplementedError

    async def _upsert(self, conn: AsyncConnection, table: str, rows: list[tuple[int, bytes]]) -> None:
        raise NotImplementedError

    async def sync(self, conn: AsyncConnection, model: str, dims: int, prune: bool = True) -> int:
        table = table_name(model, dims)
        await self._create(conn, table, dims)
        key = f"vectors.synced.{table}"
        since = await settings_store.read(conn, key)
        query = select(TrackEmbedding.track_id, TrackEmbedding.vector, TrackEmbedding.added_at).where(
            TrackEmbedding.model == model, TrackEmbedding.dims == dims).order_by(TrackEmbedding.track_id)\
            .limit(CHUNK)
        if since:
            query = query.where(TrackEmbedding.added_at >= datetime.fromisoformat(since) - OVERLAP)
        written, newest, last = 0, None, 0
        while rows := (await conn.execute(query.where(TrackEmbedding.track_id > last))).all():
            await self._upsert(conn, table, [(r[0], r[1]) for r in rows])
            await conn.commit()  # a chunk per transaction: never hold SQLite's write lock for long
            written, last = written + len(rows), rows[-1][0]
            newest = max(r[2] for r in rows) if newest is None else max(newest, *(r[2] for r in rows))
        if prune:
            await conn.execute(text(f"DELETE FROM {table} WHERE track_id NOT IN "  # noqa: S608 (generated name)
                                    "(SELECT track_id FROM track_embeddings WHERE model = :model AND dims = :dims)"),
                               {"model": model, "dims": dims})
        if newest is not None:
            await settings_store.write(conn, key, newest.isoformat())
        await conn.commit()
        return written


class SqliteVecStore(_Synced):
    name = "sqlite-vec"

    def __init__(self, version: str):
        self.detail = f"sqlite-vec {version}"

    async def _create(self, conn, table, dims):
        await load_sqlite_vec(conn)
        await conn.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING vec0("
                                f"track_id INTEGER PRIMARY KEY, embedding float[{dims}] distance_metric=cosine)"))

    async def _upsert(self, conn, table, rows):
        ids = [r[0] for r in rows]
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            await conn.execute(text(f"DELETE FROM {table} WHERE track_id IN ({','.join(map(str, part))})"))
        await conn.execute(text(f"INSERT INTO {table}(track_id, embedding) VALUES (:id, :v)"),
                           [{"id": i, "v": v} for i, v in rows])

    async def knn(self, conn, model, vector, k):
        await load_sqlite_vec(conn)
        table = table_name(model, len(vector))
        rows = await conn.execute(text(f"SELECT track_id, distance FROM {table} WHERE embedding MATCH :q "
                                       "AND k = :k ORDER BY distance"), {"q": vector.astype("<f4").tobytes(), "k": k})
        return [(int(i), 1.0 - float(d)) for i, d in sorted(rows, key=lambda r: (r[1], r[0]))]


class PgVectorStore(_Synced):
    name = "pgvector"

    def __init__(self, version: str):
        self.detail = f"pgvector {version}"

    async def _create(self, conn, table, dims):
        await conn.execute(text(f"CREATE TABLE IF NOT EXISTS {table} (track_id integer PRIMARY KEY "
                                f"REFERENCES tracks(id) ON DELETE CASCADE, embedding vector({dims}) NOT NULL)"))
        await conn.execute(text(f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} "
                                "USING hnsw (embedding vector_cosine_ops)"))

    async def _upsert(self, conn, table, rows):
        await conn.execute(text(f"INSERT INTO {table}(track_id, embedding) VALUES (:id, CAST(:v AS vector)) "
                                "ON CONFLICT (track_id) DO UPDATE SET embedding = EXCLUDED.embedding"),
                           [{"id": i, "v": _pg_literal(to_array(v))} for i, v in rows])

    async def knn(self, conn, model, vector, k):
        table = table_name(model, len(vector))
        # HNSW is approximate: search a candidate list well beyond k so the top-k is the exact one in practice
        await conn.execute(text(f"SET hnsw.ef_search = {max(100, 4 * int(k))}"))
        rows = await conn.execute(text(f"SELECT track_id, embedding <=> CAST(:q AS vector) AS d FROM {table} "
                                       "ORDER BY d, track_id LIMIT :k"), {"q": _pg_literal(vector), "k": k})
        return [(int(i), 1.0 - float(d)) for i, d in rows]


def _pg_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


async def load_sqlite_vec(conn: AsyncConnection) -> None:
    """Load sqlite-vec into this pooled connection, once per connection."""
    raw = await conn.get_raw_connection()
    if raw.info.get("sqlite_vec"):
        return
    import sqlite_vec

    driver = raw.driver_connection
    await driver.enable_load_extension(True)
    await driver.load_extension(sqlite_vec.loadable_path())
    await driver.enable_load_extension(False)
    raw.info["sqlite_vec"] = True


async def detect(conn: AsyncConnection, enable: bool = True) -> VectorStore:
    """The best store this database offers; the reason is in ``detail`` when it is the numpy fallback.

    ``enable=False`` (``soniquebay doctor``) reports pgvector without creating the extension.
    """
    if conn.dialect.name == "sqlite":
        try:
            await load_sqlite_vec(conn)
            version = await conn.scalar(text("SELECT vec_version()"))
            return SqliteVecStore(version)
        except Exception as exc:  # no package, no extension loading, a broken binary: all mean "fall back"
            return NumpyStore(f"sqlite-vec unavailable ({type(exc).__name__}: {exc})")
    available = await conn.scalar(text("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"))
    if available is None:
        return NumpyStore("this PostgreSQL server has no pgvector extension")
    if not enable:
        installed = await conn.scalar(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'"))
        return PgVectorStore(installed or f"{available} (enabled on first use)")
    try:
        async with conn.begin_nested():
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        await conn.commit()
    except Exception as exc:
        return NumpyStore(f"pgvector is installed but cannot be enabled here ({type(exc).__name__})")
    installed = await conn.scalar(text("SELECT extversion FROM pg_extension WHERE extname = 'vector'"))
    return PgVectorStore(installed or available)
