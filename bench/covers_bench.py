#!/usr/bin/env python3
"""Covers benchmark: a 10,000-track library gets every album its cover and thumbnails, on 2 embedded workers.

    .venv/bin/python bench/covers_bench.py [--tracks 10000] [--backends sqlite,postgresql] [--out FILE]

The library is make_library.py's (seed 1), generated once into WORK/covers/lib-N-seed1 (its own copy: it is
changed, unlike scan_bench.py's). The generator puts an embedded front cover on ~30% of albums and a folder
image (cover_a.jpg 300 px or cover_d.png 64 px, under five names) on ~35%, independently, so ~45% have neither.
The bar's mix is "~30% embedded art, folder images elsewhere": the albums with neither get a folder image (the
generator's own two images, by the name's extension, under the generator's names). And the generator has only
seven distinct pictures, which stored once would leave almost no thumbnails to render: every album's pictures
(folder and embedded, same format and size) get a mark of the album's own, so each album's cover is
decoded and rendered as in a real library. Done once; ``mix`` in the results says what the library holds.

Per backend: a fresh data dir (and, for PostgreSQL, a fresh database). Setup, timed apart and judged by no bar:
``Runtime.open`` with the built-in plugins and ``covers`` (default settings: offline, local sources only; any
other installed plugin switched off), 2 embedded workers, then ``runtime.scan(sweep=False)``. Measured: the
cover stage only, from ``runtime.sweep("covers")`` until ``wait_idle`` returns, i.e. every job's transaction
(covers, pre-rendered thumbnails: 64/256/512 px in WebP and JPEG) is committed. Then checked: every album has
a cover, every stored cover has its 6 thumbnails, no stage row failed or pending.
Bar: <= 60 s on SQLite. The load average is recorded: other work on the machine slows every figure.

Results: bench/results/covers.json (--out); a summary goes to stderr.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR / "plugins" / "covers"))  # the plugin, installed or not

import mutagen
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Cover, MP4Tags
from PIL import Image, ImageDraw
from pipeline_bench import (
    DEFAULT_MAKE_LIBRARY,
    DEFAULT_PG_ADMIN,
    machine_info,
    postgres_database,
    postgres_reachable,
    source_version,
    write_json,
)
from scan_bench import ensure_library, log
from sqlalchemy import func, select

from soniquebay_core.config import JobsSettings, Settings
from soniquebay_core.covers_store import PRERENDERED, THUMB_SIZES, thumb_path
from soniquebay_core.models import Album, Cover
from soniquebay_core.plugins import load_plugins
from soniquebay_core.runtime import Runtime
from soniquebay_core.stages import stage_summary

DEFAULT_OUT = BENCH_DIR / "results" / "covers.json"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "soniquebay-bench" / "covers"
BAR_S = 60.0
WORKERS = 2
MARK_BITS = 13  # albums numbered up to 8191
FOLDER_NAMES = ("folder.jpg", "cover.jpg", "Folder.jpg", "front.jpg", "cover.png")


# -- the library ----------------------------------------------------------------------------------

def ensure_mix(home: Path) -> dict:
    """Give every album with neither an embedded picture nor a folder image a folder image, and every album
    a picture of its own (see the module doc), once."""
    marker = home / "covers-mix.json"
    if marker.is_file():
        return json.loads(marker.read_text())
    manifest = json.loads((home / "manifest.json").read_text(encoding="utf-8"))
    music = home / "music"
    folder_image = {e["path"].rsplit("/", 1)[0]: e["path"] for e in manifest["extras"] if e["kind"] == "folder_image"}
    sources = {}  # the generator's two folder images, by extension, taken from albums that have them
    for path in folder_image.values():
        sources.setdefault(Path(path).suffix, (music / path).read_bytes())
    if len(manifest["albums"]) >= 1 << MARK_BITS:
        raise ValueError(f"more than {1 << MARK_BITS} albums: widen MARK_BITS")
    mix = Counter()
    for n, album in enumerate(manifest["albums"]):
        tracks = [t for t in manifest["tracks"] if t["path"].startswith(album["path"] + "/")]
        embedded = [music / t["path"] for t in tracks if t["has_embedded_cover"] and not t["corrupt"]]
        if album["path"] in folder_image:
            mix["folder_and_embedded" if embedded else "folder_only"] += 1
            image = music / folder_image[album["path"]]
            image.write_bytes(_own(image.read_bytes(), n))
        elif embedded:
            mix["embedded_only"] += 1
        else:
            name = FOLDER_NAMES[n % len(FOLDER_NAMES)]
            (music / album["path"] / name).write_bytes(_own(sources[Path(name).suffix], n))
            mix["folder_added"] += 1
        for path in embedded:
            _own_embedded(path, n)
    info = {"albums": len(manifest["albums"]), **dict(sorted(mix.items())),
            "embedded_share": round((mix["embedded_only"] + mix["folder_and_embedded"]) / len(manifest["albums"]), 3),
            "distinct_pictures": "one per album"}
    marker.write_text(json.dumps(info, indent=1) + "\n")
    return info


def _own(data: bytes, n: int) -> bytes:
    """The picture with the album's number written along its top edge in black and white squares (which no
    JPEG quantisation confuses): same format and size, bytes of its own."""
    with Image.open(io.BytesIO(data)) as image:
        fmt, copy = image.format, image.convert("RGB")
    side, draw = max(4, copy.width // 16), ImageDraw.Draw(copy)
    for bit in range(MARK_BITS):
        colour = (255, 255, 255) if n >> bit & 1 else (0, 0, 0)
        draw.rectangle((bit * side, 0, (bit + 1) * side - 1, side - 1), fill=colour)
    out = io.BytesIO()
    copy.save(out, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


def _own_embedded(path: Path, n: int) -> None:
    """Mark the pictures inside one audio file, in whatever container it is."""
    audio = mutagen.File(path)
    if isinstance(audio.tags, ID3):
        for frame in audio.tags.getall("APIC"):
            frame.data = _own(frame.data, n)
        audio.save(v2_version=audio.tags.version[1])  # ID3v2.3 stays 2.3: its "/"-joined values mean lists
        return
    if isinstance(audio, FLAC):
        pictures = audio.pictures
        audio.clear_pictures()
        for picture in pictures:
            picture.data = _own(picture.data, n)
            audio.add_picture(picture)
    elif isinstance(audio.tags, MP4Tags):
        audio.tags["covr"] = [MP4Cover(_own(bytes(c), n), imageformat=c.imageformat) for c in audio.tags["covr"]]
    else:  # Ogg Vorbis / Opus: base64 FLAC picture blocks
        blocks = []
        for text in audio.tags["metadata_block_picture"]:
            picture = Picture(base64.b64decode(text))
            picture.data = _own(picture.data, n)
            blocks.append(base64.b64encode(picture.write()).decode("ascii"))
        audio.tags["metadata_block_picture"] = blocks
    audio.save()


# -- one run --------------------------------------------------------------------------------------

def open_host(settings: Settings):
    """Built-in plugins and covers (default settings); every other installed plugin off."""
    from importlib.metadata import entry_points

    from soniquebay_covers import plugin

    others = {ep.name: {"enabled": False} for ep in entry_points(group="soniquebay")
              if ep.name != "covers" and (ep.dist is None or ep.dist.name != "soniquebay-core")}
    settings = settings.model_copy(update={"plugins": others})
    host = load_plugins(settings)
    if "covers" not in host.plugins:
        host.add_module("covers", plugin)
    return settings, host


async def run(music: Path, data_dir: Path, database_url: str | None, name: str) -> dict:
    settings = Settings(data_dir=data_dir, database_url=database_url, jobs=JobsSettings(embedded_workers=WORKERS))
    settings, host = open_host(settings)
    t0 = time.perf_counter()
    runtime = await Runtime.open(settings, host)
    try:
        open_s = time.perf_counter() - t0
        log(f"{name}: scanning {music} ...")
        t0 = time.perf_counter()
        scanned = await runtime.scan([music], sweep=False)
        scan_s = time.perf_counter() - t0
        log(f"{name}: {scanned.counts.new} tracks scanned in {scan_s:.1f} s; running the cover stage ...")
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        jobs = await runtime.sweep("covers")
        await runtime.wait_idle()
        elapsed = time.perf_counter() - t0
        load_after = os.getloadavg()
        async with runtime.db.engine.connect() as conn:
            albums = await conn.scalar(select(func.count()).select_from(Album))
            without = (await conn.execute(select(Album.title).where(Album.cover_id.is_(None)))).scalars().all()
            covers = (await conn.execute(select(Cover.sha256, Cover.source))).all()
            stages = [s for s in await stage_summary(conn, runtime.host) if s["plugin"] == "covers"]
    finally:
        await runtime.close()
    missing_thumbs = sum(1 for sha, _ in covers for size in THUMB_SIZES for enc in PRERENDERED
                         if not thumb_path(data_dir / "thumbs", sha, size, enc).is_file())
    result = {
        "backend": name, "workers": WORKERS, "tracks": scanned.counts.new, "albums": albums,
        "jobs_enqueued": jobs, "elapsed_s": round(elapsed, 2), "albums_per_s": round(albums / elapsed, 1),
        "albums_without_cover": len(without), "albums_without_cover_titles": sorted(without)[:20],
        "covers_stored": len(covers), "stored_by_first_source": dict(Counter(s.split(":")[0] for _, s in covers)),
        "thumbnails_expected": len(covers) * len(THUMB_SIZES) * len(PRERENDERED), "thumbnails_missing": missing_thumbs,
        "stage": stages[0] if stages else None, "open_s": round(open_s, 2), "scan_s": round(scan_s, 1),
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in load_after],
    }
    result["every_album_covered"] = not without and not missing_thumbs and bool(stages) and \
        stages[0]["failed"] == stages[0]["pending"] == 0
    log(f"{name}: {albums} albums in {elapsed:.2f} s ({result['albums_per_s']} albums/s), "
        f"{len(without)} without a cover, {missing_thumbs} thumbnails missing")
    return result


async def measure(args: argparse.Namespace) -> dict:
    library = ensure_library(args.work, args.tracks, 1, sys.executable, args.make_library)
    mix = ensure_mix(library.path.parent)
    log(f"library {library.path}: {mix}")
    results = {"benchmark": "covers", "machine": machine_info(), "soniquebay": source_version(),
               "library": {"path": str(library.path), "tracks": args.tracks, "seed": 1, "mix": mix}, "runs": {}}
    for backend in args.backends:
        data_dir = Path(tempfile.mkdtemp(prefix=f"covers-{backend}-", dir=args.work))
        if backend == "sqlite":
            results["runs"][backend] = await run(library.path, data_dir, None, backend)
        else:
            why_not = await postgres_reachable(args.pg_admin_url)
            if why_not:
                results["runs"][backend] = {"skipped": why_not}
                continue
            async with postgres_database(args.pg_admin_url) as (url, version):
                url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
                results["runs"][backend] = {**await run(library.path, data_dir, url, backend),
                                            "server_version": version}
    sqlite = results["runs"].get("sqlite", {})
    results["bar"] = {"target_s": BAR_S, "measured_s": sqlite.get("elapsed_s"),
                      "pass": bool(sqlite.get("every_album_covered")) and sqlite.get("elapsed_s", 1e9) <= BAR_S}
    results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tracks", type=int, default=10000)
    ap.add_argument("--backends", default="sqlite,postgresql", type=lambda s: s.split(","))
    ap.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN)
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK, help="library and data dirs")
    ap.add_argument("--make-library", type=Path, default=DEFAULT_MAKE_LIBRARY)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(measure(args))
    write_json(args.out, results)
    bar = results["bar"]
    log(f"{'PASS' if bar['pass'] else 'FAIL'}: cover stage {bar['measured_s']} s on SQLite (target <= {BAR_S} s); "
        f"results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
