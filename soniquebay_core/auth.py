"""Users, passwords and tokens: what the API and the command line share.

Passwords are hashed with Argon2id. A token (for scripts, or a browser
session) is 32 random bytes shown once; only its SHA-256 is stored, so a
leaked database does not leak working tokens.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.sql.dml import Update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from .errors import SoniqueBayError
from .models import ApiToken, User

ROLES = ("admin", "reader")
SESSION_DAYS = 30
_hasher = PasswordHasher()


class AuthError(SoniqueBayError):
    pass


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user, through a token or session."""

    user_id: int
    name: str
    role: str
    expires_at: datetime | None = field(default=None, compare=False)  # when the token stops being valid

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at < (now or datetime.now(timezone.utc))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def add_user(conn: AsyncConnection, name: str, password: str, role: str) -> int:
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AuthError("a password needs at least 8 characters")
    if not name.strip():
        raise AuthError("a user needs a name")
    try:
        return (await conn.execute(User.__table__.insert().values(
            name=name.strip(), password_hash=_hasher.hash(password), role=role).returning(User.id))).scalar_one()
    except IntegrityError:
        raise AuthError(f"a user named {name!r} already exists") from None


async def count_users(conn: AsyncConnection) -> int:
    return (await conn.execute(select(func.count()).select_from(User))).scalar_one()


async def list_users(conn: AsyncConnection) -> list[dict]:
    rows = await conn.execute(select(User.id, User.name, User.role, User.added_at).order_by(User.name))
    return [dict(r._mapping) for r in rows]


async def remove_user(conn: AsyncConnection, name: str) -> bool:
    return bool((await conn.execute(delete(User).where(User.name == name))).rowcount)


async def check_password(conn: AsyncConnection, name: str, password: str) -> Principal | None:
    row = (await conn.execute(select(User.id, User.name, User.role, User.password_hash)
                              .where(User.name == name))).first()
    if row is None:
        _hasher.hash(password)  # same work as a real check: no timing hint that the name is unknown
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return Principal(row.id, row.name, row.role)


async def issue_token(conn: AsyncConnection, user_id: int, name: str, kind: str = "api",
                      lifetime: timedelta | None = None) -> str:
    token = f"sb_{secrets.token_urlsafe(32)}"
    expires = datetime.now(timezone.utc) + lifetime if lifetime else None
    await conn.execute(ApiToken.__table__.insert().values(user_id=user_id, name=name, kind=kind,
                                                          token_hash=_digest(token), expires_at=expires))
    return token


async def token_id_of(conn: AsyncConnection, token: str) -> int | None:
    """The id under which a token is listed and revoked."""
    return await conn.scalar(select(ApiToken.id).where(ApiToken.token_hash == _digest(token)))


async def principal_for(conn: AsyncConnection, token: str, touch: bool = True) -> Principal | None:
    """Who a valid token belongs to; ``touch`` records the use (``last_used_at``), a write."""
    now = datetime.now(timezone.utc)
    row = (await conn.execute(
        select(ApiToken.id, ApiToken.expires_at, User.id.label("user_id"), User.name, User.role)
        .join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == _digest(token)))).first()
    if row is None:
        return None
    expires = row.expires_at
    principal = Principal(row.user_id, row.name, row.role,
                          expires if expires is None or expires.tzinfo else expires.replace(tzinfo=timezone.utc))
    if principal.expired(now):
        return None
    if touch:
        await conn.execute(use_recorded(token, now))
    return principal


def use_recorded(token: str, now: datetime | None = None) -> Update:
    """The statement recording that ``token`` was used (``last_used_at``)."""
    return update(ApiToken).where(ApiToken.token_hash == _digest(token))\
        .values(last_used_at=now or datetime.now(timezone.utc))


async def list_tokens(conn: AsyncConnection, user_id: int | None = None) -> list[dict]:
    query = select(ApiToken.id, ApiToken.name, ApiToken.kind, User.name.label("user"), ApiToken.added_at,
                   ApiToken.last_used_at, ApiToken.expires_at).join(User, User.id == ApiToken.user_id)\
        .where(ApiToken.kind == "api").order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def revoke_token(conn: AsyncConnection, token_id: int, user_id: int | None = None) -> bool:
    query = delete(ApiToken).where(ApiToken.id == token_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return bool((await conn.execute(query)).rowcount)


async def end_session(conn: AsyncConnection, token: str) -> None:
    await conn.execute(delete(ApiToken).where(ApiToken.token_hash == _digest(token)))
