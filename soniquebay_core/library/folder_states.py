"""What the scanner last saw in each folder, so a rescan compares a folder's files only when they changed.

A folder's state is a digest of its listing as the walk gives it (every file's
path, size and mtime after the ignore rules) and how many tracks it holds.
The scanner writes it in the transaction that writes the folder's files, and
the database drops it whenever anything else touches a track or skipped file
of that folder (triggers below: insert, delete, or a change of path, folder,
size, mtime or missing, whoever makes it). So a state that is there always
describes what the library holds for its folder, and a rescan that lists the
same digest can take every file of the folder as unchanged without reading
their rows: on an unchanged 10,000-track library that was most of a rescan's
time after the walk (10,000 rows through SQLAlchemy, against ~1,500 states).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..models import FolderState
from ..scanner.walk import FileStat
from .writer import insert_rows, rows_parameter

STATES: Table = FolderState.__table__  # type: ignore[assignment]

_TRACK_COLUMNS = "path, folder, size, mtime_ns, missing"
_SKIPPED_COLUMNS = "path, folder, size, mtime_ns"


def _sqlite_triggers(table: str, columns: str) -> tuple[str, ...]:
    forget = "DELETE FROM folder_states WHERE folder"
    return (
        f"CREATE TRIGGER folder_states_{table}_insert AFTER INSERT ON {table} BEGIN {forget} = new.folder; END",
        f"CREATE TRIGGER folder_states_{table}_delete AFTER DELETE ON {table} BEGIN {forget} = old.folder; END",
        f"CREATE TRIGGER folder_states_{table}_update AFTER UPDATE OF {columns} ON {table} "
        f"BEGIN {forget} IN (old.folder, new.folder); END",
    )


_SQLITE_DDL = (*_sqlite_triggers("tracks", _TRACK_COLUMNS), *_sqlite_triggers("skipped_files", _SKIPPED_COLUMNS))
_POSTGRES_DDL = (
    "CREATE FUNCTION folder_states_forget() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN DELETE FROM folder_states WHERE folder = OLD.folder; END IF; "
    "IF TG_OP <> 'DELETE' THEN DELETE FROM folder_states WHERE folder = NEW.folder; END IF; "
    "RETURN NULL; END $$",
    f"CREATE TRIGGER folder_states_tracks AFTER INSERT OR DELETE OR UPDATE OF {_TRACK_COLUMNS} ON tracks "
    "FOR EACH ROW EXECUTE FUNCTION folder_states_forget()",
    f"CREATE TRIGGER folder_states_skipped_files AFTER INSERT OR DELETE OR UPDATE OF {_SKIPPED_COLUMNS} "
    "ON skipped_files FOR EACH ROW EXECUTE FUNCTION folder_states_forget()",
)


def triggers_ddl(dialect: str) -> tuple[str, ...]:
    return _SQLITE_DDL if dialect == "sqlite" else _POSTGRES_DDL


def triggers_drop(dialect: str) -> tuple[str, ...]:
    if dialect == "sqlite":
        return tuple(f"DROP TRIGGER IF EXISTS folder_states_{table}_{event}"
                     for table in ("tracks", "skipped_files") for event in ("insert", "delete", "update"))
    return ("DROP TRIGGER IF EXISTS folder_states_tracks ON tracks",
            "DROP TRIGGER IF EXISTS folder_states_skipped_files ON skipped_files",
            "DROP FUNCTION IF EXISTS folder_states_forget()")


def digest(files: Sequence[FileStat]) -> str | None:
    """The listing's digest; ``None`` when a name is not valid UTF-8 (such a folder is always compared,
    so that the scan reports those files every time)."""
    try:
        listed = "".join([f"{f.path}\0{f.size}\0{f.mtime_ns}\0" for f in files]).encode()
    except UnicodeEncodeError:
        return None
    return hashlib.blake2b(listed, digest_size=16).hexdigest()


_STATES_OF = select(STATES.c.folder, STATES.c.digest, STATES.c.tracks) \
    .where(STATES.c.folder.in_(bindparam("folders", expanding=True)))


async def unchanged(conn: AsyncConnection, digests: dict[str, str | None]) -> dict[str, int]:
    """The folders whose state has the digest given: folder -> tracks it holds."""
    wanted = [folder for folder, value in digests.items() if value is not None]
    if not wanted:
        return {}
    rows = await conn.execute(_STATES_OF, {"folders": wanted})
    return {folder: tracks for folder, value, tracks in rows if digests[folder] == value}


async def remember(conn: AsyncConnection, states: Sequence[tuple[str, str, int]]) -> None:
    """Write (folder, digest, tracks) states, after the folders' files were written in this transaction."""
    rows = [{"folder": folder, "digest": value, "tracks": tracks} for folder, value, tracks in states]
    if not rows:
        return
    stmt = insert_rows(conn, STATES, ("folder", "digest", "tracks"))
    stmt = stmt.on_conflict_do_update(index_elements=["folder"],
                                      set_={"digest": stmt.excluded.digest, "tracks": stmt.excluded.tracks})
    await conn.execute(stmt, rows_parameter(conn, rows))
