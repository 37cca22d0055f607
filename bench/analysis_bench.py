"""Analysis benchmark: tempo and key accuracy on the synthesized truth set, CPU and memory per track.

Truth: ``/work/shared/tools/make_audio_truth.py --minor-cadence V`` (set B: 48 tracks, 24 keys, 60–190 BPM, plus
an ambient pad, a tempo change and near silence), generated once into ``WORK/truth-B``. Every WAV is analysed
by one long-lived worker process (``--worker``: imports once, then one track after another, as an RQ worker
would), which reports each track's CPU time (``time.process_time()`` plus its children's, i.e. ffmpeg when
used) and its own peak RSS (``ru_maxrss``).

Speed: the five 4-minute tracks are encoded to FLAC and to MP3 192k (ffmpeg, kept in ``WORK/speed``) and
analysed by the same kind of worker, each file three times; the median CPU per file is the figure (decode
included).

Tempo: Acc1 = within 4 % of the truth; Acc2 = also at ½, ⅓, 2× or 3× (octave errors allowed); median relative
error over Acc1 hits. Key: MIREX score (1 right, 0.5 fifth, 0.3 relative, 0.2 parallel). Hard cases are
reported with their flags. ``os.getloadavg()`` is recorded: other work on the machine inflates CPU times.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from soniquebay_analysis.key import mirex_score

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("SONIQUEBAY_SHARED", ROOT.parent / "shared")) / "tools"
BARS = {"tempo_acc1": 0.80, "tempo_acc2": 0.98, "median_bpm_error": 0.01, "key_mirex_set_b": 0.80,
        "cpu_s_per_4min_track": 0.25, "peak_rss_mb": 350}


def worker(paths: list[str], repeat: int) -> None:
    """Analyse each path ``repeat`` times in this process; one JSON line per run on stdout."""
    from soniquebay_analysis.analyse import analyse_file

    for path in paths:
        for _ in range(repeat):
            before = time.process_time() + _children_cpu()
            found = analyse_file(path)
            cpu = time.process_time() + _children_cpu() - before
            print(json.dumps({"path": path, "cpu_s": cpu, "bpm": found.bpm, "key": found.key,
                              "features": found.features}), flush=True)
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_worker(paths: list[Path], repeat: int = 1) -> tuple[list[dict], float]:
    done = subprocess.run([sys.executable, __file__, "--worker", "--repeat", str(repeat), *map(str, paths)],
                          capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return lines[:-1], lines[-1]["peak_rss_mb"]


def truth_set(work: Path, cadence: str) -> tuple[Path, list[dict]]:
    out = work / f"truth-{'B' if cadence == 'V' else 'A'}"
    if not (out / "truth.json").exists():
        subprocess.run([sys.executable, str(TOOLS / "make_audio_truth.py"), "--out", str(out),
                        "--minor-cadence", cadence], check=True, capture_output=True)
    return out, json.loads((out / "truth.json").read_text())["tracks"]


def accuracy(folder: Path, tracks: list[dict]) -> tuple[dict, float, list[dict]]:
    runs, rss = run_worker([folder / t["file"] for t in tracks])
    rows, acc1, acc2, errors, keys = [], [], [], [], []
    for t, r in zip(tracks, runs):
        row = {"id": t["id"], "case": t["case"], "true_bpm": t["bpm"], "bpm": r["bpm"],
               "true_key": f"{t['key']} {t['mode']}" if t["key"] else None, "key": r["key"],
               "tempo_meaningful": r["features"].get("tempo_meaningful"),
               "key_meaningful": r["features"].get("key_meaningful"), "cpu_s": round(r["cpu_s"], 3)}
        if t["case"] == "normal":
            found = r["bpm"] or 0.0
            hit1 = abs(found - t["bpm"]) <= 0.04 * t["bpm"]
            acc1.append(hit1)
            acc2.append(any(abs(found - t["bpm"] * m) <= 0.04 * t["bpm"] * m for m in (1, 2, 3, 0.5, 1 / 3)))
            if hit1:
                errors.append(abs(found - t["bpm"]) / t["bpm"])
        if t["key"]:
            row["mirex"] = mirex_score(r["key"], t["key"], t["mode"])
            keys.append(row["mirex"])
        rows.append(row)
    summary = {"tempo_acc1": round(statistics.mean(acc1), 4), "tempo_acc2": round(statistics.mean(acc2), 4),
               "median_bpm_error": round(statistics.median(errors), 5), "key_mirex": round(statistics.mean(keys), 4),
               "key_exact": round(statistics.mean(k == 1.0 for k in keys), 4),
               "hard_cases": {r["id"]: {k: r[k] for k in ("bpm", "key", "tempo_meaningful", "key_meaningful")}
                              for r in rows if r["case"] != "normal"}}
    return summary, rss, rows


def speed(work: Path, folder: Path, tracks: list[dict], repeat: int) -> tuple[dict, float]:
    target = work / "speed"
    target.mkdir(parents=True, exist_ok=True)
    files = []
    for t in (t for t in tracks if t["case"] == "normal" and t["duration"] >= 240):
        stem = Path(t["file"]).stem
        for suffix, codec in ((".flac", ["-c:a", "flac"]), (".mp3", ["-c:a", "libmp3lame", "-b:a", "192k"])):
            out = target / f"{stem}{suffix}"
            if not out.exists():
                subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(folder / t["file"]), *codec,
                                str(out)], check=True)
            files.append(out)
    runs, rss = run_worker(files, repeat)
    per = {suffix: statistics.median(r["cpu_s"] for r in runs if r["path"].endswith(suffix))
           for suffix in (".flac", ".mp3")}
    return {"files": len(files), "repeat": repeat, "median_cpu_s_flac": round(per[".flac"], 4),
            "median_cpu_s_mp3": round(per[".mp3"], 4),
            "median_cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 4),
            "max_cpu_s": round(max(r["cpu_s"] for r in runs), 4)}, rss


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/soniquebay-bench/analysis"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "analysis.json")
    ap.add_argument("--repeat", type=int, default=3, help="runs per file for the speed figures")
    ap.add_argument("--set-a", action="store_true", help="also score set A (minor keys without a V chord)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.paths, args.repeat)
        return 0

    load_before = os.getloadavg()
    folder, tracks = truth_set(args.work, "V")
    set_b, rss_b, rows = accuracy(folder, tracks)
    cpu, rss_speed = speed(args.work, folder, tracks, args.repeat)
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                          "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
              "set_b": set_b, "speed": cpu, "peak_rss_mb": round(max(rss_b, rss_speed), 1), "tracks_b": rows}
    if args.set_a:
        folder_a, tracks_a = truth_set(args.work, "VII")
        result["set_a"], _, _ = accuracy(folder_a, tracks_a)
    measured = {"tempo_acc1": set_b["tempo_acc1"], "tempo_acc2": set_b["tempo_acc2"],
                "median_bpm_error": set_b["median_bpm_error"], "key_mirex_set_b": set_b["key_mirex"],
                "cpu_s_per_4min_track": cpu["median_cpu_s"], "peak_rss_mb": result["peak_rss_mb"]}
    lower_is_better = {"median_bpm_error", "cpu_s_per_4min_track", "peak_rss_mb"}
    result["bars"] = {name: {"target": BARS[name], "measured": value,
                             "pass": value <= BARS[name] if name in lower_is_better else value >= BARS[name]}
                      for name, value in measured.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for name, bar in result["bars"].items():
        print(f"{name:24s} {bar['measured']!s:>10} target {bar['target']!s:>6} {'ok' if bar['pass'] else 'FAIL'}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
