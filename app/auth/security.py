"""Password hashing (Argon2 via pwdlib), access tokens (JWT via PyJWT) and refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app import clock
from app.config import Settings
from app.models.enums import SessionKind

# Argon2id with OWASP's baseline parameters (19 MiB, 2 passes, 1 lane): one core for a few
# tens of milliseconds per hash, so that a sign-in leaves the other cores to the requests that
# write. Hashes made with other parameters (pwdlib's 64 MiB / 3 / 4 lanes) still verify.
_hasher = PasswordHash((Argon2Hasher(memory_cost=19_456, time_cost=2, parallelism=1),))
ALGORITHM = "HS256"
_MAX_ID = 2_147_483_647


# Hashes run one at a time per process by default (`PASSWORD_HASH_CONCURRENCY`): a storm of
# sign-ins queues here instead of taking every core from the requests that write.
_hash_slots = threading.BoundedSemaphore(1)


def configure_hashing(concurrency: int) -> None:
    global _hash_slots
    _hash_slots = threading.BoundedSemaphore(concurrency)


def hash_password(password: str) -> str:
    with _hash_slots:
        return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Argon2 verification. Never call it inside a database transaction: it would hold the
    transaction (and on SQLite the write lock) for the whole hash."""
    with _hash_slots:
        if not password_hash:
            # Spend the same time as a real check so that unknown users cannot be told apart.
            _hasher.verify(password, _DUMMY_HASH)
            return False
        return _hasher.verify(password, password_hash)


_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: int
    kind: SessionKind


def create_access_token(
    user_id: int, settings: Settings, *, session_id: int, kind: SessionKind
) -> tuple[str, datetime]:
    issued = clock.now()
    expires = issued + timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id),
        "sid": session_id,
        "kind": kind.value,
        "iat": issued,
        "exp": expires,
        "typ": "access",
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), expires


def decode_access_token(token: str, settings: Settings) -> AccessClaims | None:
    """The claims of a valid, unexpired access token, or None."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            # Expiry is checked against the service clock below, like every other timer.
            options={
                "require": ["sub", "exp", "iat", "sid", "kind"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "access":
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= clock.now().timestamp():
        return None
    try:
        user_id = int(claims["sub"])
        session_id = claims["sid"]
        kind = SessionKind(claims["kind"])
    except (TypeError, ValueError):
        return None
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        return None
    if not (0 < user_id <= _MAX_ID and 0 < session_id <= _MAX_ID):
        return None
    return AccessClaims(user_id=user_id, session_id=session_id, kind=kind)


def new_refresh_token() -> str:
    """An opaque refresh token: 256 random bits. Only its hash is stored."""
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
