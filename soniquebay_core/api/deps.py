"""Dependencies routes declare: the process runtime, a database connection and the library's generation."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from ..runtime import Runtime


async def get_runtime(request: Request) -> Runtime:  # async: FastAPI would hand a plain function to a thread
    return request.app.state.runtime


async def get_conn(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[AsyncConnection]:
    async with runtime.db.engine.connect() as conn:
        yield conn


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# "function" scope: the connection goes back to the pool when the route returns, not after a
# streamed body (a song, an album ZIP) has been sent
ConnDep = Annotated[AsyncConnection, Depends(get_conn, scope="function")]


GENERATION_READ = "soniquebay.generation"  # the request's scope holds it once read


async def get_generation(request: Request) -> Any:
    """The database's change marker, read once per request before anything else (``answers.py``; read
    already when ``KeptResponses`` looked for the request)."""
    if GENERATION_READ in request.scope:
        return request.scope[GENERATION_READ]
    return await request.app.state.answers.generation()


GenerationDep = Annotated[Any, Depends(get_generation)]
DbId = Annotated[int, Path(ge=1, le=2_147_483_647, description="an id (a 32-bit integer on every backend)")]
