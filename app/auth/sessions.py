"""Sessions: one per sign-in, with rotating refresh tokens and immediate revocation.

A session is a refresh-token family. Each refresh exchanges the presented token for a new one
(compare-and-set on `rotated_at`, so two concurrent exchanges of one token cannot both win);
presenting a token that was already exchanged means it was copied, and the whole session is
revoked. Access tokens name their session (`sid`): a revoked session's access tokens stop
working at once in this process and within the revocation feed's bound in every other one
(`app.auth.cache`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app import clock
from app.auth.cache import forget_principal
from app.auth.errors import (
    AccountDisabled,
    InvalidRefreshToken,
    RefreshTokenReused,
    SessionEnded,
)
from app.auth.security import create_access_token, new_refresh_token, refresh_token_hash
from app.config import Settings
from app.models import AuthSession, RefreshToken, User
from app.models.enums import SessionKind


class RevokeReason:
    LOGOUT = "logout"
    REFRESH_REUSED = "refresh_reused"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"
    ROLES_CHANGED = "roles_changed"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    ACCOUNT_MERGED = "account_merged"


@dataclass(frozen=True)
class IssuedTokens:
    session_id: int
    user_id: int
    kind: SessionKind
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def session_lifetime(kind: SessionKind, settings: Settings) -> timedelta:
    if kind == SessionKind.STAFF:
        return timedelta(hours=settings.staff_session_hours)
    return timedelta(days=settings.consumer_session_days)


def _issue(session: Session, row: AuthSession, settings: Settings) -> IssuedTokens:
    refresh = new_refresh_token()
    session.add(RefreshToken(session_id=row.id, token_hash=refresh_token_hash(refresh)))
    session.flush()
    access, expires = create_access_token(
        row.user_id, settings, session_id=row.id, kind=SessionKind(row.kind)
    )
    return IssuedTokens(
        session_id=row.id,
        user_id=row.user_id,
        kind=SessionKind(row.kind),
        access_token=access,
        access_expires_at=min(expires, row.expires_at),
        refresh_token=refresh,
        refresh_expires_at=row.expires_at,
    )


# What is kept: ended sessions (and their tokens) for 30 days after they end, spent refresh
# tokens of live sessions for 7 days after they were exchanged (a copy replayed later is just
# an unknown token). Pruned by sign-ins, at most once an hour per process.
KEEP_ENDED = timedelta(days=30)
KEEP_SPENT = timedelta(days=7)
PRUNE_EVERY_SECONDS = 3600.0
_pruned_at = float("-inf")


def prune(session: Session) -> None:
    now = clock.now()
    ended = select(AuthSession.id).where(
        (AuthSession.expires_at < now - KEEP_ENDED) | (AuthSession.revoked_at < now - KEEP_ENDED)
    )
    session.execute(delete(RefreshToken).where(RefreshToken.session_id.in_(ended)))
    session.execute(delete(RefreshToken).where(RefreshToken.rotated_at < now - KEEP_SPENT))
    session.execute(delete(AuthSession).where(AuthSession.id.in_(ended)))


def _maybe_prune(session: Session) -> None:
    global _pruned_at
    if time.monotonic() - _pruned_at >= PRUNE_EVERY_SECONDS:
        _pruned_at = time.monotonic()
        prune(session)


def open_session(
    *, session: Session, user_id: int, kind: SessionKind, settings: Settings
) -> IssuedTokens:
    _maybe_prune(session)
    now = clock.now()
    row = AuthSession(
        user_id=user_id,
        kind=kind,
        created_at=now,
        expires_at=now + session_lifetime(kind, settings),
    )
    session.add(row)
    session.flush()
    return _issue(session, row, settings)


def rotate(*, session: Session, refresh_token: str, settings: Settings) -> IssuedTokens:
    """Exchange a refresh token for a new pair. On reuse the session is revoked (flushed) and
    `RefreshTokenReused` raised: the caller must commit before passing the error on."""
    now = clock.now()
    found = session.execute(
        select(RefreshToken.id, RefreshToken.rotated_at, RefreshToken.session_id).where(
            RefreshToken.token_hash == refresh_token_hash(refresh_token)
        )
    ).one_or_none()
    if found is None:
        raise InvalidRefreshToken()
    row = session.get(AuthSession, found.session_id)
    assert row is not None
    if row.revoked_at is not None or row.expires_at <= now:
        raise SessionEnded()
    claimed = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == found.id, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if found.rotated_at is not None or claimed != 1:
        revoke_session(session=session, auth_session=row, reason=RevokeReason.REFRESH_REUSED)
        raise RefreshTokenReused()
    user_active = session.scalar(select(User.is_active).where(User.id == row.user_id))
    if not user_active:
        raise AccountDisabled()
    row.refreshed_at = now
    return _issue(session, row, settings)


def revoke_session(*, session: Session, auth_session: AuthSession, reason: str) -> None:
    if auth_session.revoked_at is None:
        auth_session.revoked_at = clock.now()
        auth_session.revoked_reason = reason
        session.flush()
    forget_principal(session, auth_session.user_id, session_id=auth_session.id)


def end_user_sessions(
    *, session: Session, user_id: int, reason: str, keep_session_id: int | None = None
) -> int:
    """Revoke every live session of the user (but `keep_session_id`); returns how many."""
    query = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
    )
    if keep_session_id is not None:
        query = query.where(AuthSession.id != keep_session_id)
    ended = session.execute(query).rowcount  # type: ignore[attr-defined]
    forget_principal(session, user_id)
    return int(ended or 0)


def session_alive(row: AuthSession | None, *, user_id: int, kind: SessionKind) -> bool:
    return (
        row is not None
        and row.user_id == user_id
        and row.kind == kind
        and row.revoked_at is None
        and row.expires_at > clock.now()
    )
