"""Password hashing (Argon2 via pwdlib) and access tokens (JWT via PyJWT)."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt
from pwdlib import PasswordHash

from app import clock
from app.config import Settings

_hasher = PasswordHash.recommended()
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        # Spend the same time as a real check so that unknown users cannot be told apart.
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


_DUMMY_HASH = _hasher.hash("not-a-real-password")


def create_access_token(user_id: int, settings: Settings) -> tuple[str, datetime]:
    issued = clock.now()
    expires = issued + timedelta(minutes=settings.access_token_minutes)
    claims = {"sub": str(user_id), "iat": issued, "exp": expires, "typ": "access"}
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), expires


def decode_access_token(token: str, settings: Settings) -> int | None:
    """The user id in a valid, unexpired access token, or None."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            # Expiry is checked against the service clock below, like every other timer.
            options={"require": ["sub", "exp", "iat"], "verify_exp": False, "verify_iat": False},
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
    except (TypeError, ValueError):
        return None
    return user_id if 0 < user_id <= 2_147_483_647 else None
