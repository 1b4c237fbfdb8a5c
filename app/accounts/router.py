from __future__ import annotations

from typing import Literal

from fastapi import Request

from app.accounts import service
from app.accounts.schemas import (
    GrantIn,
    StaffCreate,
    StaffMemberOut,
    StaffUnit,
    UserDetail,
    UserOut,
)
from app.auth import users
from app.auth.deps import AdminUser, StaffUser
from app.auth.router import run_auth
from app.auth.schemas import TemporaryPasswordOut
from app.auth.security import hash_password
from app.auth.separation import refuse_self
from app.auth.service import temporary_password
from app.auth.views import me_out
from app.db import SessionDep
from app.models.enums import AccountRole
from app.org_units.service import managed_unit
from app.pagination import Page, PageDep, make_page
from app.privacy.masking import mask_phone
from app.routing import make_router
from app.schemas import IdPath

router = make_router(prefix="/admin/users", tags=["账号管理"])
# Routes that handle passwords take no Idempotency-Key: creating an account hashes its
# password before any transaction begins (a key would open one first), and a retry is refused
# USERNAME_TAKEN anyway; a reset answers a temporary password, which must never be stored.
password_router = make_router(idempotency_keys=False, prefix="/admin/users", tags=["账号管理"])
# What coordinators may read of the accounts: the staff of the units they manage.
unit_router = make_router(prefix="/org-units", tags=["账号管理"])


def _detail(session: SessionDep, user_id: int) -> UserDetail:
    user = users.get_user(session=session, user_id=user_id)
    me = me_out(session, user)
    shown = UserOut.model_validate(user).model_dump()
    shown["phone"] = mask_phone(user.phone)  # personal data: masked here as in every list
    return UserDetail(**shown, roles=me.roles)


@password_router.post(
    "",
    response_model=UserDetail,
    status_code=201,
    summary="管理员：创建协调员/管理员账号",
    description="所设密码为临时密码：对方首次登录后须先修改密码。",
)
async def create_staff(
    body: StaffCreate, request: Request, session: SessionDep, _admin: AdminUser
) -> UserDetail:
    # Hash before the transaction's first statement: the write lock is not held meanwhile.
    password_hash = await run_auth(request, lambda: hash_password(body.password))

    def _create() -> UserDetail:
        user = service.create_staff_user(
            session=session,
            name=body.name,
            username=body.username,
            password=body.password,
            password_hash=password_hash,
            phone=body.phone,
            must_change_password=True,
        )
        return _detail(session, user.id)

    return await run_auth(request, _create)


@password_router.post(
    "/{user_id}/reset-password",
    response_model=TemporaryPasswordOut,
    summary="管理员：重置账号密码",
    description=(
        "生成一次性显示的临时密码；该账号的所有登录会话立即结束，下次登录后须先修改密码。"
    ),
)
async def reset_password(
    user_id: IdPath, request: Request, session: SessionDep, _admin: AdminUser
) -> TemporaryPasswordOut:
    password = temporary_password()
    password_hash = await run_auth(request, lambda: hash_password(password))

    def _reset() -> None:
        users.set_password(
            session=session, user_id=user_id, password_hash=password_hash, must_change=True
        )

    await run_auth(request, _reset)
    return TemporaryPasswordOut(user_id=user_id, temporary_password=password)


@router.get("/{user_id}", response_model=UserDetail, summary="管理员：账号详情")
def get_user(user_id: IdPath, session: SessionDep, _admin: AdminUser) -> UserDetail:
    """管理员：账号的姓名、手机号（脱敏）、状态与全部角色授予。
    账号不存在返回 404 USER_NOT_FOUND。
    """
    return _detail(session, user_id)


@router.post("/{user_id}/roles", response_model=UserDetail, summary="管理员：授予角色")
def grant(user_id: IdPath, body: GrantIn, session: SessionDep, admin: AdminUser) -> UserDetail:
    """管理员：授予账号协调员、网格员或管理员角色，
    协调员与网格员须指定所属单位（网格员须为实践站）。
    志愿者身份只能由本人注册获得（400 VOLUNTEER_BY_REGISTRATION）；
    不能给自己授权（403 SELF_APPROVAL）。
    返回更新后的账号。
    """
    # Powers come from another admin, never from oneself.
    refuse_self(session, admin, action="grant_role", user_id=user_id)
    service.grant_role(
        session=session, user_id=user_id, role=body.role, org_unit_id=body.org_unit_id
    )
    return _detail(session, user_id)


@router.delete("/{user_id}/roles/{grant_id}", response_model=UserDetail, summary="管理员：撤销角色")
def revoke(user_id: IdPath, grant_id: IdPath, session: SessionDep, _admin: AdminUser) -> UserDetail:
    """管理员：撤销账号的一项角色授予，该账号已有的登录随即失去此权限。
    不能撤销最后一位管理员（409 LAST_ADMIN）。返回更新后的账号。
    """
    service.revoke_role(session=session, user_id=user_id, grant_id=grant_id)
    return _detail(session, user_id)


@router.post("/{user_id}/deactivate", response_model=UserDetail, summary="管理员：停用账号")
def deactivate(user_id: IdPath, session: SessionDep, _admin: AdminUser) -> UserDetail:
    """管理员：停用账号，其全部登录会话立即结束，此后不能登录；服务记录保留。
    不能停用最后一位管理员（409 LAST_ADMIN）。返回更新后的账号。
    """
    service.deactivate(session=session, user_id=user_id)
    return _detail(session, user_id)


@unit_router.get(
    "/{unit_id}/staff",
    response_model=Page[StaffMemberOut],
    summary="协调员：本单位及下级单位的工作人员（协调员、网格员）",
)
def unit_staff(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    role: Literal["coordinator", "grid_worker"] | None = None,
) -> Page[StaffMemberOut]:
    """辖区协调员、管理员：本单位及全部下级单位的协调员与网格员（每项角色授予一行，
    可按角色筛选），按授予编号分页；手机号已脱敏。单位不在本人辖区返回 404 ORG_UNIT_NOT_FOUND。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    rows = service.unit_staff(
        session=session,
        unit=unit,
        role=AccountRole(role) if role is not None else None,
        after_id=page.after_id,
        limit=page.limit,
    )
    members = [
        StaffMemberOut(
            id=grant.id,
            user_id=user.id,
            name=user.name,
            phone=mask_phone(user.phone),
            username=user.username,
            is_active=user.is_active,
            role=grant.role,
            unit=StaffUnit(id=at.id, name=at.name, level=at.level),
        )
        for grant, user, at in rows
    ]
    return make_page(members, page, lambda member: member)
