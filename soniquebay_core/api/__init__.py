"""The REST API (FastAPI), served by ``soniquebay serve``.

    app.py      create_app(): lifespan opens the runtime (database, jobs, events); JSON errors
    deps.py     what routes receive: the runtime, a database connection
    library.py  tracks, albums, artists: lists with pagination, filters and sorting; details
    stream.py   the audio file of a track, with HTTP ranges and caching headers
    scans.py    start, watch and cancel scans
    health.py   /api/health and /metrics (Prometheus text)
"""
