from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.service import find_or_create_resident, grants_of
from app.auth.deps import CurrentUser
from app.auth.schemas import DevLoginIn, LoginIn, MeOut, RoleOut, TokenOut
from app.auth.security import create_access_token, verify_password
from app.config import Settings
from app.db import SessionDep
from app.errors import Forbidden, Unauthorized
from app.models import OrgUnit, User, Volunteer
from app.routing import make_router

router = make_router(idempotency_keys=False, tags=["登录与账号"])


def me_out(session: Session, user: User) -> MeOut:
    grants = grants_of(session=session, user_id=user.id)
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
    )


def _token(session: Session, user: User, settings: Settings) -> TokenOut:
    token, expires = create_access_token(user.id, settings)
    return TokenOut(access_token=token, expires_at=expires, user=me_out(session, user))


@router.post("/auth/login", response_model=TokenOut, summary="协调员/管理员 用户名密码登录")
def login(body: LoginIn, request: Request, session: SessionDep) -> TokenOut:
    user = session.scalars(select(User).where(User.username == body.username)).one_or_none()
    if not verify_password(body.password, user.password_hash if user else None) or user is None:
        raise Unauthorized("用户名或密码错误", code="BAD_CREDENTIALS")
    if not user.is_active:
        raise Unauthorized("账号已停用", code="ACCOUNT_DISABLED")
    return _token(session, user, request.app.state.settings)


@router.post(
    "/auth/dev-login",
    response_model=TokenOut,
    summary="开发环境：居民/志愿者以手机号登录（正式环境使用微信登录）",
)
def dev_login(body: DevLoginIn, request: Request, session: SessionDep) -> TokenOut:
    settings: Settings = request.app.state.settings
    if not settings.dev_login_enabled:
        raise Forbidden("当前环境未开放手机号直接登录", code="DEV_LOGIN_DISABLED")
    user = find_or_create_resident(session=session, phone=body.phone, name=body.name)
    if not user.is_active:
        raise Unauthorized("账号已停用", code="ACCOUNT_DISABLED")
    return _token(session, user, settings)


@router.get("/me", response_model=MeOut, summary="当前用户及其角色")
def me(principal: CurrentUser, session: SessionDep) -> MeOut:
    user = session.get(User, principal.user_id)
    assert user is not None
    return me_out(session, user)
