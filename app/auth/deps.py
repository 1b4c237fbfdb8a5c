"""Who is calling: the principal behind the bearer token, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from app.auth.cache import principal_cache, revocation_feed
from app.auth.errors import PasswordChangeRequired, StaffOnlySession
from app.auth.security import decode_access_token
from app.auth.sessions import session_alive
from app.config import Settings
from app.db import Database
from app.errors import Forbidden, Unauthorized
from app.models import AuthSession, OrgUnit, RoleGrant, User, Volunteer
from app.models.enums import AccountRole, SessionKind, VolunteerStatus

# Roles a consumer session (WeChat or the development phone login) never carries, even when
# the account holds them: coordinator and admin powers need a staff sign-in.
STAFF_ROLES = frozenset({AccountRole.COORDINATOR, AccountRole.ADMIN})


@dataclass(frozen=True)
class ScopeUnit:
    id: int
    path: str


@dataclass(frozen=True)
class VolunteerFacts:
    """What matching and acceptance need to know of the caller's volunteer profile."""

    id: int
    user_id: int
    lat: float
    lng: float
    service_radius_m: int
    status: VolunteerStatus

    @property
    def active(self) -> bool:
        return self.status == VolunteerStatus.ACTIVE


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    roles: frozenset[AccountRole]
    coordinator_units: tuple[ScopeUnit, ...] = ()
    volunteer: VolunteerFacts | None = None
    phone: str | None = None
    # Stations this user is a grid worker (网格员) of: they may order for its residents.
    grid_units: tuple[ScopeUnit, ...] = ()
    kind: SessionKind = SessionKind.STAFF
    session_id: int | None = None
    password_change_required: bool = False

    @property
    def volunteer_id(self) -> int | None:
        return self.volunteer.id if self.volunteer is not None else None

    @property
    def volunteer_active(self) -> bool:
        return self.volunteer is not None and self.volunteer.active

    @property
    def is_admin(self) -> bool:
        return AccountRole.ADMIN in self.roles

    @property
    def is_coordinator(self) -> bool:
        return bool(self.coordinator_units)

    def has(self, role: AccountRole) -> bool:
        return role in self.roles

    def covers(self, path: str) -> bool:
        """Whether a unit with this path lies in a subtree this principal coordinates."""
        return any(path.startswith(unit.path) for unit in self.coordinator_units)

    def grid_worker_of(self, path: str) -> bool:
        """Whether this user is a grid worker of the station with this path."""
        return any(path.startswith(unit.path) for unit in self.grid_units)

    def manages(self, path: str) -> bool:
        """Admins manage everything; coordinators their subtrees."""
        return self.is_admin or self.covers(path)


@cache
def _principal_statement() -> Select:
    return (
        select(
            User.name,
            User.phone,
            User.is_active,
            User.password_change_required,
            RoleGrant.role,
            RoleGrant.org_unit_id,
            OrgUnit.path,
            Volunteer.id.label("volunteer_id"),
            Volunteer.lat,
            Volunteer.lng,
            Volunteer.service_radius_m,
            Volunteer.status,
        )
        .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(OrgUnit, OrgUnit.id == RoleGrant.org_unit_id)
        .outerjoin(Volunteer, Volunteer.user_id == User.id)
        .where(User.id == bindparam("user_id"))
    )


def load_principal(
    session: Session,
    user_id: int,
    kind: SessionKind = SessionKind.STAFF,
    session_id: int | None = None,
) -> Principal | None:
    """The user, their grants and their volunteer profile, in one query.

    A consumer principal leaves out the staff roles (and so every coordinator scope)."""
    rows = session.execute(_principal_statement(), {"user_id": user_id}).all()
    if not rows or not rows[0].is_active:
        return None
    roles: set[AccountRole] = set()
    units: list[ScopeUnit] = []
    grid: list[ScopeUnit] = []
    for row in rows:
        if row.role is None:
            continue
        role = AccountRole(row.role)
        if kind == SessionKind.CONSUMER and role in STAFF_ROLES:
            continue
        roles.add(role)
        if role == AccountRole.COORDINATOR and row.org_unit_id is not None:
            units.append(ScopeUnit(row.org_unit_id, row.path))
        if role == AccountRole.GRID_WORKER and row.org_unit_id is not None:
            grid.append(ScopeUnit(row.org_unit_id, row.path))
    first = rows[0]
    volunteer = None
    if AccountRole.VOLUNTEER in roles and first.volunteer_id is not None:
        volunteer = VolunteerFacts(
            id=first.volunteer_id,
            user_id=user_id,
            lat=first.lat,
            lng=first.lng,
            service_radius_m=first.service_radius_m,
            status=VolunteerStatus(first.status),
        )
    return Principal(
        user_id=user_id,
        name=first.name,
        phone=first.phone,
        roles=frozenset(roles),
        coordinator_units=tuple(sorted(set(units), key=lambda u: u.path)),
        volunteer=volunteer,
        grid_units=tuple(sorted(set(grid), key=lambda u: u.path)),
        kind=kind,
        session_id=session_id,
        password_change_required=bool(first.password_change_required) and kind == SessionKind.STAFF,
    )


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
