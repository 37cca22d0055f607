"""What of a track is embedded: a sentence of its metadata, and its audio features as a few numbers.

The text carries title, artists, album, year, genres and tags (what the text
model understands). The audio part is a short, fixed-length vector of
normalised analysis results (tempo, key on the circle of fifths, and the
features the analysis plugin writes); it is zero when the track was never
analysed, so analysed and unanalysed tracks still compare on their text.

``input_hash`` names exactly what went into a vector (model, text, audio
numbers): the same hash means the stored vector is still right.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
from soniquebay_core.schemas import TrackSnapshot
from soniquebay_core.vectors.keys import parse_key

# (feature name, low, high): values are mapped linearly onto [0, 1] and clipped.
FEATURES = (
    ("energy", 0.0, 1.0),
    ("danceability", 0.0, 1.0),
    ("loudness_lufs", -30.0, 0.0),
    ("spectral_centroid_hz", 500.0, 5000.0),
)
AUDIO_DIMS = 4 + len(FEATURES)  # tempo, key (cos, sin, mode), features
AUDIO_WEIGHT = 0.35  # the audio part's length next to the unit-length text part


def text_of(track: TrackSnapshot) -> str:
    """One line per fact, in a fixed order; missing facts are left out."""
    artists = track.artists or ([track.artist] if track.artist else [])
    lines = [track.title]
    if artists:
        lines.append("by " + ", ".join(artists))
    if track.album:
        lines.append("from the album " + track.album + (f" by {track.albumartist}" if track.albumartist
                                                         and track.albumartist not in artists else ""))
    if track.year:
        lines.append(f"released in {track.year}")
    if track.genres:
        lines.append("genre: " + ", ".join(track.genres))
    if track.tags:
        lines.append("tags: " + ", ".join(track.tags))
    return "\n".join(lines)


def audio_of(track: TrackSnapshot) -> np.ndarray:
    """The normalised audio part (length ``AUDIO_DIMS``, zeros where unknown), scaled to ``AUDIO_WEIGHT`` at most."""
    part = np.zeros(AUDIO_DIMS, dtype=np.float32)
    if track.bpm and track.bpm > 0:
        part[0] = min(max(math.log2(track.bpm / 60.0) / math.log2(200 / 60.0), 0.0), 1.0)
    key = parse_key(track.key)
    if key is not None:
        angle = 2 * math.pi * key[0] / 12
        part[1:4] = (math.cos(angle) / 2, math.sin(angle) / 2, 0.5 if key[1] else -0.5)
    for i, (name, low, high) in enumerate(FEATURES, start=4):
        value = track.features.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            part[i] = min(max((value - low) / (high - low), 0.0), 1.0)
    return part * np.float32(AUDIO_WEIGHT / math.sqrt(AUDIO_DIMS))


def combine(text_vector: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Text (unit length) then audio, the whole at unit length: cosine similarity is a dot product."""
    whole = np.concatenate([text_vector.astype(np.float32), audio.astype(np.float32)])
    norm = float(np.linalg.norm(whole))
    return whole / norm if norm > 0 else whole


def input_hash(model: str, text: str, audio: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(model.encode())
    digest.update(b"\0")
    digest.update(text.encode())
    digest.update(b"\0")
    digest.update(np.round(audio.astype(np.float64), 6).tobytes())
    return digest.hexdigest()
