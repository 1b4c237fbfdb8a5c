"""Accounts as sign-in needs them: one by id or by phone, the resident account made on first use,
role grants, and a new password (which ends the other sessions). Account administration builds on
these in app.accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.cache import forget_principal
from app.auth.errors import UserNotFound
from app.auth.sessions import RevokeReason, end_user_sessions
from app.errors import BadRequest
from app.models import RoleGrant, User
from app.models.enums import AccountRole


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


def user_by_phone(session: Session, phone: str) -> User | None:
    """The account holding a phone number, if any. Every lookup by phone goes through here.

    Phones are sealed at rest; the keyed hash beside them (`users.phone_hash`) finds them."""
    return session.scalars(
        select(User).where(User.phone_hash == User.phone_key(phone))
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


def grants_of(*, session: Session, user_id: int) -> list[RoleGrant]:
    return list(
        session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == user_id).order_by(RoleGrant.id)
        )
    )
