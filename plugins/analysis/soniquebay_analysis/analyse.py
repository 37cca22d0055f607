"""One track in, tempo, key and features out: decode the excerpt once, one STFT, every feature from it."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from soniquebay_core.schemas import TrackPatch

from . import key as key_mod
from . import tempo as tempo_mod
from .decode import Excerpt, decode
from .loudness import integrated_loudness
from .spectrum import stft_power


@dataclass(frozen=True)
class Options:
    """``[plugins.analysis]`` settings."""

    excerpt_seconds: float = 60.0
    sample_rate: int = 11025
    min_pulse_clarity: float = 0.3   # below: no beat (ambient, speech), bpm left empty
    min_key_confidence: float = 0.5  # below: no tonal centre, key left empty
    silence_dbfs: float = -60.0      # RMS below this: neither tempo nor key

    @classmethod
    def from_config(cls, config: dict) -> Options:
        known = {name: type(getattr(cls, name)) for name in cls.__dataclass_fields__}
        unknown = set(config) - set(known) - {"enabled"}
        if unknown:
            raise ValueError(f"[plugins.analysis]: unknown option(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(known))}")
        return cls(**{name: known[name](config[name]) for name in known if name in config})


@dataclass
class Analysis:
    bpm: float | None
    key: str | None
    features: dict[str, float | str | bool | None] = field(default_factory=dict)

    def patch(self) -> TrackPatch:
        return TrackPatch(bpm=self.bpm, key=self.key, features=self.features)


def analyse_file(path: str, options: Options = Options(), duration_hint: float | None = None) -> Analysis:
    return analyse(decode(path, options.sample_rate, options.excerpt_seconds, duration_hint), options)


def analyse(excerpt: Excerpt, options: Options = Options()) -> Analysis:
    samples, sr = excerpt.samples, excerpt.sr
    features: dict[str, float | str | bool | None] = {"analysed_seconds": round(len(samples) / sr, 1),
                                                      "analysed_from_s": round(excerpt.start_s, 1)}
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
    rms_dbfs = 20 * np.log10(rms) if rms > 0 else -120.0  # of the mono downmix
    lufs = integrated_loudness(samples, sr) if len(samples) else None
    features["rms_dbfs"] = round(float(rms_dbfs), 2)
    features["loudness_lufs"] = round(lufs + excerpt.channel_gain_db, 2) if lufs is not None else None
    silent = rms_dbfs < options.silence_dbfs or len(samples) < sr  # under a second says nothing either
    if silent:
        features.update(tempo_meaningful=False, key_meaningful=False, energy=0.0, danceability=0.0)
        return Analysis(None, None, features)

    spectrum = stft_power(samples, sr)
    bands, low_bands = tempo_mod.band_energies(spectrum)
    tempo = tempo_mod.estimate(bands, low_bands, spectrum.fps)
    tempo_ok = tempo.clarity >= options.min_pulse_clarity and tempo.stable
    found = key_mod.estimate(spectrum)
    key_ok = found is not None and found.confidence >= options.min_key_confidence

    magnitude = np.sqrt(spectrum.power[::key_mod.FRAME_STEP]).mean(axis=0)
    centroid = float(magnitude @ spectrum.freqs / magnitude.sum()) if magnitude.sum() > 0 else 0.0
    features.update({
        "tempo_meaningful": tempo_ok,
        "tempo_confidence": round(tempo.clarity, 3),
        "tempo_estimate": round(tempo.bpm, 2),
        "key_meaningful": key_ok,
        "key_confidence": round(found.confidence, 3) if found else 0.0,
        "camelot": found.camelot if key_ok else None,
        "tuning_cents": found.tuning_cents if found else None,
        "spectral_centroid_hz": round(centroid, 1),
        "energy": round(_energy(features["loudness_lufs"], tempo.onset_strength), 3),
        "danceability": round(_danceability(tempo.clarity, tempo.bpm) if tempo_ok else 0.0, 3),
    })
    return Analysis(round(tempo.bpm, 2) if tempo_ok else None, found.name if key_ok else None, features)


def _energy(lufs: float | None, onset_strength: float) -> float:
    """0–1: half loudness (-40 → 0, -5 LUFS → 1), half onset strength (0.015 ≈ a busy drum groove)."""
    loud = 0.0 if lufs is None else float(np.clip((lufs + 40.0) / 35.0, 0.0, 1.0))
    return 0.5 * loud + 0.5 * float(np.tanh(onset_strength / 0.015))


def _danceability(clarity: float, bpm: float) -> float:
    """0–1: pulse clarity, weighted down away from the 90–140 BPM most dance music sits in."""
    distance = max(0.0, np.log2(90.0 / bpm), np.log2(bpm / 140.0))
    return float(np.clip(clarity, 0.0, 1.0) * np.exp(-0.5 * (distance / 0.4) ** 2))
