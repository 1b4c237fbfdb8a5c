from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from app.auth.deps import CurrentUser, StaffUser, VolunteerUser
from app.auth.separation import refuse_self
from app.db import SessionDep
from app.models.enums import VolunteerStatus
from app.pagination import MAX_LIMIT, Page, PageDep, make_page
from app.routing import make_router
from app.schemas import Code, Id, IdPath, Name
from app.volunteers import home, service
from app.volunteers.schemas import (
    HomeMoveAllowance,
    HomeMoveOut,
    InsuranceIn,
    MyHomeMoves,
    QualificationIn,
    SuspendIn,
    VolunteerOut,
    VolunteerRegister,
    VolunteerUpdate,
)

router = make_router(tags=["志愿者"])

HOME_MOVE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "description": (
            "常住地点修改过于频繁（HOME_MOVE_LIMITED）；响应头 Retry-After 为可再次修改前的秒数"
        ),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "秒"}},
    }
}


@router.post(
    "/me/volunteer",
    response_model=VolunteerOut,
    status_code=201,
    summary="注册成为志愿者",
    responses=HOME_MOVE_LIMITED,
)
def register(body: VolunteerRegister, session: SessionDep, actor: CurrentUser) -> VolunteerOut:
    """已登录的居民注册成为志愿者：所属实践站、常住地点、服务半径、技能、每周可服务时段等；
    返回本人的志愿者资料（201）。
    已是志愿者返回 409 ALREADY_VOLUNTEER，
    技能或类别不存在返回 400 UNKNOWN_SKILL / UNKNOWN_CATEGORY，
    站点不是实践站返回 400 INVALID_HOME_STATION。
    可带 Idempotency-Key 请求头安全重试。
    """
    volunteer = service.register(session=session, actor=actor, body=body)
    return service.volunteer_out(session, volunteer, viewer_id=actor.user_id)


@router.get("/me/volunteer", response_model=VolunteerOut, summary="我的志愿者资料")
def my_profile(session: SessionDep, actor: VolunteerUser) -> VolunteerOut:
    """志愿者本人：完整的志愿者资料（不脱敏），含技能资质、保险有效期、手头任务数与历史统计。
    未注册志愿者返回 403 NOT_A_VOLUNTEER。
    """
    assert actor.volunteer_id is not None
    volunteer, station = service.get_volunteer(session=session, volunteer_id=actor.volunteer_id)
    return service.volunteer_out(session, volunteer, station, viewer_id=actor.user_id)


@router.patch(
    "/me/volunteer",
    response_model=VolunteerOut,
    summary="修改我的志愿者资料",
    description=(
        "修改常住地点（lat/lng）受次数限制（HOME_MOVES_PER_DAY、HOME_MOVES_PER_30_DAYS），"
        "每次修改都会记录（只记录约 1 公里网格，不记录确切位置）。超出限制时整个请求不生效。"
    ),
    responses=HOME_MOVE_LIMITED,
)
def update_profile(
    body: VolunteerUpdate, session: SessionDep, actor: VolunteerUser
) -> VolunteerOut:
    assert actor.volunteer_id is not None
    volunteer, _ = service.get_volunteer(session=session, volunteer_id=actor.volunteer_id)
    service.update(session=session, volunteer=volunteer, body=body, actor_id=actor.user_id)
    return service.volunteer_out(session, volunteer, viewer_id=actor.user_id)


@router.get(
    "/me/volunteer/home-moves",
    response_model=MyHomeMoves,
    summary="我的常住地点修改记录与剩余次数",
)
def my_home_moves(session: SessionDep, actor: VolunteerUser) -> MyHomeMoves:
    """志愿者本人：常住地点的修改记录（只记网格，
    不记确切位置）与剩余可修改次数、下次可修改的时间。
    """
    assert actor.volunteer_id is not None
    limits = home.allowance(session, actor.volunteer_id)
    rows = home.moves(session, volunteer_id=actor.volunteer_id, after_id=None, limit=MAX_LIMIT)
    return MyHomeMoves(
        allowance=HomeMoveAllowance(
            per_day=limits.per_day,
            per_30_days=limits.per_30_days,
            remaining_today=limits.remaining_today,
            remaining_30_days=limits.remaining_30_days,
            next_allowed_at=limits.next_allowed_at,
        ),
        items=[HomeMoveOut.model_validate(row, from_attributes=True) for row in rows],
    )


@router.get(
    "/volunteers/{volunteer_id}/home-moves",
    response_model=Page[HomeMoveOut],
    summary="协调员：志愿者的常住地点修改记录（仅网格，新的在前）",
    responses={404: {"description": "志愿者不存在或不在本辖区（VOLUNTEER_NOT_FOUND）"}},
)
def home_moves(
    volunteer_id: IdPath, session: SessionDep, actor: StaffUser, page: PageDep
) -> Page[HomeMoveOut]:
    """辖区协调员、管理员：志愿者常住地点的修改记录（只有约 1 公里网格的中心，不含确切位置），
    新的在前，分页返回。
    """
    volunteer, _ = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    rows = home.moves(
        session, volunteer_id=volunteer.id, after_id=page.after_id, limit=page.limit + 1
    )
    return make_page(rows, page, lambda row: HomeMoveOut.model_validate(row, from_attributes=True))


@router.get("/volunteers", response_model=Page[VolunteerOut], summary="协调员：辖区内的志愿者")
def list_volunteers(
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    station_id: Annotated[Id | None, Query()] = None,
    skill_code: Annotated[Code | None, Query()] = None,
    status: VolunteerStatus | None = None,
    name: Annotated[Name | None, Query(description="按姓名查找（包含所填文字）")] = None,
) -> Page[VolunteerOut]:
    """协调员、管理员：本单位及下级单位的志愿者，可按站点、技能、状态、姓名筛选，分页返回；
    个人信息已脱敏。
    """
    rows = service.staff_list(
        session=session,
        actor=actor,
        station_id=station_id,
        skill_code=skill_code,
        status=status,
        name=name,
        after_id=page.after_id,
        limit=page.limit,
    )
    return make_page(
        rows, page, lambda v: service.volunteer_out(session, v, viewer_id=actor.user_id)
    )


@router.get("/volunteers/{volunteer_id}", response_model=VolunteerOut, summary="志愿者详情")
def get_volunteer(volunteer_id: IdPath, session: SessionDep, actor: CurrentUser) -> VolunteerOut:
    """志愿者本人、辖区协调员与管理员可查看；
    他人所见已脱敏（手机号、身份证号、出生日期改为年龄段、住址约 100 米）。
    看不到的志愿者返回 404 VOLUNTEER_NOT_FOUND。
    """
    volunteer, station = service.visible_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    return service.volunteer_out(session, volunteer, station, viewer_id=actor.user_id)


@router.post(
    "/volunteers/{volunteer_id}/suspend",
    response_model=VolunteerOut,
    summary="协调员：暂停志愿者资格",
)
def suspend(
    volunteer_id: IdPath, body: SuspendIn, session: SessionDep, actor: StaffUser
) -> VolunteerOut:
    """辖区协调员、管理员：暂停志愿者资格（须说明理由），暂停期间不能接单、不会被推荐。
    不能暂停本人（403 SELF_APPROVAL）。返回志愿者资料。
    """
    volunteer, station = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    refuse_self(session, actor, action="suspend_volunteer", user_id=volunteer.user_id)
    service.set_status(
        session=session, volunteer=volunteer, status=VolunteerStatus.SUSPENDED, reason=body.reason
    )
    return service.volunteer_out(session, volunteer, station, viewer_id=actor.user_id)


@router.post(
    "/volunteers/{volunteer_id}/reinstate",
    response_model=VolunteerOut,
    summary="协调员：恢复志愿者资格",
)
def reinstate(volunteer_id: IdPath, session: SessionDep, actor: StaffUser) -> VolunteerOut:
    """辖区协调员、管理员：恢复被暂停的志愿者资格。不能操作本人（403 SELF_APPROVAL）。
    返回志愿者资料。
    """
    volunteer, station = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    refuse_self(session, actor, action="reinstate_volunteer", user_id=volunteer.user_id)
    service.set_status(
        session=session, volunteer=volunteer, status=VolunteerStatus.ACTIVE, reason=None
    )
    return service.volunteer_out(session, volunteer, station, viewer_id=actor.user_id)


@router.put(
    "/volunteers/{volunteer_id}/qualification",
    response_model=VolunteerOut,
    summary="协调员：登记志愿者的技能资质及有效期",
)
def record_qualification(
    volunteer_id: IdPath, body: QualificationIn, session: SessionDep, actor: StaffUser
) -> VolunteerOut:
    """辖区协调员、管理员：
    登记志愿者某项需资质技能的证书或培训有效期（过期后该技能的心愿不再派给他）。
    技能不存在返回 400 UNKNOWN_SKILL；不能为本人登记（403 SELF_APPROVAL）。返回志愿者资料。
    """
    volunteer, station = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    refuse_self(session, actor, action="record_qualification", user_id=volunteer.user_id)
    service.record_qualification(session=session, volunteer=volunteer, body=body)
    return service.volunteer_out(session, volunteer, station, viewer_id=actor.user_id)


@router.put(
    "/volunteers/{volunteer_id}/insurance",
    response_model=VolunteerOut,
    summary="协调员：登记志愿者的意外保险有效期",
)
def record_insurance(
    volunteer_id: IdPath, body: InsuranceIn, session: SessionDep, actor: StaffUser
) -> VolunteerOut:
    """辖区协调员、管理员：登记志愿者意外保险的有效期（有风险的服务须在保期内）。
    不能为本人登记（403 SELF_APPROVAL）。返回志愿者资料。
    """
    volunteer, station = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    refuse_self(session, actor, action="record_insurance", user_id=volunteer.user_id)
    service.record_insurance(session=session, volunteer=volunteer, body=body)
    return service.volunteer_out(session, volunteer, station, viewer_id=actor.user_id)
