"""The audio of a track: the original file, with HTTP ranges (seeking) and caching headers.

Clients name a track id, never a path, and the file served must still lie
inside a library root once symlinks are resolved: nothing else on the disk
can be read through this endpoint.
"""
from __future__ import annotations

import os
from email.utils import parsedate_to_datetime

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import select

from ..models import Root, Track
from .deps import ConnDep, DbId

router = APIRouter(prefix="/api", tags=["streaming"])

MEDIA_TYPES = {
    "mp3": "audio/mpeg", "mp2": "audio/mpeg", "mp1": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg",
    "opus": "audio/ogg", "spx": "audio/ogg", "m4a": "audio/mp4", "aac": "audio/aac", "wma": "audio/x-ms-wma",
    "wav": "audio/wav", "aiff": "audio/aiff", "ape": "audio/x-ape", "wv": "audio/x-wavpack",
    "mpc": "audio/x-musepack", "dsf": "audio/x-dsf", "dff": "audio/x-dff", "tta": "audio/x-tta",
    "ac3": "audio/ac3", "tak": "audio/x-tak", "ofr": "audio/x-optimfrog",
}


def inside_library(path: str, roots: list[str]) -> bool:
    """``path`` is inside one of ``roots`` once symlinks are resolved."""
    real = os.path.realpath(path)
    return any(real == root or real.startswith(root.rstrip("/") + "/")
               for root in (os.path.realpath(r) for r in roots))


@router.get("/tracks/{track_id}/stream", response_class=FileResponse,
            responses={206: {"description": "the requested byte range"}, 404: {}})
async def stream(request: Request, conn: ConnDep, track_id: DbId, download: bool = False) -> Response:
    row = (await conn.execute(select(Track.path, Track.format, Track.missing).where(Track.id == track_id))).first()
    if row is None or row.missing:
        raise HTTPException(404, f"no track {track_id}")
    roots = (await conn.execute(select(Root.path))).scalars().all()
    if not os.path.isfile(row.path) or not inside_library(row.path, list(roots)):
        raise HTTPException(404, f"the file of track {track_id} is not available")
    response = FileResponse(row.path, media_type=MEDIA_TYPES.get(row.format, "application/octet-stream"),
                            stat_result=os.stat(row.path),
                            filename=os.path.basename(row.path) if download else None,
                            content_disposition_type="attachment" if download else "inline")
    if _fresh(request, response):
        return Response(status_code=304, headers={k: response.headers[k] for k in ("etag", "last-modified")})
    return response


def etag_matches(request: Request, etag: str) -> bool:
    """The client's ``If-None-Match`` names this ETag (or ``*``)."""
    tags = request.headers.get("if-none-match", "")
    return tags.strip() == "*" or etag in (t.strip().removeprefix("W/") for t in tags.split(","))


def _fresh(request: Request, response: FileResponse) -> bool:
    """The client's copy is current (If-None-Match, else If-Modified-Since)."""
    if "if-none-match" in request.headers:
        return etag_matches(request, response.headers["etag"])
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(response.headers["last-modified"]) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
