"""Logging in and out, who am I, and API tokens."""
from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from .. import auth
from .deps import ConnDep, DbId
from .security import SESSION_COOKIE, UserDep

router = APIRouter(prefix="/api", tags=["accounts"])


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)


@router.post("/auth/login")
async def login(request: Request, response: Response, conn: ConnDep, body: Login) -> dict:
    """A session for the web interface (cookie); scripts use tokens instead."""
    throttle = request.app.state.login_throttle
    client = request.client.host if request.client else "?"
    throttle.check(client, body.name)
    principal = await auth.check_password(conn, body.name, body.password)
    if principal is None:
        throttle.failed(client, body.name)
        raise HTTPException(401, "wrong name or password")
    token = await auth.issue_token(conn, principal.user_id, "web session", kind="session",
                                   lifetime=timedelta(days=auth.SESSION_DAYS))
    await conn.commit()
    response.set_cookie(SESSION_COOKIE, token, max_age=auth.SESSION_DAYS * 86400, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return {"name": principal.name, "role": principal.role}


@router.post("/auth/logout")
async def logout(request: Request, response: Response, conn: ConnDep, user: UserDep) -> dict:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await auth.end_session(conn, token)
        await conn.commit()
    response.delete_cookie(SESSION_COOKIE)
    return {"name": user.name, "logged_out": True}


@router.get("/auth/me")
async def me(user: UserDep) -> dict:
    return {"id": user.user_id, "name": user.name, "role": user.role}


@router.get("/tokens")
async def my_tokens(conn: ConnDep, user: UserDep) -> list[dict]:
    return await auth.list_tokens(conn, None if user.admin else user.user_id)


@router.post("/tokens", status_code=201)
async def create_token(conn: ConnDep, user: UserDep, body: TokenRequest) -> dict:
    """A new API token for the caller; it is shown once."""
    token = await auth.issue_token(conn, user.user_id, body.name)
    await conn.commit()
    return {"id": await auth.token_id_of(conn, token), "name": body.name, "token": token}


@router.delete("/tokens/{token_id}")
async def revoke(conn: ConnDep, user: UserDep, token_id: DbId) -> dict:
    if not await auth.revoke_token(conn, token_id, None if user.admin else user.user_id):
        raise HTTPException(404, f"no token {token_id}")
    await conn.commit()
    return {"revoked": token_id}
