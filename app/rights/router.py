"""Data subjects' rights endpoints: reveals (each one logged) and deleting one's account."""

from __future__ import annotations

from fastapi import Request

from app import clock, idempotency
from app.auth.deps import CurrentUser, StaffUser
from app.db import SessionDep
from app.rights import deletion, reveal
from app.rights.schemas import (
    DeletionIn,
    DeletionOut,
    RevealIn,
    VolunteerContactOut,
    WishContactOut,
)
from app.routing import make_router
from app.schemas import IdPath
from app.wishes.schemas import PersonRef

router = make_router(tags=["个人信息保护"])


# ---------------------------------------------------------------- reveals


@router.post(
    "/wishes/{wish_id}/reveal",
    response_model=WishContactOut,
    responses={
        403: {"description": "此刻不能查看（REVEAL_NOT_ALLOWED）"},
        404: {"description": "心愿不存在或不可见（WISH_NOT_FOUND）"},
    },
    summary="查看心愿的完整联系方式（接单志愿者、协调员；每次查看留痕）",
)
def reveal_wish(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: RevealIn | None = None
) -> WishContactOut:
    """接单志愿者、点单人与辖区协调员：查看心愿的完整地址与联系电话（点单人看到接单志愿者的电话）；
    每次查看都记入查看记录，可填原因。
    无权查看返回 403 REVEAL_NOT_ALLOWED，看不到的心愿返回 404 WISH_NOT_FOUND。
    """
    found = reveal.reveal_wish(
        session,
        wish_id=wish_id,
        actor=actor,
        reason=body.reason if body is not None else None,
        now=clock.now(),
    )
    lat, lng = found.point if found.point is not None else (None, None)

    def person(contact: reveal.Contact | None) -> PersonRef | None:
        return None if contact is None else PersonRef(id=contact.user_id, name=contact.name,
                                                      phone=contact.phone)  # fmt: skip

    return WishContactOut(
        wish_id=found.outcome.wish.id,
        status=found.outcome.wish.status,
        acting_as=found.acting_as,
        requester=person(found.requester),
        full_address=found.full_address,
        contact_phone=found.contact_phone,
        lat=lat,
        lng=lng,
        assignee=person(found.assignee),
    )


@router.post(
    "/volunteers/{volunteer_id}/reveal",
    response_model=VolunteerContactOut,
    responses={404: {"description": "志愿者不存在或不在辖区内（VOLUNTEER_NOT_FOUND）"}},
    summary="协调员：查看志愿者的完整个人信息（每次查看留痕）",
)
def reveal_volunteer(
    volunteer_id: IdPath, session: SessionDep, actor: StaffUser, body: RevealIn | None = None
) -> VolunteerContactOut:
    """辖区协调员、管理员：查看志愿者的完整手机号、身份证号与住址；每次查看都记入查看记录，
    可填原因。
    """
    found = reveal.reveal_volunteer(
        session,
        volunteer_id=volunteer_id,
        actor=actor,
        reason=body.reason if body is not None else None,
        now=clock.now(),
    )
    lat, lng = found.home if found.home is not None else (None, None)
    return VolunteerContactOut(
        volunteer_id=found.volunteer.id,
        user_id=found.volunteer.user_id,
        status=found.volunteer.status,
        name=found.name,
        phone=found.phone,
        id_number=found.id_number,
        birth_date=found.birth_date,
        lat=lat,
        lng=lng,
    )


# ---------------------------------------------------------------- deleting one's account


@router.delete(
    "/me",
    response_model=DeletionOut,
    responses={
        409: {
            "description": "有进行中的心愿或任务（ACCOUNT_HAS_OPEN_WORK，details 列出）；"
            "协调员/管理员账号（STAFF_ACCOUNT）"
        }
    },
    summary="注销账号：删除个人信息，服务记录以化名保留（须确认）",
)
def delete_me(
    body: DeletionIn, request: Request, session: SessionDep, actor: CurrentUser
) -> DeletionOut:
    """居民与志愿者本人：注销账号，删除姓名、手机号、住址等个人信息，服务记录以化名保留；
    body 须为 {"confirm": "注销账号"}。
    有进行中的心愿或任务返回 409 ACCOUNT_HAS_OPEN_WORK（details 列出），
    协调员、管理员账号返回 409 STAFF_ACCOUNT。
    可带 Idempotency-Key 请求头安全重试。
    """
    reservation = idempotency.reservation_of(request)
    done = deletion.delete_account(
        session,
        actor=actor,
        now=clock.now(),
        keep_key_id=reservation.row_id if reservation is not None else None,
    )
    return DeletionOut(pseudonym=done.pseudonym, deleted_at=done.deleted_at, erased=done.erased)
