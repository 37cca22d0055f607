"""Playlists and the server-side play queue of each user."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["playlists"])
