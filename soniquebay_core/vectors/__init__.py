"""Track vectors: storing, indexing and querying them (the core's side of the vectors plugin).

A plugin makes vectors (``vectorize`` for tracks, ``embed_text`` for search
text); the core writes them to ``track_embeddings`` (the source of truth, one
model per track) and answers every question about them here:

- ``store``: the database's own kNN index beside ``track_embeddings``
  (sqlite-vec on SQLite, pgvector on PostgreSQL, or a streamed numpy scan when
  neither extension is available), detected at start and kept in step;
- ``index``: an in-memory float32 matrix of one model's vectors per process,
  refreshed incrementally in the background: exact search in milliseconds;
- ``similar``: similar tracks with a short "why" (``keys``: which keys mix), and radio;
- ``artists`` and ``gmm``: artist vectors, scenes (Gaussian-mixture clusters
  labelled by their dominant genres and tags) and similar artists;
- ``service``: one per process, tying these to the plugin host; ``api``: the routes.
"""
