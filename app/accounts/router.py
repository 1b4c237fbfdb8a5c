from __future__ import annotations

from app.accounts import service
from app.accounts.schemas import GrantIn, StaffCreate, UserDetail, UserOut
from app.auth.deps import AdminUser
from app.auth.router import me_out
from app.auth.separation import refuse_self
from app.db import SessionDep
from app.routing import make_router
from app.schemas import IdPath

router = make_router(prefix="/admin/users", tags=["账号管理"])


def _detail(session: SessionDep, user_id: int) -> UserDetail:
    user = service.get_user(session=session, user_id=user_id)
    me = me_out(session, user)
    return UserDetail(**UserOut.model_validate(user).model_dump(), roles=me.roles)


@router.post(
    "", response_model=UserDetail, status_code=201, summary="管理员：创建协调员/管理员账号"
)
def create_staff(body: StaffCreate, session: SessionDep, _admin: AdminUser) -> UserDetail:
    user = service.create_staff_user(
        session=session,
        name=body.name,
        username=body.username,
        password=body.password,
        phone=body.phone,
    )
    return _detail(session, user.id)


@router.get("/{user_id}", response_model=UserDetail, summary="管理员：账号详情")
def get_user(user_id: IdPath, session: SessionDep, _admin: AdminUser) -> UserDetail:
    return _detail(session, user_id)


@router.post("/{user_id}/roles", response_model=UserDetail, summary="管理员：授予角色")
def grant(user_id: IdPath, body: GrantIn, session: SessionDep, admin: AdminUser) -> UserDetail:
    # Powers come from another admin, never from oneself.
    refuse_self(session, admin, action="grant_role", user_id=user_id)
    service.grant_role(
        session=session, user_id=user_id, role=body.role, org_unit_id=body.org_unit_id
    )
    return _detail(session, user_id)


@router.delete("/{user_id}/roles/{grant_id}", response_model=UserDetail, summary="管理员：撤销角色")
def revoke(user_id: IdPath, grant_id: IdPath, session: SessionDep, _admin: AdminUser) -> UserDetail:
    service.revoke_role(session=session, user_id=user_id, grant_id=grant_id)
    return _detail(session, user_id)


@router.post("/{user_id}/deactivate", response_model=UserDetail, summary="管理员：停用账号")
def deactivate(user_id: IdPath, session: SessionDep, _admin: AdminUser) -> UserDetail:
    service.deactivate(session=session, user_id=user_id)
    return _detail(session, user_id)
