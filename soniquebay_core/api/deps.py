"""Dependencies routes declare: the process runtime and a database connection."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from ..runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_conn(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[AsyncConnection]:
    async with runtime.db.engine.connect() as conn:
        yield conn


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# "function" scope: the connection goes back to the pool when the route returns, not after a
# streamed body (a song, an album ZIP) has been sent
ConnDep = Annotated[AsyncConnection, Depends(get_conn, scope="function")]
DbId = Annotated[int, Path(ge=1, le=2_147_483_647, description="an id (a 32-bit integer on every backend)")]
