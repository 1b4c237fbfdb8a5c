"""The principal: who a session speaks for, its roles, scopes and volunteer profile, loaded in one
query. The FastAPI dependencies that read it from the bearer token live in app.auth.deps."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from app.models import OrgUnit, RoleGrant, User, Volunteer
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
