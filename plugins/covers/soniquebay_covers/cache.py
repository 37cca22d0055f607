"""Web answers kept on disk: found and "not found" alike, each with its own expiry.

One SQLite file in the cache directory, shared by every worker process (WAL, a
busy timeout, a connection per call: calls come from worker threads).
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import NamedTuple

SCHEMA = """CREATE TABLE IF NOT EXISTS answers (
    url TEXT PRIMARY KEY, status INTEGER NOT NULL, body BLOB NOT NULL, expires_at REAL NOT NULL)"""


class Cached(NamedTuple):
    status: int  # 200, or 404 for "not found"
    body: bytes


class AnswerCache:
    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "answers.sqlite"
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def get(self, url: str) -> Cached | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT status, body FROM answers WHERE url = ? AND expires_at > ?",
                             (url, time.time())).fetchone()
        return Cached(row[0], bytes(row[1])) if row else None

    def put(self, url: str, status: int, body: bytes, days: float) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                       (url, status, body, time.time() + days * 86400))
