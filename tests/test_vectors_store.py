"""The core's vector stores and in-memory index agree with brute force, on SQLite (sqlite-vec), PostgreSQL
with pgvector (a pgserver instance) and plain PostgreSQL (the numpy fallback)."""
from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest
from sqlalchemy import delete, func, insert, update

from soniquebay_core.db import Database
from soniquebay_core.models import Root, Track, TrackEmbedding
from soniquebay_core.vectors import store as stores
from soniquebay_core.vectors.index import VectorIndex

MODEL, DIMS, TRACKS = "test-model", 48, 400


@pytest.fixture(scope="session")
def pgvector_server(tmp_path_factory):
    """A real PostgreSQL with pgvector, from the pgserver wheel (Debian's server here has no pgvector)."""
    pgserver = pytest.importorskip("pgserver")
    server = pgserver.get_server(tmp_path_factory.mktemp("pgvector"), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture
def pgvector_url(pgvector_server):
    name = f"sb_vec_{uuid.uuid4().hex[:10]}"
    pgvector_server.psql(f'CREATE DATABASE "{name}";')
    yield pgvector_server.get_uri().replace("/postgres?", f"/{name}?")
    pgvector_server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')


@pytest.fixture(params=["sqlite", "postgresql", "pgvector"])
def any_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'library.db'}"
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "pgvector_url")


def unit_rows(count: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(count, DIMS)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


async def fill(db: Database, vectors: np.ndarray, first_id: int = 1) -> list[int]:
    async with db.engine.begin() as conn:
        root = (await conn.execute(insert(Root).values(path=f"/music-{first_id}").returning(Root.id))).scalar_one()
        ids = list(range(first_id, first_id + len(vectors)))
        await conn.execute(insert(Track), [
            {"id": i, "root_id": root, "path": f"/music/{i}.mp3", "folder": "/music", "size": 1, "mtime_ns": 1,
             "format": "mp3", "title": f"t{i}", "title_key": f"t{i}"} for i in ids])
        await conn.execute(insert(TrackEmbedding), [
            {"track_id": i, "model": MODEL, "dims": DIMS, "vector": v.astype("<f4").tobytes()}
            for i, v in zip(ids, vectors)])
    return ids


def brute_force(ids: list[int], vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    scores = vectors @ query
    return [ids[i] for i in np.lexsort((np.array(ids), -scores))[:k]]


async def test_stores_and_index_give_the_exact_top_k(any_url):
    db = await Database.open(any_url)
    try:
        vectors = unit_rows(TRACKS, seed=1)
        ids = await fill(db, vectors)
        async with db.engine.connect() as conn:
            store = await stores.detect(conn)
            expected = {"sqlite": "sqlite-vec", "postgresql": "numpy", "pgvector": "pgvector"}
            assert store.name == expected["sqlite" if "sqlite" in any_url else
                                          "pgvector" if "host=" in any_url else "postgresql"]
            if store.name == "numpy":
                assert "no pgvector" in store.detail
            assert await store.sync(conn, MODEL, DIMS) == (0 if store.name == "numpy" else TRACKS)
            index = VectorIndex(MODEL, DIMS)
            assert await index.refresh(conn) == TRACKS
            fallback = stores.NumpyStore("reference")
            for query in unit_rows(10, seed=2):
                exact = brute_force(ids, vectors, query, 10)
                assert [t for t, _ in index.search(query, 10)] == exact
                assert [t for t, _ in await fallback.knn(conn, MODEL, query, 10)] == exact
                found = await store.knn(conn, MODEL, query, 10)
                assert [t for t, _ in found] == exact
                assert np.allclose([s for _, s in found], np.sort(vectors @ query)[::-1][:10], atol=1e-4)
    finally:
        await db.close()


async def test_index_and_store_follow_added_changed_and_removed_vectors(any_url):
    db = await Database.open(any_url)
    try:
        vectors = unit_rows(50, seed=3)
        ids = await fill(db, vectors)
        index = VectorIndex(MODEL, DIMS)
        async with db.engine.connect() as conn:
            store = await stores.detect(conn)
            await index.refresh(conn)
            await store.sync(conn, MODEL, DIMS)
            assert await index.refresh(conn) == 0  # nothing changed: nothing read
        await asyncio.sleep(1.1 if "sqlite" in any_url else 0)  # SQLite's timestamps tick in seconds
        more = unit_rows(20, seed=4)
        new_ids = await fill(db, more, first_id=1000)
        changed = unit_rows(1, seed=5)[0]
        async with db.engine.begin() as conn:  # as results._store_embedding does: a fresh added_at
            await conn.execute(update(TrackEmbedding).where(TrackEmbedding.track_id == ids[0]).values(
                vector=changed.astype("<f4").tobytes(), added_at=func.now()))
        async with db.engine.connect() as conn:
            read = await index.refresh(conn)
            assert 21 <= read < 71  # the new and the changed rows (and the overlap), not everything again
            await store.sync(conn, MODEL, DIMS)
            assert index.size == 70
            np.testing.assert_allclose(index.vector(ids[0]), changed)
            assert index.search(changed, 1)[0][0] == ids[0]
            assert (await store.knn(conn, MODEL, changed, 1))[0][0] == ids[0]
            assert index.search(more[5], 1)[0][0] == new_ids[5]
        async with db.engine.begin() as conn:
            await conn.execute(delete(Track).where(Track.id == ids[1]))
        async with db.engine.connect() as conn:
            await index.refresh(conn)
            await store.sync(conn, MODEL, DIMS)
            assert index.size == 69 and index.vector(ids[1]) is None
            assert ids[1] not in [t for t, _ in await store.knn(conn, MODEL, vectors[1], 5)]
    finally:
        await db.close()


async def test_doctor_says_which_vector_path_is_in_use(any_url, tmp_path):
    from soniquebay_core.config import Settings
    from soniquebay_core.doctor import diagnose
    from soniquebay_core.plugins import load_plugins

    db = await Database.open(any_url)
    await fill(db, unit_rows(3, seed=6))
    await db.close()
    settings = Settings(data_dir=tmp_path / "data", database_url=any_url)
    finding = {f.check: f for f in await diagnose(settings, load_plugins(settings, entry_points_group=False))}["vectors"]
    assert "in-memory index" in finding.detail and f"3 of {MODEL}" in finding.detail
    if "sqlite" in any_url:
        assert finding.level == "ok" and "sqlite-vec v" in finding.detail
    elif "host=" in any_url:
        assert finding.level == "ok" and "pgvector" in finding.detail
    else:
        assert finding.level == "warn" and "no pgvector" in finding.detail and "pgvector" in finding.fix
