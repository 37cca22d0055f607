"""The vector half of hybrid search, faked: a fixed answer per query, from the plugin's settings."""
from soniquebay_core import PluginManifest, hookimpl

MANIFEST = PluginManifest(id="vector_search", version="1.0.0")


@hookimpl
def search_tracks(query, limit, config):
    return config.get("answers", {}).get(query)
