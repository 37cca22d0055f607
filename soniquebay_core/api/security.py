"""Who is calling: a bearer token (scripts) or a session cookie (the web interface).

Every route except health and login requires a user; ``AdminDep`` routes
(scans, settings, plugins, deletes, batch writes) require the admin role.
"""
from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ..auth import Principal, count_users, principal_for, use_recorded
from .deps import GenerationDep

SESSION_COOKIE = "sb_session"
TOUCH_EVERY_S = 60.0  # last_used_at is a write (on SQLite, the one write lock): at most once a minute per token
_touched: dict[str, float] = {}


def _touch_due(token: str) -> bool:
    return time.monotonic() - _touched.get(token, -TOUCH_EVERY_S) >= TOUCH_EVERY_S


def _due_touch(token: str) -> bool:
    """Whether this use of ``token`` must be recorded; if so, the next minute's uses need not be."""
    if not _touch_due(token):
        return False
    now = time.monotonic()
    if len(_touched) > 10_000:  # bounded: forget everyone, each token is touched once more
        _touched.clear()
    _touched[token] = now
    return True


def principal_kept(answers, generation, token: str) -> Principal | None:
    """Who ``token`` belongs to, when known under ``generation`` and neither expired nor due to be recorded as
    used; None: ask the database (``current_user``)."""
    if _touch_due(token):
        return None
    principal = answers.get(generation, ("principal", token))
    return principal if principal is not None and not principal.expired() else None


async def _record_use(answers, conn, token: str) -> None:
    """``last_used_at``, written without dropping the answers kept (the track columns take seconds to read
    again); when the database is busy, the next request records it."""
    recorded = await answers.write_unseen(use_recorded(token))
    if recorded is None:
        await conn.execute(use_recorded(token))
        await conn.commit()
    elif not recorded:
        _touched.pop(token, None)


async def _looked_up(answers, token: str) -> tuple[Principal | None, int]:
    async with answers.engine.connect() as conn:
        return await principal_for(conn, token, touch=False), 64


async def current_user(request: Request, generation: GenerationDep) -> Principal:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE)
    answers = request.app.state.answers
    if token:
        if _due_touch(token):  # this request records the use (the next minute's need not)
            async with answers.engine.connect() as conn:
                principal = await principal_for(conn, token, touch=False)
                if principal is not None:
                    await _record_use(answers, conn, token)
            if principal is not None:
                answers.put(generation, ("principal", token), principal)
        else:
            # kept until the next commit anywhere: a revoked token, a removed user are refused at once. Looked up
            # once for the requests asking meanwhile: a client's 20 parallel requests under a new marker took 20
            # pooled connections (a thread and a page cache each, kept)
            principal = await answers.once(generation, ("principal", token), lambda: _looked_up(answers, token))
        if principal is not None and not principal.expired():
            return principal
        raise HTTPException(401, "invalid or expired token")
    async with answers.engine.connect() as conn:
        nobody = await count_users(conn) == 0
    if nobody:
        raise HTTPException(401, "no user exists yet: create the first admin with "
                                 "`soniquebay user add NAME --role admin --password-stdin`")
    raise HTTPException(401, "authentication required: send 'Authorization: Bearer <token>' or log in")


async def admin_user(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    if not user.admin:
        raise HTTPException(403, "this needs the admin role")
    return user


UserDep = Annotated[Principal, Depends(current_user)]
AdminDep = Annotated[Principal, Depends(admin_user)]


class LoginThrottle:
    """At most ``attempts`` failed logins per client and name within ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 60.0):
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures

    def check(self, client: str, name: str) -> None:
        failures = self._recent((client, name))
        if len(failures) >= self.attempts:
            wait = int(failures[0] + self.window - time.monotonic()) + 1
            raise HTTPException(429, f"too many failed logins; try again in {wait} s")

    def failed(self, client: str, name: str) -> None:
        self._recent((client, name)).append(time.monotonic())
