"""Account administration: staff accounts, granting and revoking roles, deactivation. The
lookups and grants sign-in needs too are in app.auth.users."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from app.accounts.errors import LastAdmin, RoleGrantNotFound, UsernameTaken
from app.auth.security import hash_password
from app.auth.sessions import RevokeReason, end_user_sessions
from app.auth.users import ensure_role, get_user, user_by_phone
from app.errors import BadRequest
from app.models import OrgUnit, RoleGrant, User
from app.models.enums import SCOPED_ROLES, AccountRole, OrgLevel
from app.org_units.errors import OrgUnitNotFound
from app.org_units.service import in_subtree


def create_staff_user(
    *,
    session: Session,
    name: str,
    username: str,
    password: str,
    phone: str | None = None,
    password_hash: str | None = None,
    must_change_password: bool = False,
) -> User:
    """A staff account. Hash the password before the write transaction begins and pass
    `password_hash` (hashing takes tens of milliseconds of CPU); `password` is for scripts.
    Accounts an admin creates must change their password at first sign-in."""
    taken = session.scalar(select(User.id).where(User.username == username))
    if taken is not None:
        raise UsernameTaken()
    if phone is not None and user_by_phone(session, phone) is not None:
        raise UsernameTaken("该手机号已被其他账号使用", code="PHONE_TAKEN")
    user = User(
        name=name,
        username=username,
        phone=phone,
        password_hash=password_hash or hash_password(password),
        password_change_required=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def grant_role(
    *, session: Session, user_id: int, role: AccountRole, org_unit_id: int | None
) -> RoleGrant:
    get_user(session=session, user_id=user_id)
    if role == AccountRole.VOLUNTEER:
        raise BadRequest("志愿者身份须由本人注册志愿者资料获得", code="VOLUNTEER_BY_REGISTRATION")
    if role == AccountRole.COORDINATOR:
        if org_unit_id is None or session.get(OrgUnit, org_unit_id) is None:
            raise OrgUnitNotFound("协调员必须指定所属单位")
    elif role == AccountRole.GRID_WORKER:
        unit = session.get(OrgUnit, org_unit_id) if org_unit_id is not None else None
        if unit is None:
            raise OrgUnitNotFound("网格员必须指定所属村(社区)实践站")
        if unit.level != OrgLevel.VILLAGE:
            raise BadRequest("网格员只能属于村(社区)实践站", code="GRID_WORKER_NOT_AT_STATION")
    else:
        org_unit_id = None
    grant = ensure_role(session=session, user_id=user_id, role=role, org_unit_id=org_unit_id)
    # A role change ends the user's sessions everywhere: they sign in again with what they
    # now hold.
    end_user_sessions(session=session, user_id=user_id, reason=RevokeReason.ROLES_CHANGED)
    return grant


def revoke_role(*, session: Session, user_id: int, grant_id: int) -> None:
    grant = session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user_id:
        raise RoleGrantNotFound()
    if grant.role == AccountRole.ADMIN:
        _keep_an_admin(session, grant_id=grant.id)
    session.delete(grant)
    session.flush()
    end_user_sessions(session=session, user_id=user_id, reason=RevokeReason.ROLES_CHANGED)


def deactivate(*, session: Session, user_id: int) -> User:
    user = get_user(session=session, user_id=user_id)
    _keep_an_admin(session, user_id=user_id)
    user.is_active = False
    session.flush()
    end_user_sessions(session=session, user_id=user_id, reason=RevokeReason.DEACTIVATED)
    return user


def _keep_an_admin(
    session: Session, *, user_id: int | None = None, grant_id: int | None = None
) -> None:
    """Refuse to take away the last active admin (revoking the grant `grant_id`, or
    deactivating `user_id`): nobody could grant, reset or reinstate anything after it. The
    admin grants are locked first, so two admins removing each other at once cannot both
    succeed."""
    grants = session.execute(
        select(RoleGrant.id, RoleGrant.user_id)
        .where(RoleGrant.role == AccountRole.ADMIN)
        .order_by(RoleGrant.id)
        .with_for_update()
    ).all()
    remaining = {holder for gid, holder in grants if gid != grant_id and holder != user_id}
    if len(remaining) == len({holder for _, holder in grants}):
        return  # no admin is leaving
    active = session.scalar(
        select(func.count(User.id)).where(User.id.in_(remaining), User.is_active.is_(True))
    )
    if not active:
        raise LastAdmin()


def unit_staff(
    *,
    session: Session,
    unit: OrgUnit,
    role: AccountRole | None,
    after_id: int | None,
    limit: int,
) -> Sequence[Row[RoleGrant, User, OrgUnit]]:
    """The coordinator and grid-worker grants of the unit and every unit under it, with their
    holders and units, in grant order (`limit + 1` rows, for the page's cursor)."""
    roles = [role] if role is not None else sorted(SCOPED_ROLES)
    query = (
        select(RoleGrant, User, OrgUnit)
        .join(User, User.id == RoleGrant.user_id)
        .join(OrgUnit, OrgUnit.id == RoleGrant.org_unit_id)
        .where(in_subtree(OrgUnit.path, unit.path), RoleGrant.role.in_(roles))
    )
    if after_id is not None:
        query = query.where(RoleGrant.id > after_id)
    return session.execute(query.order_by(RoleGrant.id).limit(limit + 1)).all()
