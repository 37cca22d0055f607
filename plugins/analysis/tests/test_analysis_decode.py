"""Decoding an excerpt, loudness against the full-rate measurement, and bad input on the real corpus."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from soniquebay_analysis import plugin
from soniquebay_analysis.analyse import analyse_file
from soniquebay_analysis.decode import decode, excerpt_window
from soniquebay_analysis.loudness import integrated_loudness
from soniquebay_core.errors import PermanentPluginError, TransientPluginError
from soniquebay_core.schemas import TrackPatch, TrackSnapshot

SR = 44100


def sine(seconds: float, hz: float = 997.0, peak: float = 0.1) -> np.ndarray:
    return (peak * np.sin(2 * np.pi * hz * np.arange(int(seconds * SR)) / SR)).astype(np.float32)


def test_excerpt_is_the_middle():
    assert excerpt_window(240.0, 60.0) == (90.0, 60.0)
    assert excerpt_window(30.0, 60.0) == (0.0, 30.0)


def test_decode_reads_only_the_excerpt_mono_at_the_low_rate(tmp_path):
    path = tmp_path / "stereo.flac"
    tone = sine(100.0)
    sf.write(str(path), np.stack([tone, tone], axis=1), SR)
    excerpt = decode(str(path), 11025, 20.0)
    assert excerpt.decoder == "soundfile" and excerpt.sr == 11025
    assert excerpt.start_s == pytest.approx(40.0) and excerpt.duration_s == pytest.approx(100.0)
    assert len(excerpt.samples) == pytest.approx(20 * 11025, abs=50)
    assert excerpt.channel_gain_db == pytest.approx(3.01, abs=0.01)  # two identical channels: +3 dB
    mono = tmp_path / "mono.wav"
    sf.write(str(mono), tone, SR)
    assert decode(str(mono), 11025, 20.0).channel_gain_db == pytest.approx(0.0, abs=1e-4)


def test_sine_loudness_matches_bs1770():
    # a 997 Hz sine of peak 0.1 (-20 dBFS) in one channel reads -23.0 LUFS (BS.1770's 0 dB at 1 kHz, -3 dB rms)
    assert integrated_loudness(sine(10.0), SR) == pytest.approx(-23.0, abs=0.1)
    assert integrated_loudness(np.zeros(SR * 5), SR) is None


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_other_formats_go_through_ffmpeg(tmp_path):
    wav, m4a = tmp_path / "a.wav", tmp_path / "a.m4a"
    sf.write(str(wav), sine(30.0), SR)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "aac", str(m4a)], check=True)
    excerpt = decode(str(m4a), 11025, 10.0, duration_hint=30.0)
    assert excerpt.decoder == "ffmpeg" and excerpt.start_s == pytest.approx(10.0)
    assert len(excerpt.samples) == pytest.approx(10 * 11025, abs=200)


def test_fast_loudness_is_close_to_full_rate_stereo(shared_dir, tmp_path):
    """The 11 kHz mono excerpt's loudness vs BS.1770 on the full-rate stereo file, on generated mixes."""
    from analysis_truth import generator, write_groove

    gen = generator(shared_dir)
    for seed in (1, 2):
        path = tmp_path / f"g{seed}.wav"
        write_groove(gen, path, seed, "minor", [(0.0, 100.0 + 20 * seed)], 30.0, seed=seed)
        audio, rate = sf.read(str(path), dtype="float32")
        full = integrated_loudness(audio.T, rate)
        fast = analyse_file(str(path)).features["loudness_lufs"]
        assert fast == pytest.approx(full, abs=1.5)


def snapshot(path, **extra) -> TrackSnapshot:
    return TrackSnapshot(id=1, path=str(path), format=path.suffix.lstrip(".") or "x", title=path.name, **extra)


def test_bad_input_is_a_clear_error(tmp_path):
    garbage = tmp_path / "noise.mp3"
    garbage.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(PermanentPluginError, match="noise.mp3"):
        plugin.enrich_track(snapshot(garbage), {})
    with pytest.raises(TransientPluginError, match="gone.flac"):
        plugin.enrich_track(snapshot(tmp_path / "gone.flac"), {})
    with pytest.raises(ValueError, match="excerpt_secs"):
        plugin.enrich_track(snapshot(garbage), {"excerpt_secs": 30})


def test_every_corpus_file_analyses_or_fails_clearly(corpus_dir):
    """Real files of every format, many broken on purpose: each gives a patch or a one-line error."""
    audio = [p for p in sorted(corpus_dir.rglob("*")) if p.is_file() and p.suffix.lower() not in
             {".json", ".md", ".txt", ".toml", ""} and "LICENSE" not in p.name and "COPYING" not in p.name]
    assert len(audio) > 300
    patched = failed = 0
    for path in audio:
        try:
            result = plugin.enrich_track(snapshot(path), {})
        except (PermanentPluginError, TransientPluginError) as exc:
            assert str(path) in str(exc) and "\n" not in str(exc)
            failed += 1
            continue
        assert isinstance(result, TrackPatch) and result.features
        patched += 1
    assert patched > 200, (patched, failed)
