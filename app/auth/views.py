"""What sign-in endpoints answer: the caller as their session sees them, and token pairs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.schemas import MeOut, RoleOut, TokenOut
from app.auth.sessions import IssuedTokens
from app.auth.users import grants_of
from app.models import OrgUnit, User, Volunteer
from app.models.enums import AccountRole, SessionKind

_STAFF_ROLES = frozenset({AccountRole.COORDINATOR, AccountRole.ADMIN})


def me_out(session: Session, user: User, kind: SessionKind | None = None) -> MeOut:
    """The user and their roles; for a consumer session, without the staff roles it does not
    carry. `kind=None`: every grant (an admin's view of the account)."""
    grants = grants_of(session=session, user_id=user.id)
    if kind == SessionKind.CONSUMER:
        grants = [g for g in grants if g.role not in _STAFF_ROLES]
    unit_ids = {g.org_unit_id for g in grants if g.org_unit_id is not None}
    names = (
        dict(
            session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids))).all()
        )
        if unit_ids
        else {}
    )
    volunteer_id = session.scalar(select(Volunteer.id).where(Volunteer.user_id == user.id))
    return MeOut(
        id=user.id,
        name=user.name,
        phone=user.phone,
        roles=[
            RoleOut(
                id=g.id,
                role=g.role,
                org_unit_id=g.org_unit_id,
                org_unit_name=names.get(g.org_unit_id) if g.org_unit_id else None,
            )
            for g in grants
        ],
        volunteer_id=volunteer_id,
        session_kind=kind,
        password_change_required=kind == SessionKind.STAFF and user.password_change_required,
        wechat_bound=user.wechat_openid is not None or user.wechat_unionid is not None,
    )


def token_out(session: Session, tokens: IssuedTokens) -> TokenOut:
    user = session.get(User, tokens.user_id)
    assert user is not None
    me = me_out(session, user, tokens.kind)
    return TokenOut(
        access_token=tokens.access_token,
        expires_at=tokens.access_expires_at,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=tokens.refresh_expires_at,
        session_kind=tokens.kind,
        password_change_required=me.password_change_required,
        user=me,
    )
