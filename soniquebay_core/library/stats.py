"""Library totals for ``soniquebay stats``."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import Album, Artist, Genre, Scan, SkippedFile, Track
from ..plugins import PluginHost
from ..stages import stage_summary


async def library_stats(conn: AsyncConnection, host: PluginHost) -> dict:
    present = Track.missing.is_(False)
    tracks, duration, size = (await conn.execute(
        select(func.count(), func.coalesce(func.sum(Track.duration), 0), func.coalesce(func.sum(Track.size), 0))
        .where(present))).one()

    async def count(model, *where) -> int:
        return (await conn.execute(select(func.count()).select_from(model).where(*where))).scalar_one()

    formats = dict((await conn.execute(
        select(Track.format, func.count()).where(present).group_by(Track.format)
        .order_by(func.count().desc()))).all())
    last = (await conn.execute(select(Scan.id, Scan.status, Scan.started_at, Scan.counts)
                               .order_by(Scan.id.desc()).limit(1))).first()
    return {
        "tracks": tracks,
        "albums": await count(Album),
        "artists": await count(Artist),
        "genres": await count(Genre),
        "missing": await count(Track, Track.missing.is_(True)),
        "file_errors": await count(SkippedFile, SkippedFile.is_error.is_(True)),
        "duration_s": round(float(duration), 1),
        "size_bytes": int(size),
        "formats": formats,
        "stages": await stage_summary(conn, host),
        "last_scan": None if last is None else {
            "id": last.id, "status": last.status, "started_at": last.started_at.isoformat() if last.started_at
            else None, "counts": last.counts},
    }
