"""Decoding only what the analysis needs: one excerpt, mono, at a low sample rate.

libsndfile (through soundfile) decodes WAV, FLAC, Ogg Vorbis/Opus, AIFF and MP3
in this process, reading only the excerpt's frames. Anything else (M4A, WMA,
APE, …) goes through an ``ffmpeg`` child that seeks, downmixes and resamples
itself. Either way the result is float32 mono at ``sr`` plus the power ratio
that turns the mono downmix's loudness back into the channels' summed loudness
(what ITU-R BS.1770 measures).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from soniquebay_core.errors import PermanentPluginError

BLOCK_FRAMES = 1 << 17  # read in blocks: bounded memory whatever the file's channel count


@dataclass
class Excerpt:
    samples: np.ndarray      # float32 mono at ``sr``
    sr: int
    start_s: float           # where the excerpt begins in the track
    duration_s: float        # the whole track's duration, as decoded
    channel_gain_db: float   # 10·log10(Σ channel power / downmix power)
    decoder: str             # "soundfile" | "ffmpeg"


def excerpt_window(duration_s: float, length_s: float) -> tuple[float, float]:
    """The middle ``length_s`` seconds of a track (all of it when shorter): intros and fades say least."""
    if duration_s <= length_s:
        return 0.0, duration_s
    return (duration_s - length_s) / 2.0, length_s


def decode(path: str, sr: int, length_s: float, duration_hint: float | None = None) -> Excerpt:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    try:
        handle = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return _decode_ffmpeg(path, sr, length_s, duration_hint)
    with handle:
        return _decode_soundfile(handle, sr, length_s)


def _decode_soundfile(handle: sf.SoundFile, sr: int, length_s: float) -> Excerpt:
    rate, channels = handle.samplerate, handle.channels
    duration = handle.frames / rate if handle.frames > 0 else 0.0
    start, length = excerpt_window(duration, length_s)
    if start > 0:
        handle.seek(int(start * rate))
    wanted = int(length * rate)
    weights = np.full(channels, 1.0 / channels, dtype=np.float32)
    resampler = soxr.ResampleStream(rate, sr, 1, dtype="float32", quality="HQ")
    pieces, channel_power, mono_power, got = [], 0.0, 0.0, 0
    while got < wanted:
        block = handle.read(min(BLOCK_FRAMES, wanted - got), dtype="float32", always_2d=True)
        if not len(block):
            break
        got += len(block)
        mono = block @ weights
        channel_power += float(np.einsum("ij,ij->", block, block)) / channels
        mono_power += float(mono @ mono)
        pieces.append(resampler.resample_chunk(mono))
    pieces.append(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    # Σ over channels of their power vs the downmix's: 0 dB for mono, +3 dB for identical channels
    gain = 10 * np.log10(channels * channel_power / mono_power) if mono_power > 0 else 0.0
    return Excerpt(samples, sr, start, duration, float(gain), "soundfile")


def _decode_ffmpeg(path: str, sr: int, length_s: float, duration_hint: float | None) -> Excerpt:
    if shutil.which("ffmpeg") is None:
        raise PermanentPluginError(f"{path}: not a format libsndfile reads, and ffmpeg is not installed")
    duration = duration_hint or 0.0
    start, length = excerpt_window(duration, length_s) if duration else (0.0, length_s)
    command = ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", path,
               "-vn", "-ac", "1", "-ar", str(sr), "-f", "f32le", "-"]
    done = subprocess.run(command, capture_output=True, timeout=120)
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PermanentPluginError(f"{path}: ffmpeg cannot decode it: {reason[-1] if reason else done.returncode}")
    samples = np.frombuffer(done.stdout, dtype="<f4").astype(np.float32)
    # ffmpeg downmixes before we see the channels: the loudness is the downmix's
    return Excerpt(samples, sr, start, duration or len(samples) / sr, 0.0, "ffmpeg")
