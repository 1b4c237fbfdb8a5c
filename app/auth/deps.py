"""Who is calling: the principal behind the bearer token, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.security import decode_access_token
from app.config import Settings
from app.db import SessionDep
from app.errors import Forbidden, Unauthorized
from app.models import OrgUnit, RoleGrant, User, Volunteer
from app.models.enums import AccountRole, VolunteerStatus


@dataclass(frozen=True)
class ScopeUnit:
    id: int
    path: str


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    roles: frozenset[AccountRole]
    coordinator_units: tuple[ScopeUnit, ...] = ()
    volunteer_id: int | None = None
    volunteer_active: bool = False

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

    def manages(self, path: str) -> bool:
        """Admins manage everything; coordinators their subtrees."""
        return self.is_admin or self.covers(path)


def load_principal(session: Session, user_id: int) -> Principal | None:
    rows = session.execute(
        select(
            User.name,
            User.is_active,
            RoleGrant.role,
            RoleGrant.org_unit_id,
            OrgUnit.path,
            Volunteer.id,
            Volunteer.status,
        )
        .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(OrgUnit, OrgUnit.id == RoleGrant.org_unit_id)
        .outerjoin(Volunteer, Volunteer.user_id == User.id)
        .where(User.id == user_id)
    ).all()
    if not rows or not rows[0].is_active:
        return None
    roles: set[AccountRole] = set()
    units: list[ScopeUnit] = []
    for row in rows:
        if row.role is None:
            continue
        role = AccountRole(row.role)
        roles.add(role)
        if role == AccountRole.COORDINATOR and row.org_unit_id is not None:
            units.append(ScopeUnit(row.org_unit_id, row.path))
    first = rows[0]
    volunteer_id = first.id if AccountRole.VOLUNTEER in roles else None
    return Principal(
        user_id=user_id,
        name=first.name,
        roles=frozenset(roles),
        coordinator_units=tuple(sorted(set(units), key=lambda u: u.path)),
        volunteer_id=volunteer_id,
        volunteer_active=volunteer_id is not None and first.status == VolunteerStatus.ACTIVE,
    )


_bearer = HTTPBearer(auto_error=False, description="登录接口返回的 access_token")


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized()
    settings: Settings = request.app.state.settings
    user_id = decode_access_token(credentials.credentials, settings)
    if user_id is None:
        raise Unauthorized("登录已失效，请重新登录", code="INVALID_TOKEN")
    principal = load_principal(session, user_id)
    if principal is None:
        raise Unauthorized("账号不存在或已停用", code="INVALID_TOKEN")
    request.state.actor_id = user_id
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: CurrentUser) -> Principal:
    if not principal.is_admin:
        raise Forbidden("仅系统管理员可执行此操作", code="ADMIN_ONLY")
    return principal


def require_staff(principal: CurrentUser) -> Principal:
    if not (principal.is_admin or principal.is_coordinator):
        raise Forbidden("仅协调员或管理员可执行此操作", code="STAFF_ONLY")
    return principal


def require_volunteer(principal: CurrentUser) -> Principal:
    if principal.volunteer_id is None:
        raise Forbidden("请先注册成为志愿者", code="NOT_A_VOLUNTEER")
    return principal


AdminUser = Annotated[Principal, Depends(require_admin)]
StaffUser = Annotated[Principal, Depends(require_staff)]
VolunteerUser = Annotated[Principal, Depends(require_volunteer)]
