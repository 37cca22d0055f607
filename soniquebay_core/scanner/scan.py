"""One scan of one or more folders: see the package docstring for the flow."""
from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..config import Settings
from ..db import Database
from ..errors import SoniqueBayError
from ..library import folder_states, writer
from ..library.rows import TrackRow, adopt_folder_albums, track_row
from ..models import PluginError, Root, Scan, Track
from ..plugins import PluginHost
from ..schemas import TrackSnapshot
from .reader import TagReader
from .reading import ReadOutcome, describe, worth_reading
from .walk import FileStat, Listing, Walker, ignored_by_plugins

log = logging.getLogger("soniquebay.scanner")

MAX_REPORTED_ERRORS = 200


class ScanError(SoniqueBayError):
    """The scan cannot start (bad path, no library folder)."""


@dataclass
class ScanCounts:
    files_seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    moved: int = 0
    errors: int = 0
    not_audio: int = 0


@dataclass
class ScanProgress:
    scan_id: int
    phase: str  # walking | finishing | done
    counts: ScanCounts
    elapsed_s: float
    folder: str | None = None

    @property
    def files_per_second(self) -> float:
        return self.counts.files_seen / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class ScanResult:
    scan_id: int
    status: str
    paths: list[str]
    counts: ScanCounts
    duration_s: float
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        counts = asdict(self.counts)
        return {"scan_id": self.scan_id, "status": self.status, "paths": self.paths, **counts,
                "duration_s": round(self.duration_s, 3),
                "files_per_second": round(counts["files_seen"] / self.duration_s, 1) if self.duration_s else 0.0,
                "errors_listed": self.errors}


ProgressCallback = Callable[[ScanProgress], None]


@dataclass
class _Target:
    path: str
    root_id: int


@dataclass
class _Plan:
    """One batch, classified against the library."""

    batch: list[Listing]
    known: dict[str, writer.Known]
    skipped: dict[str, writer.Known]
    to_read: list[FileStat] = field(default_factory=list)
    unmissing: list[int] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    # compared folders' states to write with the batch: folder -> (digest, tracks unchanged in it)
    states: dict[str, tuple[str, int]] = field(default_factory=dict)


class Scanner:
    """Scans folders into the library. One instance per scan."""

    def __init__(self, db: Database, host: PluginHost, settings: Settings,
                 progress: ProgressCallback | None = None, progress_interval: float = 0.5):
        self.db = db
        self.host = host
        self.settings = settings
        self.batch_size = settings.scanner.batch_size
        self.progress = progress
        self.progress_interval = progress_interval
        self.counts = ScanCounts()
        self.errors: list[dict] = []
        self.scan_id = 0
        self._started = 0.0
        self._last_report = 0.0
        self._walked: set[str] = set()
        self._announce = bool(host.dispatch.impls("on_file_discovered"))
        self.reader = TagReader(host, settings.scanner.read_workers)

    # -- entry point ---------------------------------------------------------------------------

    async def scan(self, paths: list[Path] | None = None, full: bool = False) -> ScanResult:
        self._started = time.monotonic()
        async with self.db.engine.begin() as conn:
            targets = await self._targets(conn, paths)
            self.scan_id = (await conn.execute(insert(Scan).values(
                status="running", paths=[t.path for t in targets], full=full).returning(Scan.id))).scalar_one()
        if full or await self._first_scan(targets):
            self.reader.warm_up()
        status = "interrupted"
        try:
            for target in targets:
                await self._scan_target(target, full)
            await self._finish(targets)
            status = "completed"
        except Exception as exc:
            status = "failed"
            await self._close(status, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            await self.reader.close()
            if status == "interrupted":  # cancelled or Ctrl-C: what was committed stays
                await asyncio.shield(self._close(status, "interrupted"))
        await self._close(status, None)
        self._report("done", None, force=True)
        return ScanResult(self.scan_id, status, [t.path for t in targets], self.counts,
                          time.monotonic() - self._started, self.errors)

    # -- targets and roots ---------------------------------------------------------------------

    async def _targets(self, conn: AsyncConnection, paths: list[Path] | None) -> list[_Target]:
        if paths:
            wanted = [Path(p).expanduser() for p in paths]
        else:
            known = (await conn.execute(select(Root.path))).scalars().all()
            wanted = list(dict.fromkeys([*self.settings.library.roots, *map(Path, known)]))
        if not wanted:
            raise ScanError("no library folder: give a PATH, or set library.roots in the config file")
        targets = []
        for path in wanted:
            if not path.exists():
                raise ScanError(f"no such folder: {path}")
            if not path.is_dir():
                raise ScanError(f"not a folder: {path}")
            if not os.access(path, os.R_OK | os.X_OK):
                raise ScanError(f"cannot read folder: {path}")
            resolved = str(path.resolve())
            targets.append(_Target(resolved, await self._root_for(conn, resolved)))
        return targets

    async def _first_scan(self, targets: list[_Target]) -> bool:
        async with self.db.engine.connect() as conn:
            for target in targets:
                if await conn.scalar(select(Track.id).where(writer.under(Track.folder, target.path)).limit(1)) is None:
                    return True
        return False

    async def _root_for(self, conn: AsyncConnection, folder: str) -> int:
        """The root holding ``folder``; a new root absorbs roots inside it."""
        roots = (await conn.execute(select(Root.id, Root.path))).all()
        for root_id, root_path in roots:
            if folder == root_path or folder.startswith(root_path.rstrip("/") + "/"):
                return root_id
        root_id = (await conn.execute(insert(Root).values(path=folder).returning(Root.id))).scalar_one()
        inner = [rid for rid, path in roots if path.startswith(folder.rstrip("/") + "/")]
        if inner:
            await conn.execute(update(Track).where(Track.root_id.in_(inner)).values(root_id=root_id))
            await conn.execute(delete(Root).where(Root.id.in_(inner)))
        return root_id

    # -- the walk ------------------------------------------------------------------------------

    def _batches(self, walker: Walker, top: str) -> Iterator[list[Listing]]:
        batch: list[Listing] = []
        size = 0
        for listing in walker.walk(top):
            batch.append(listing)
            size += len(listing.files)
            if size >= self.batch_size:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    async def _scan_target(self, target: _Target, full: bool) -> None:
        """Walk, classify and write batch after batch, reading the next batches' tags meanwhile.

        Each batch holds whole folders, so classifying a batch never depends on
        one that is still being written; at most one batch per reading slot
        are in flight (``reader.slots``), which keeps memory bounded.
        """
        walker = Walker(self._ignored, self.settings.library.follow_symlinks)
        self._walked = set()
        listings = self._batches(walker, target.path)
        in_flight: deque[tuple[_Plan, asyncio.Future]] = deque()
        try:
            while True:
                # the walk is blocking I/O: do it off the event loop, one batch at a time
                batch = await asyncio.to_thread(next, listings, None)
                if batch is None:
                    break
                plan = await self._classify(batch, full)
                in_flight.append((plan, asyncio.ensure_future(self.reader.read(plan.to_read))))
                if len(in_flight) >= self.reader.slots:
                    plan, reading = in_flight.popleft()
                    await self._write(target, plan, await reading)
            while in_flight:
                plan, reading = in_flight.popleft()
                await self._write(target, plan, await reading)
        finally:
            for _, reading in in_flight:
                reading.cancel()
        for problem in walker.problems:
            self._error(problem.path, f"cannot read folder: {problem.message}")
        await self._vanished_folders(target.path, [p.path for p in walker.problems])

    def _ignored(self, folder: str, files: list[str], folders: list[str]) -> set[str]:
        return ignored_by_plugins(self.host.dispatch, folder, files, folders, self._plugin_failed_quietly)

    def _plugin_failed_quietly(self, plugin: str, hook: str, exc: BaseException) -> None:
        log.warning("plugin %s failed in %s: %s", plugin, hook, exc)

    async def _classify(self, batch: list[Listing], full: bool) -> _Plan:
        """Compare a batch's files with what the library knows: what to read, what vanished.

        A folder whose listing has the digest of its state is unchanged as a whole; only the others'
        files are compared one by one (``--full`` compares every folder, and reads every file)."""
        digests = {listing.folder: folder_states.digest(listing.files) for listing in batch}
        async with self.db.engine.connect() as conn:
            same = {} if full else await folder_states.unchanged(conn, digests)
            compared = [listing for listing in batch if listing.folder not in same]
            known, skipped = await writer.known_in(conn, [listing.folder for listing in compared])
        plan = _Plan(batch, known, skipped)
        for listing in batch:
            if listing.folder in same:
                self.counts.files_seen += len(listing.files)
                self.counts.unchanged += same[listing.folder]
        seen: set[str] = set()
        for listing in compared:
            present = 0
            for file in listing.files:
                seen.add(file.path)
                self.counts.files_seen += 1
                if not _encodable(file.path):
                    self._error(file.path.encode("utf-8", "replace").decode(), "file name is not valid UTF-8")
                    continue
                track = known.get(file.path)
                if not full and track and (track.size, track.mtime_ns) == (file.size, file.mtime_ns):
                    self.counts.unchanged += 1
                    present += 1
                    if track.missing:
                        plan.unmissing.append(track.id)
                    continue
                memory = skipped.get(file.path)
                if not full and memory and (memory.size, memory.mtime_ns) == (file.size, file.mtime_ns):
                    continue
                if track or worth_reading(file.path):
                    plan.to_read.append(file)
            if digests[listing.folder] is not None:
                plan.states[listing.folder] = (digests[listing.folder], present)
        plan.vanished = [k.id for path, k in known.items() if path not in seen and not k.missing]
        plan.forgotten = [path for path in skipped if path not in seen]
        return plan

    async def _write(self, target: _Target, plan: _Plan, outcomes: list[ReadOutcome]) -> None:
        """Write one batch in one transaction, then tell plugins and report progress."""
        rows: list[TrackRow] = []
        bad: list[writer.Skipped] = []
        for outcome in outcomes:
            if outcome.tags is not None:
                rows.append(track_row(outcome.file, outcome.tags, target.root_id, self.scan_id))
            else:
                bad.append(self._skipped(outcome))
        adopt_folder_albums(rows)
        known = plan.known
        changed = [known[r.track["path"]].id for r in rows if r.track["path"] in known]
        async with self.db.engine.begin() as conn:
            track_ids = await writer.write_tracks(conn, rows)
            await writer.forget_stages(conn, changed)
            await writer.write_skipped(conn, bad, self.scan_id)
            await writer.forget_skipped(conn, [p for p in track_ids if p in plan.skipped] + plan.forgotten)
            await writer.set_missing(conn, plan.vanished, True)
            await writer.set_missing(conn, plan.unmissing, False)
            written = Counter(row.track["folder"] for row in rows)
            await folder_states.remember(conn, [(folder, value, present + written[folder])
                                                for folder, (value, present) in plan.states.items()])
        self.counts.changed += len(changed)
        self.counts.new += len(rows) - len(changed)
        self._walked.update(listing.folder for listing in plan.batch)
        if self._announce:
            await self._announce_tracks(rows, track_ids, known)
        self._report("walking", plan.batch[-1].folder)

    def _skipped(self, outcome: ReadOutcome) -> writer.Skipped:
        if outcome.error:
            self._error(outcome.file.path, outcome.error)
            return writer.Skipped(outcome.file, outcome.error, True)
        self.counts.not_audio += 1
        return writer.Skipped(outcome.file, outcome.not_audio or "not audio", False)

    async def _announce_tracks(self, rows: list[TrackRow], track_ids: dict[str, int], known: dict) -> None:
        failures: list[dict] = []

        def failed(plugin: str, hook: str, exc: BaseException, track_id: int, path: str) -> None:
            log.warning("plugin %s failed in %s on %s: %s", plugin, hook, path, exc)
            failures.append({"plugin": plugin, "hook": hook, "track_id": track_id, "path": path,
                             "error": describe(exc), "scan_id": self.scan_id})

        for row in rows:
            path = row.track["path"]
            track_id = track_ids[path]
            snapshot = snapshot_of(track_id, row)
            self.host.dispatch.call_each(
                "on_file_discovered", track=snapshot, is_new=path not in known,
                on_error=lambda p, h, e, t=track_id, f=path: failed(p, h, e, t, f))
        if failures:
            async with self.db.engine.begin() as conn:
                await conn.execute(insert(PluginError), failures)

    # -- the end -------------------------------------------------------------------------------

    async def _vanished_folders(self, top: str, unreadable: list[str]) -> None:
        """Folders the library knows under ``top`` that this walk did not list."""
        async with self.db.engine.connect() as conn:
            known_folders = await writer.folders_under(conn, top)
        keep = tuple(p.rstrip("/") + "/" for p in unreadable)
        gone = [f for f in known_folders
                if f not in self._walked and f not in unreadable and not (f + "/").startswith(keep)]
        if gone:
            async with self.db.engine.begin() as conn:
                await writer.mark_folders_missing(conn, gone)

    async def _finish(self, targets: list[_Target]) -> None:
        self._report("finishing", None, force=True)
        async with self.db.engine.begin() as conn:
            moves = await writer.reconcile_moves(conn, self.scan_id)
            self.counts.moved = len(moves)
            self.counts.new -= len(moves)
            if not self.settings.scanner.keep_missing:
                for target in targets:
                    self.counts.removed += await writer.delete_missing(conn, target.path)
            await writer.delete_orphans(conn)

    async def _close(self, status: str, error: str | None) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(update(Scan).where(Scan.id == self.scan_id).values(
                status=status, error=error, counts=asdict(self.counts), finished_at=func.now()))

    # -- reporting -----------------------------------------------------------------------------

    def _error(self, path: str, message: str) -> None:
        self.counts.errors += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"path": path, "error": message})

    def _report(self, phase: str, folder: str | None, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_report >= self.progress_interval:
            self._last_report = now
            self.progress(ScanProgress(self.scan_id, phase, self.counts, now - self._started, folder))


def snapshot_of(track_id: int, row: TrackRow) -> TrackSnapshot:
    t = row.track
    return TrackSnapshot(
        id=track_id, path=t["path"], format=t["format"], codec=t["codec"], duration=t["duration"],
        bitrate=t["bitrate"], sample_rate=t["sample_rate"], channels=t["channels"], title=t["title"],
        artist=t["artist"], artists=[c.name for c in row.credits if c.role != "composer"],
        album=row.album.title, albumartist=row.album.albumartist, track_number=t["track_number"],
        disc_number=t["disc_number"], year=t["year"], date=t["date"], genres=row.genres,
        mb_trackid=t["mb_trackid"], mb_albumid=row.album.mb_albumid, bpm=t["bpm"], key=t["key"],
        has_embedded_cover=t["has_embedded_cover"])


def _encodable(path: str) -> bool:
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
