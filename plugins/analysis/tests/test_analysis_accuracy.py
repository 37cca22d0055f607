"""Accuracy on synthesized music with known tempo and key, and the cases where there is nothing to say."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from analysis_truth import generator, make_set, tempo_hits, write_groove

from soniquebay_analysis.analyse import analyse_file
from soniquebay_analysis.key import mirex_score


@pytest.fixture(scope="session")
def truth_subset(shared_dir, tmp_path_factory):
    """24 keys × 1 track of 15 s (60–190 BPM, set B minor cadences), with FLAC/MP3 copies of every 4th."""
    out = tmp_path_factory.mktemp("truth")
    tracks = make_set(shared_dir, out, "--n-per-key", "1", "--max-duration", "15", "--no-hard",
                      "--minor-cadence", "V", "--seed", "99")
    return out, tracks


@pytest.fixture(scope="session")
def results(truth_subset):
    out, tracks = truth_subset
    return {t["id"]: analyse_file(str(out / t["file"])) for t in tracks}


def test_tempo_accuracy(truth_subset, results):
    _, tracks = truth_subset
    hits = [tempo_hits(results[t["id"]].bpm or 0.0, t["bpm"]) for t in tracks]
    acc1 = np.mean([h[0] for h in hits])
    acc2 = np.mean([h[1] for h in hits])
    errors = [abs(results[t["id"]].bpm - t["bpm"]) / t["bpm"] for t, h in zip(tracks, hits) if h[0]]
    assert acc1 >= 0.8, f"Acc1 {acc1:.2f}"
    assert acc2 >= 0.95, f"Acc2 {acc2:.2f}"
    assert np.median(errors) < 0.01


def test_key_accuracy_and_camelot(truth_subset, results):
    _, tracks = truth_subset
    scores = [mirex_score(results[t["id"]].key, t["key"], t["mode"]) for t in tracks]
    assert np.mean(scores) >= 0.75, f"MIREX {np.mean(scores):.2f}"
    for t in tracks:
        found = results[t["id"]]
        assert found.features["key_meaningful"] is True and found.features["tempo_meaningful"] is True
        if found.key == "A minor":
            assert found.features["camelot"] == "8A"
        if found.key == "C major":
            assert found.features["camelot"] == "8B"


def test_features_are_flat_and_bounded(truth_subset, results):
    for analysis in results.values():
        for name, value in analysis.features.items():
            assert value is None or isinstance(value, (int, float, str, bool)), name
        assert 0.0 <= analysis.features["energy"] <= 1.0
        assert 0.0 <= analysis.features["danceability"] <= 1.0
        assert 0.0 <= analysis.features["key_confidence"] <= 1.0
        assert 200 < analysis.features["spectral_centroid_hz"] < 5000
        assert -40 < analysis.features["loudness_lufs"] < 0


def test_flac_and_mp3_copies_agree_with_the_wav(truth_subset, results):
    out, tracks = truth_subset
    compared = 0
    for t in tracks:
        for alt in t["alt_files"]:
            copy = analyse_file(str(out / alt))
            original = results[t["id"]]
            assert copy.key == original.key
            assert copy.bpm == pytest.approx(original.bpm, rel=0.005)
            assert copy.features["loudness_lufs"] == pytest.approx(original.features["loudness_lufs"], abs=0.5)
            compared += 1
    assert compared >= 10


@pytest.fixture(scope="session")
def gen(shared_dir):
    return generator(shared_dir)


def test_beatless_pad_has_a_key_but_no_tempo(gen, tmp_path):
    path = tmp_path / "pad.flac"
    audio = gen.master(gen.render_ambient(np.random.default_rng(3), 3, 40.0), -3.0)
    sf.write(str(path), audio.T, gen.SR)
    found = analyse_file(str(path))
    assert found.bpm is None and found.features["tempo_meaningful"] is False
    assert found.features["danceability"] == 0.0
    assert found.key == "Eb major" and found.features["camelot"] == "5B"


def test_near_silence_has_neither(gen, tmp_path):
    path = tmp_path / "hiss.wav"
    sf.write(str(path), gen.render_silence(np.random.default_rng(4), 10.0).T, gen.SR)
    found = analyse_file(str(path))
    assert (found.bpm, found.key) == (None, None)
    assert found.features["tempo_meaningful"] is False and found.features["key_meaningful"] is False
    assert found.features["rms_dbfs"] < -60


def test_a_tempo_change_is_flagged_not_averaged(gen, tmp_path):
    steady, changing = tmp_path / "steady.wav", tmp_path / "changing.wav"
    write_groove(gen, steady, 7, "major", [(0.0, 96.0)], 40.0, seed=5)
    write_groove(gen, changing, 7, "major", [(0.0, 96.0), (20.0, 128.0)], 40.0, seed=5)
    assert analyse_file(str(steady)).bpm == pytest.approx(96.0, rel=0.01)
    found = analyse_file(str(changing))
    assert found.bpm is None and found.features["tempo_meaningful"] is False
    assert found.key == "G major"
