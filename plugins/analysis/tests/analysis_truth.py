"""Small truth sets for the analysis tests, made with the team's generator (shared/tools/make_audio_truth.py)."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

def generator(shared_dir: Path):
    """The generator as a module, to render single tracks (its command line makes whole sets)."""
    spec = importlib.util.spec_from_file_location("make_audio_truth", shared_dir / "tools" / "make_audio_truth.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_set(shared_dir: Path, out: Path, *args: str) -> list[dict]:
    subprocess.run([sys.executable, str(shared_dir / "tools" / "make_audio_truth.py"), "--out", str(out), *args],
                   check=True, capture_output=True)
    return json.loads((out / "truth.json").read_text())["tracks"]


def write_groove(gen, path: Path, tonic: int, mode: str, segments: list[tuple[float, float]], seconds: float,
                 seed: int) -> None:
    """One groove track (drums, chords, bass, melody) as a 44.1 kHz stereo file; format from the suffix."""
    rng = np.random.default_rng(seed)
    audio = gen.master(gen.render_groove(rng, tonic, mode, segments, seconds, -35.0, timbre_id=seed,
                                         minor_cadence="V"), -1.0)
    sf.write(str(path), np.clip(audio.T, -1, 1), gen.SR)


def tempo_hits(found: float, true: float, tolerance: float = 0.04) -> tuple[bool, bool]:
    """(Acc1, Acc2): within 4 % of the tempo; or of its ½, ⅓, 2× or 3× (octave errors allowed)."""
    acc1 = abs(found - true) <= tolerance * true
    acc2 = any(abs(found - true * m) <= tolerance * true * m for m in (1, 2, 3, 0.5, 1 / 3))
    return acc1, acc2
