"""A small demo library, made on the spot, so a newcomer can try SoniqueBay without music at hand.

Pure Python: WAV files (the standard ``wave`` module) carrying ID3 tags
(mutagen), laid out as a real library is: Artist/Album (Year)/NN - Title.wav,
with a two-disc album and a compilation. Each track is a few seconds of tones.
"""
from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

from mutagen.id3 import TALB, TCMP, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK
from mutagen.wave import WAVE

RATE = 8000
SECONDS = 3

ALBUMS = [
    ("Aurora Lines", "Northern Static", 2019, "Electronic", 1,
     ["Polar Drift", "Ice Shelf", "Magnetic North", "Long Night", "Solstice"]),
    ("Aurora Lines", "Daylight Saving", 2022, "Electronic", 1,
     ["Clock Change", "Golden Hour", "Lengthening Days"]),
    ("Los Hermanos Café", "Sobremesa", 2015, "Latin", 1,
     ["Café con Leche", "Siesta", "La Última Ronda", "Madrugada"]),
    ("The Quiet Rooms", "Two Floors Up", 2008, "Indie Rock", 2,
     ["Stairwell", "Landing", "Window Seat", "Attic", "Roof Access", "Fire Escape"]),
]
COMPILATION = ("Late Night Radio", 2021, "Various", [
    ("Aurora Lines", "Night Bus"), ("Los Hermanos Café feat. Aurora Lines", "Neón"),
    ("The Quiet Rooms", "Static Between Stations"), ("Mira Okafor", "3 A.M. Caller"),
])


def _tone(path: Path, seed: int) -> None:
    base = 220.0 * 2 ** ((seed % 12) / 12)
    frames = bytearray()
    for n in range(RATE * SECONDS):
        t = n / RATE
        sample = 0.3 * math.sin(2 * math.pi * base * t) + 0.15 * math.sin(2 * math.pi * base * 1.5 * t)
        frames += struct.pack("<h", int(sample * 32767 * (1 - t / SECONDS)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


def _tag(path: Path, title: str, artist: str, album: str, albumartist: str, year: int, genre: str,
         track: str, disc: str | None, compilation: bool) -> None:
    audio = WAVE(path)
    audio.add_tags()
    frames = [TIT2(encoding=3, text=title), TPE1(encoding=3, text=artist), TALB(encoding=3, text=album),
              TPE2(encoding=3, text=albumartist), TDRC(encoding=3, text=str(year)),
              TCON(encoding=3, text=genre), TRCK(encoding=3, text=track)]
    if disc:
        frames.append(TPOS(encoding=3, text=disc))
    if compilation:
        frames.append(TCMP(encoding=3, text="1"))
    for frame in frames:
        audio.tags.add(frame)
    audio.save()


def make_demo_library(out: Path) -> int:
    """Write the demo library under ``out``; return the number of tracks. Safe to run twice."""
    count = 0
    for artist, album, year, genre, discs, titles in ALBUMS:
        per_disc = math.ceil(len(titles) / discs)
        for i, title in enumerate(titles):
            disc, number = divmod(i, per_disc)
            folder = out / artist / f"{album} ({year})"
            if discs > 1:
                folder = folder / f"Disc {disc + 1}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{number + 1:02d} - {title}.wav"
            if not path.exists():
                _tone(path, count)
                _tag(path, title, artist, album, artist, year, genre, f"{number + 1}/{per_disc}",
                     f"{disc + 1}/{discs}" if discs > 1 else None, False)
            count += 1
    album, year, genre, tracks = COMPILATION
    folder = out / "Various Artists" / f"{album} ({year})"
    folder.mkdir(parents=True, exist_ok=True)
    for i, (artist, title) in enumerate(tracks):
        path = folder / f"{i + 1:02d} - {artist} - {title}.wav"
        if not path.exists():
            _tone(path, count)
            _tag(path, title, artist, album, "Various Artists", year, genre, f"{i + 1}/{len(tracks)}", None, True)
        count += 1
    (out / "Untagged").mkdir(exist_ok=True)
    loose = out / "Untagged" / "07 - Found On A Tape.wav"
    if not loose.exists():
        _tone(loose, count)
    return count + 1
