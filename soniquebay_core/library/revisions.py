"""A track's revision: a number the database raises on every change of the track's row.

A vector sums up the whole track, so ``vectorize`` is due again when the track
changed after the vector was computed from it. Times cannot say "after": a
job reads its snapshot, another stage writes the track, then the job writes
its outcome, later than the change; and SQLite's ``CURRENT_TIMESTAMP`` has a
resolution of one second. So a stage row keeps the revision its snapshot was
read at (``track_stages.track_revision``) and is stale when the track's
revision is another. The trigger raises it whoever writes the row (scanner,
stage results, batch edits); a change of a track's genres or tags rewrites
its ``search_text``, so it raises the revision too.
"""
from __future__ import annotations

_SQLITE_DDL = (
    # recursive triggers are off: the inner UPDATE does not fire this trigger again
    "CREATE TRIGGER tracks_revision AFTER UPDATE ON tracks WHEN new.revision = old.revision "
    "BEGIN UPDATE tracks SET revision = old.revision + 1 WHERE id = new.id; END",
)
_POSTGRES_DDL = (
    "CREATE FUNCTION tracks_revision_raise() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "NEW.revision := OLD.revision + 1; RETURN NEW; END $$",
    "CREATE TRIGGER tracks_revision BEFORE UPDATE ON tracks FOR EACH ROW EXECUTE FUNCTION tracks_revision_raise()",
)


def triggers_ddl(dialect: str) -> tuple[str, ...]:
    return _SQLITE_DDL if dialect == "sqlite" else _POSTGRES_DDL


def triggers_drop(dialect: str) -> tuple[str, ...]:
    if dialect == "sqlite":
        return ("DROP TRIGGER IF EXISTS tracks_revision",)
    return ("DROP TRIGGER IF EXISTS tracks_revision ON tracks", "DROP FUNCTION IF EXISTS tracks_revision_raise()")
