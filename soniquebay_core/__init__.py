"""SoniqueBay core: the public API for plugin authors.

A plugin is a module with a ``MANIFEST = PluginManifest(...)`` constant and
functions decorated with ``@hookimpl`` (see ``hookspecs`` for the hooks),
named by an entry point in the ``soniquebay`` group.
"""
import pluggy

from .errors import PermanentPluginError, TransientPluginError
from .manifest import NetworkHost, PluginManifest, ResourceClass
from .schemas import AlbumArt, AlbumSnapshot, CoverCandidate, Embedding, TagInfo, TagWeight, TrackPatch, TrackSnapshot

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("soniquebay")

__all__ = [
    "AlbumArt", "AlbumSnapshot", "CoverCandidate", "Embedding", "NetworkHost", "PermanentPluginError",
    "PluginManifest", "ResourceClass", "TagInfo", "TagWeight", "TrackPatch", "TrackSnapshot",
    "TransientPluginError", "hookimpl",
]
