"""Who is calling: the principal behind the bearer token, loaded once per request."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.cache import principal_cache, revocation_feed
from app.auth.errors import PasswordChangeRequired, StaffOnlySession
from app.auth.principal import Principal, load_principal
from app.auth.security import decode_access_token
from app.auth.sessions import session_alive
from app.config import Settings
from app.db import Database
from app.errors import Forbidden, Unauthorized
from app.models import AuthSession
from app.models.enums import SessionKind

_bearer = HTTPBearer(auto_error=False, description="登录接口返回的 access_token")


def _load_fresh(
    database: Database, user_id: int, session_id: int, kind: SessionKind
) -> Principal | None:
    # A short read of its own: on SQLite it must not begin the request's write transaction
    # (and take the write lock) before the endpoint runs.
    with database.session(write=False) as session:
        if not session_alive(session.get(AuthSession, session_id), user_id=user_id, kind=kind):
            return None
        return load_principal(session, user_id, kind, session_id)


# What a staff session that must change its password may still do.
PASSWORD_CHANGE_PATHS = frozenset({"/auth/password", "/auth/logout", "/me"})


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from the bearer token and its session; read from the database at most
    every few seconds, and dropped as soon as the revocation feed names the user.

    Runs in the event loop: a cached principal costs no worker thread and no query.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    settings: Settings = request.app.state.settings
    claims = decode_access_token(credentials.credentials, settings)
    if claims is None:
        raise Unauthorized("登录已失效，请重新登录", code="INVALID_TOKEN")
    database: Database = request.app.state.database
    await revocation_feed.maybe_poll(database)
    principal = principal_cache.get(claims.session_id)
    if principal is None:
        principal = await run_in_threadpool(
            _load_fresh, database, claims.user_id, claims.session_id, claims.kind
        )
        if principal is None:
            raise Unauthorized("登录已结束或账号已停用，请重新登录", code="INVALID_TOKEN")
        principal_cache.put(principal)
    structlog.contextvars.bind_contextvars(actor_id=claims.user_id)
    if principal.password_change_required:
        path = request.url.path.removeprefix(request.app.state.api_prefix)
        if path not in PASSWORD_CHANGE_PATHS:
            raise PasswordChangeRequired()
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def require_admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise Forbidden("仅系统管理员可执行此操作", code="ADMIN_ONLY")
    return principal


async def require_staff(principal: CurrentUser) -> Principal:
    if not (principal.is_admin or principal.is_coordinator):
        raise Forbidden("仅协调员或管理员可执行此操作", code="STAFF_ONLY")
    return principal


async def require_staff_session(principal: CurrentUser) -> Principal:
    """A session opened with username and password (whatever roles it carries)."""
    if principal.kind != SessionKind.STAFF:
        raise StaffOnlySession()
    return principal


async def require_volunteer(principal: CurrentUser) -> Principal:
    if principal.volunteer_id is None:
        raise Forbidden("请先注册成为志愿者", code="NOT_A_VOLUNTEER")
    return principal


# The guards are `async def`: they only read the principal, so they need no worker thread.
AdminUser = Annotated[Principal, Depends(require_admin)]
StaffUser = Annotated[Principal, Depends(require_staff)]
VolunteerUser = Annotated[Principal, Depends(require_volunteer)]
StaffSession = Annotated[Principal, Depends(require_staff_session)]
