"""Album covers and artist images: resized thumbnails cached on disk, with caching headers."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["covers"])
