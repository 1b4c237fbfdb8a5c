"""Accounts and role grants."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.errors import LastAdmin, RoleGrantNotFound, UsernameTaken, UserNotFound
from app.auth.cache import forget_principal
from app.auth.security import hash_password
from app.auth.sessions import RevokeReason, end_user_sessions
from app.crypto.sealing import lookup_hash
from app.errors import BadRequest
from app.models import OrgUnit, RoleGrant, User
from app.models.enums import AccountRole, OrgLevel
from app.org_units.errors import OrgUnitNotFound


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


def user_by_phone(session: Session, phone: str) -> User | None:
    """The account holding a phone number, if any. Every lookup by phone goes through here.

    Phones are sealed at rest; the keyed hash beside them (`users.phone_hash`) finds them."""
    return session.scalars(
        select(User).where(User.phone_hash == lookup_hash(phone.strip()))
    ).one_or_none()


def find_or_create_resident(*, session: Session, phone: str, name: str | None = None) -> User:
    """The resident account for a phone number, created on first use (the development phone
    login and proxy ordering come through here)."""
    user = user_by_phone(session, phone)
    if user is None:
        user = User(name=name or f"居民{phone[-4:]}", phone=phone)
        session.add(user)
        session.flush()
    ensure_role(session=session, user_id=user.id, role=AccountRole.RESIDENT)
    return user


def ensure_role(
    *, session: Session, user_id: int, role: AccountRole, org_unit_id: int | None = None
) -> RoleGrant:
    grant = session.scalars(
        select(RoleGrant).where(
            RoleGrant.user_id == user_id,
            RoleGrant.role == role,
            RoleGrant.org_unit_id.is_(None)
            if org_unit_id is None
            else RoleGrant.org_unit_id == org_unit_id,
        )
    ).one_or_none()
    if grant is None:
        grant = RoleGrant(user_id=user_id, role=role, org_unit_id=org_unit_id)
        session.add(grant)
        session.flush()
        forget_principal(session, user_id)
    return grant


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


def set_password(
    *,
    session: Session,
    user_id: int,
    password_hash: str,
    must_change: bool,
    keep_session_id: int | None = None,
) -> User:
    """Store a new password hash (hashed beforehand, outside the transaction) and end the
    user's other sessions."""
    user = get_user(session=session, user_id=user_id)
    if user.username is None:
        raise BadRequest("该账号没有用户名，不能设置密码", code="NOT_A_STAFF_ACCOUNT")
    user.password_hash = password_hash
    user.password_change_required = must_change
    session.flush()
    end_user_sessions(
        session=session,
        user_id=user_id,
        reason=RevokeReason.PASSWORD_RESET if must_change else RevokeReason.PASSWORD_CHANGED,
        keep_session_id=keep_session_id,
    )
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


def grants_of(*, session: Session, user_id: int) -> list[RoleGrant]:
    return list(
        session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == user_id).order_by(RoleGrant.id)
        )
    )
