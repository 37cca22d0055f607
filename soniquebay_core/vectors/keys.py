"""Musical keys as positions on the circle of fifths: what the vectors encode and the "why" compares."""
from __future__ import annotations

import re

FIFTHS = ("C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#", "F")
_SAME = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E", "E#": "F", "B#": "C"}
_KEY = re.compile(r"^\s*([A-Ga-g])([#b]?)\s*(m|min|minor|maj|major)?\s*$")


def parse_key(key: str | None) -> tuple[int, bool] | None:
    """'A minor', 'Am', 'F# major', 'Eb' → (circle-of-fifths position of the relative major, minor?).

    A minor and C major share position 0: they hold the same notes. ``None`` when not a key.
    """
    if not key:
        return None
    match = _KEY.match(key.replace("♯", "#").replace("♭", "b"))
    if not match:
        return None
    note = _SAME.get(match.group(1).upper() + match.group(2), match.group(1).upper() + match.group(2))
    if note not in FIFTHS:
        return None
    mode = match.group(3) or ""
    minor = mode.startswith("m") and not mode.startswith("maj")
    position = FIFTHS.index(note)
    return ((position - 3) % 12 if minor else position), minor


def compatible(a: str | None, b: str | None) -> bool:
    """Same key, relative major/minor, or a fifth apart: keys a DJ would mix."""
    pa, pb = parse_key(a), parse_key(b)
    if pa is None or pb is None:
        return False
    return min((pa[0] - pb[0]) % 12, (pb[0] - pa[0]) % 12) <= 1
