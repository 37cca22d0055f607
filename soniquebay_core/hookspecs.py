"""The hooks a SoniqueBay plugin can implement.

Implement a hook with ``@soniquebay_core.hookimpl`` on a module-level function
of the plugin's entry-point module, taking any subset of the arguments below.
``config`` is always the implementing plugin's own settings block
(``[plugins.<id>]`` in the config file) as a dict: each plugin sees only its own.

The core never calls ``pm.hook.<name>()`` directly: it walks the
implementations itself (see ``dispatch.py``) so that one plugin failing on one
file is recorded and the others still run. Contract for every hook: return
``None`` when there is nothing to say, raise when broken (see ``errors.py``
for transient vs permanent failures).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter

    from .schemas import AlbumArt, AlbumSnapshot, CoverCandidate, Embedding, TagInfo, TrackPatch, TrackSnapshot

hookspec = pluggy.HookspecMarker("soniquebay")


@hookspec
def ignore_entries(folder: str, files: list[str], folders: list[str], config: dict) -> dict[str, bool] | None:
    """Decide which entries of one folder the scanner skips.

    Called in: the scanning process (its walking thread), once per folder the
    walk lists, with the names of all the folder's files and of all its
    subfolders, before any file is opened or even stat'ed. Must be cheap (no
    I/O beyond the folder itself): it runs for every folder of every scan.
    Return a dict of the names you have an opinion on, ``True`` to skip,
    ``False`` to keep whatever later plugins say; ``None`` for no opinion on
    any. For each name the first plugin with an opinion decides; the built-in
    ``ignore`` plugin answers last. Asked per folder, not per entry: on a
    10,000-file library one call per entry cost as much as the rest of a rescan.
    """


@hookspec(firstresult=True)
def read_tags(path: str, config: dict) -> TagInfo | None:
    """Read the tags and stream properties of one audio file.

    Called in: the scanning process, once per new or changed file, in a worker
    thread. Return ``None`` when the file is not a format this plugin reads (the
    next reader is tried); raise when the file is of that format but broken (it
    is recorded as a file error). The built-in ``tags`` plugin (mutagen) answers last.
    """


@hookspec
def on_file_discovered(track: TrackSnapshot, is_new: bool, config: dict) -> None:
    """Told that a new or changed file was written to the library.

    Called in: the scanning process, after the batch holding the track is
    committed. An event only: must be cheap, no network, no heavy imports.
    Plugins do not start work from here; the core schedules stages from the
    database. The return value is ignored.
    """


@hookspec
def enrich_track(track: TrackSnapshot, config: dict) -> TrackPatch | None:
    """Find more about one track (tempo, key, genres, tags, audio features).

    Called in: a job on the plugin's queue (a worker process, or the embedded
    pool), once per track and plugin, again when the plugin's version changes.
    Return a ``TrackPatch``; the core merges it. ``None`` means nothing was found
    and the stage is still done. Must be idempotent. ``async def`` is allowed.
    """


@hookspec(firstresult=True)
def fetch_cover(album: AlbumSnapshot, config: dict) -> AlbumArt | CoverCandidate | None:
    """Find a cover image for one album.

    Called in: a job on the plugin's queue. Sources are tried in the user's
    configured order and the first non-``None`` answer wins. ``async def`` is
    allowed. ``None`` means this source has no cover for the album. An
    ``AlbumArt`` (a ``CoverCandidate`` with an ``artist_image``) also brings the
    album artist's picture.
    """


@hookspec(firstresult=True)
def vectorize(track: TrackSnapshot, config: dict) -> Embedding | None:
    """Turn one track into a vector for similarity and hybrid search.

    Called in: a job on the plugin's queue (usually the heavy one). Return an
    ``Embedding`` naming the model that made it and the ``input_hash`` of what
    was embedded. ``track.embedding_hashes`` holds the hashes of the track's
    stored vectors: return ``None`` when the stored one is still right (or when
    this plugin cannot embed the track). ``async def`` is allowed. The stage
    runs again when the track changes (rescan, or a patch of another stage).
    """


@hookspec(firstresult=True)
def embed_text(text: str, config: dict) -> Embedding | None:
    """A query vector for ``text``, in the same space as the plugin's track vectors.

    Called in: the API process, for semantic and hybrid search, in a worker
    thread (not ``async``). The core finds the nearest tracks among the
    vectors of the returned ``model``. ``None``: no opinion (no vectors, then).
    """


@hookspec
def similar_artists(artist: str, config: dict) -> list[tuple[str, float]] | None:
    """Artists like ``artist`` from an outside source (e.g. Last.fm), as (name, similarity 0..1), best first.

    Called in: the API process (``/api/vectors/artists/{id}/similar``), in a
    worker thread. The core merges every answer with its own neighbours from
    the library's vectors (reciprocal-rank fusion) and keeps the names found in
    the library. Return ``None`` when the source knows nothing of the artist.
    """


@hookspec
def register_api_routes(router: APIRouter, config: dict) -> None:
    """Add the plugin's own HTTP routes.

    Called in: the API process, once at start-up, for each enabled plugin, with
    a router of its own that the core mounts at ``/api/plugins/<id>/`` behind
    sign-in. Add routes with ``@router.get(...)``; return nothing.
    """


@hookspec
def register_commands(cli: click.Group, config: dict) -> None:
    """Add sub-commands to the ``soniquebay`` command line.

    Called in: the command-line process, once at start-up, before arguments are
    parsed. Add commands with ``cli.add_command``; return nothing.
    """
