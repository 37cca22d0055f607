"""Batch writes for automation: artists, albums and tracks in chunks of up to 500."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/batch", tags=["batch"])
