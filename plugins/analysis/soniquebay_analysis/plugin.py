"""The ``analysis`` plugin: tempo, key and audio features for every track (heavy: a worker's CPU).

Settings (``[plugins.analysis]``): ``excerpt_seconds`` (60), ``sample_rate``
(11025), ``min_pulse_clarity`` (0.3), ``min_key_confidence`` (0.5),
``silence_dbfs`` (-60). See the README for what each feature means.
"""
from __future__ import annotations

from soniquebay_core import PluginManifest, hookimpl
from soniquebay_core.errors import PermanentPluginError, TransientPluginError
from soniquebay_core.manifest import ResourceClass
from soniquebay_core.schemas import TrackPatch, TrackSnapshot

MANIFEST = PluginManifest(
    id="analysis",
    version="1.0.0",
    description="BPM, musical key (and Camelot), loudness, energy, danceability and brightness from the audio.",
    resource_class=ResourceClass.HEAVY,
    max_concurrency=1,
    timeout_s=120,
    retries=1,
    min_memory_mb=350,
    preload=("numpy", "scipy.fft", "scipy.signal", "scipy.ndimage", "soundfile", "soxr",
             "soniquebay_analysis.analyse"),
)


@hookimpl
def enrich_track(track: TrackSnapshot, config: dict) -> TrackPatch:
    # Imported here: every process loads this module (the CLI, the server), only workers
    # analyse; scipy alone costs ~0.8 s and tens of MB (the manifest's preload warms workers).
    from .analyse import Options, analyse_file

    options = Options.from_config(config)
    try:
        return analyse_file(track.path, options, duration_hint=track.duration).patch()
    except FileNotFoundError as exc:  # an unmounted share comes back; a rescan marks truly gone files
        raise TransientPluginError(f"cannot read {track.path}: {exc}") from exc
    except (OSError, RuntimeError, ValueError) as exc:  # corrupt or undecodable: the same bytes fail again
        raise PermanentPluginError(f"cannot analyse {track.path}: {exc}") from exc
