"""Track revisions (library/revisions.py): raised by the database on every change of a track, on both backends."""
from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import select, text, update

from soniquebay_core.db import Database, create_engine
from soniquebay_core.models import Track, TrackStage
from soniquebay_core.pipeline.results import Outcome, write_outcomes
from soniquebay_core.plugins import load_plugins
from soniquebay_core.runtime import Runtime
from soniquebay_core.schemas import TrackPatch


async def revisions(db: Database) -> dict[int, int]:
    async with db.engine.connect() as conn:
        return dict((await conn.execute(select(Track.id, Track.revision))).all())


async def test_every_change_of_a_track_raises_its_revision(settings, library):
    root, _ = library
    runtime = await Runtime.open(settings, load_plugins(settings))
    try:
        await runtime.scan([root], sweep=False)
        first = await revisions(runtime.db)
        assert set(first.values()) == {0}
        one, other = sorted(first)[:2]
        async with runtime.db.engine.begin() as conn:
            await conn.execute(update(Track).where(Track.id == one).values(bpm=120.0))
        async with runtime.db.engine.begin() as conn:
            await conn.execute(update(Track).where(Track.id == one).values(bpm=121.0))
        assert (await revisions(runtime.db))[one] == 2
        # a stage's patch of genres: the links change and the track's search text with them
        async with runtime.db.engine.begin() as conn:
            await write_outcomes(conn, "lastfm", "enrich_track", "1.0.0",
                                 [Outcome(other, "done", value=TrackPatch(genres=["Dub"]))], settings.data_dir)
        assert (await revisions(runtime.db))[other] >= 1
        # a rescan of a changed file rewrites the row: the revision goes on rising, it does not start over
        async with runtime.db.engine.connect() as conn:
            path = await conn.scalar(select(Track.path).where(Track.id == one))
        stat = os.stat(path)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        result = await runtime.scan([root], sweep=False)
        assert result.counts.changed == 1
        after = await revisions(runtime.db)
        assert after[one] == 3
        assert {t: r for t, r in after.items() if t not in (one, other)} == \
            {t: r for t, r in first.items() if t not in (one, other)}
    finally:
        await runtime.close()


async def _migrate(engine, to: str) -> None:
    def upgrade(connection):
        config = Config()
        config.set_main_option("script_location", "soniquebay_core:migrations")
        config.attributes["connection"] = connection
        command.upgrade(config, to)

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


async def test_upgrading_keeps_fresh_vectors_fresh_and_stale_ones_due(settings):
    """Migration 0005: a vector written no earlier than its track's last change is taken as fresh."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        await _migrate(engine, "0004")
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO roots (id, path) VALUES (1, '/music')"))
            for track_id in (1, 2):
                await conn.execute(text(
                    "INSERT INTO tracks (id, root_id, path, folder, size, mtime_ns, missing, format, title, "
                    "title_key, has_embedded_cover, updated_at) VALUES (:id, 1, :path, '/music', 1, 1, false, "
                    "'mp3', 't', 't', false, '2026-12-01 10:00:00')"),
                    {"id": track_id, "path": f"/music/{track_id}.mp3"})
            for track_id, written in ((1, "2026-12-01 10:00:05"), (2, "2026-12-01 09:59:00")):
                await conn.execute(text(  # a literal: each backend reads it as its own timestamp
                    "INSERT INTO track_stages (track_id, plugin, stage, status, plugin_version, attempts, updated_at) "
                    f"VALUES (:id, 'vectors', 'vectorize', 'done', '1.0.0', 1, '{written}')"), {"id": track_id})
        await _migrate(engine, "head")
        async with engine.connect() as conn:
            rows = dict((await conn.execute(select(TrackStage.track_id, TrackStage.track_revision))).all())
            tracks = dict((await conn.execute(select(Track.id, Track.revision))).all())
    finally:
        await engine.dispose()
    assert tracks == {1: 0, 2: 0}
    assert rows == {1: 0, 2: None}  # the stale one matches no revision: due
