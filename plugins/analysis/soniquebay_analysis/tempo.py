"""Tempo from onset periodicity, with the metrical level chosen on evidence.

1. Onset envelopes: the positive change of log energy in 36 mel bands (30 Hz –
   5 kHz, from the shared spectrum), averaged into a full-band and a low-band
   (< 200 Hz: kick and bass) envelope, the one-second local mean removed.
2. Periodicity family: each envelope's autocorrelation scored with a comb over
   the first four multiples of a candidate beat period (fractional lags
   interpolated); the best candidate between 40 and 250 BPM is the family's
   root. Combs favour slow metrical levels (a bar also repeats), so the root is
   usually the half-note or whole-bar rate.
3. Metrical level: from the root, double the tempo while the low band still
   pulses (nearly) as strongly at the faster period: kicks and bass mark
   beats, and hi-hats, which mark subdivisions, barely reach the low band.
4. Refinement: the period is fitted through the autocorrelation peaks at one
   to four beats (interpolated), which resolves far below one frame.

Pulse clarity (the comb's peak, 0–1) says whether there is a beat at all; the
two halves of the excerpt are estimated apart to tell a steady tempo from one
that changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .spectrum import Spectrum

BPM_MIN, BPM_MAX = 40.0, 250.0
CLIMB_RATIO = 0.8     # a faster level needs this share of the slower one's low-band pulse
STABLE_TOLERANCE = 0.04
N_BANDS, F_MIN, F_MAX, LOW_BAND_HZ = 36, 30.0, 5000.0, 200.0


@dataclass
class Tempo:
    bpm: float
    clarity: float        # pulse clarity, 0..1
    stable: bool          # both halves of the excerpt agree (up to an octave)
    halves: tuple[float | None, float | None]
    onset_strength: float  # mean onset envelope above its local mean: how much is struck


@lru_cache(maxsize=4)
def _mel_bank(sr: int, n_fft: int) -> tuple[np.ndarray, int]:
    """(bins, bands) triangular filters evenly spaced on the mel scale, and how many bands sit below 200 Hz."""
    def mel(hz):
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    edges = 700.0 * (10 ** (np.linspace(mel(F_MIN), mel(min(F_MAX, sr / 2)), N_BANDS + 2) / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    bank = np.maximum(0.0, np.minimum((freqs - lower) / (centre - lower), (upper - freqs) / (upper - centre)))
    return np.ascontiguousarray(bank.T, dtype=np.float32), int(np.sum(edges[1:-1] < LOW_BAND_HZ))


def band_energies(spectrum: Spectrum) -> tuple[np.ndarray, int]:
    """(frames, bands) log energies, level-independent, and how many bands are low."""
    bank, low_bands = _mel_bank(spectrum.sr, spectrum.n_fft)
    bands = spectrum.power @ bank
    return np.log1p(bands * (100.0 / (bands.mean() + 1e-12))), low_bands


def onset_envelopes(bands: np.ndarray, low_bands: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(full, low) onset envelopes from a (frames, bands) log-energy matrix."""
    flux = np.maximum(bands[1:] - bands[:-1], 0.0)
    full = flux.mean(axis=1)
    low = flux[:, :low_bands].mean(axis=1)
    width = max(1, int(fps))  # one-second moving average removed: what is left is the pulse
    kernel = np.ones(width, dtype=np.float32) / width
    return (np.maximum(full - np.convolve(full, kernel, "same"), 0.0),
            np.maximum(low - np.convolve(low, kernel, "same"), 0.0))


def autocorrelation(envelope: np.ndarray) -> np.ndarray:
    n = len(envelope)
    x = envelope - envelope.mean()
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    acf /= np.arange(n, 0, -1)  # unbiased: long lags are not penalised for having fewer products
    return acf / acf[0] if acf[0] > 0 else acf


def _at(acf: np.ndarray, lag: np.ndarray) -> np.ndarray:
    return np.interp(lag, np.arange(len(acf)), acf, right=0.0)


def comb_score(acf: np.ndarray, periods: np.ndarray, multiples: int = 4) -> np.ndarray:
    return sum(_at(acf, k * periods) for k in range(1, multiples + 1)) / multiples


def _peak_lag(acf: np.ndarray, lag: float, tolerance: float = 0.04) -> tuple[float, float]:
    """The autocorrelation's highest point within ±tolerance of ``lag``, interpolated: (lag, height)."""
    low, high = int(np.floor(lag * (1 - tolerance))), int(np.ceil(lag * (1 + tolerance)))
    low, high = max(low, 1), min(high, len(acf) - 2)
    if high <= low:
        return lag, 0.0
    i = low + int(np.argmax(acf[low:high + 1]))
    a, b, c = acf[i - 1], acf[i], acf[i + 1]
    denominator = a - 2 * b + c
    shift = 0.5 * (a - c) / denominator if denominator < 0 else 0.0
    return i + float(np.clip(shift, -0.5, 0.5)), float(b)


def _refined_period(acf: np.ndarray, period: float, multiples: int = 4) -> float:
    """Least-squares beat period through the peaks at 1..4 periods: finer than any single peak."""
    lags, ks = [], []
    for k in range(1, multiples + 1):
        if k * period * 1.05 >= len(acf) - 2:
            break
        lag, height = _peak_lag(acf, k * period, tolerance=0.03 / k + 0.01)
        if height > 0:
            lags.append(lag)
            ks.append(k)
    if not lags:
        return period
    ks_arr = np.array(ks, dtype=float)
    return float(np.dot(ks_arr, lags) / np.dot(ks_arr, ks_arr))


def _estimate(full: np.ndarray, low: np.ndarray, fps: float) -> tuple[float, float]:
    """(bpm, pulse clarity) for one pair of onset envelopes."""
    acf_full, acf_low = autocorrelation(full), autocorrelation(low)
    bpms = np.exp(np.linspace(np.log(BPM_MIN), np.log(BPM_MAX), 480))
    periods = 60.0 * fps / bpms
    comb = 0.5 * (comb_score(acf_full, periods) + comb_score(acf_low, periods))
    root = float(bpms[int(np.argmax(comb))])
    clarity = float(max(comb.max(), 0.0))
    # climb the metrical levels: double while the low band pulses (nearly) as strongly twice as fast
    bpm = root
    _, pulse = _peak_lag(acf_low, 60.0 * fps / bpm)
    while bpm * 2 <= BPM_MAX:
        _, faster = _peak_lag(acf_low, 60.0 * fps / (bpm * 2))
        if faster < CLIMB_RATIO * pulse:
            break
        bpm, pulse = bpm * 2, faster
    period = _refined_period(acf_low + acf_full, 60.0 * fps / bpm)
    return 60.0 * fps / period, clarity


def _same_tempo(a: float, b: float) -> bool:
    """Equal within the tolerance, or an octave apart (a half may lock onto another metrical level)."""
    return any(abs(a * m - b) <= STABLE_TOLERANCE * b for m in (0.5, 1.0, 2.0))


def estimate(bands: np.ndarray, low_bands: int, fps: float) -> Tempo:
    full, low = onset_envelopes(bands, low_bands, fps)
    bpm, clarity = _estimate(full, low, fps)
    half = len(full) // 2
    strength = float(full.mean())
    if half < 15 * fps:  # too short to judge steadiness in halves
        return Tempo(bpm, clarity, True, (None, None), strength)
    first = _estimate(full[:half], low[:half], fps)[0]
    second = _estimate(full[half:], low[half:], fps)[0]
    stable = _same_tempo(first, bpm) and _same_tempo(second, bpm)
    return Tempo(bpm, clarity, stable, (round(first, 2), round(second, 2)), strength)
