"""What SoniqueBay reads differently from expected.json in the real corpus, and why.

Keyed by path in ``corpus/real``: (field, what we store). Shared by the tag-reader and scanner tests.
"""
import os
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"  # the team's test data, beside the checkout
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

KNOWN_DIFFERENCES = {
    # ID3v2.3 has no multi-value separator; "piman / jzig" is two artists joined, easy=True keeps one string
    "mutagen/silence-2s-PCM-16000-08-ID3v23.wav": ("artists", ["piman", "jzig"]),
    "mutagen/silence-2s-PCM-44100-16-ID3v23.wav": ("artists", ["piman", "jzig"]),
    # compressed WAV: mutagen computes the length as if the data were PCM (0.0008 s for a 5 s
    # MP3-in-WAV), so read_tags reports no duration rather than a wrong one
    "beets/mpeglayer3.wav": ("duration", None),
    "tinytag/adpcm.wav": ("duration", None),
    "tinytag/adpcm_no_byterate.wav": ("duration", None),
    "tinytag/gsm_6_10.wav": ("duration", None),
    "tinytag/mp3_audio.wav": ("duration", None),
}
