"""户帮户亲帮亲: household categories, households in need, pairings with their health, visits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from app import clock
from app.auth.deps import AdminUser, CurrentUser, StaffUser, VolunteerUser
from app.db import SessionDep
from app.pagination import Page, PageDep, make_page
from app.pairings import households, service, views, visits
from app.pairings.schemas import (
    HouseholdCategoryCreate,
    HouseholdCategoryOut,
    HouseholdCategoryUpdate,
    HouseholdCreate,
    HouseholdOut,
    HouseholdRevealed,
    HouseholdRevealIn,
    HouseholdUpdate,
    ManualVisitIn,
    PairingAction,
    PairingCreate,
    PairingDetail,
    PairingOut,
    VisitCheckIn,
    VisitCheckOut,
    VisitOut,
    VisitWishIn,
    WishCreatedOut,
)
from app.pairings.state import Health, PairingEvent
from app.routing import make_router
from app.schemas import Code, CodePath, Id, IdPath

router = make_router(tags=["结对帮扶"])


# ---------------------------------------------------------------- household categories


@router.get(
    "/household-categories",
    response_model=list[HouseholdCategoryOut],
    summary="困难家庭类别",
)
def list_categories(
    session: SessionDep, _actor: CurrentUser, include_inactive: bool = False
) -> list[HouseholdCategoryOut]:
    """任何已登录用户：困难家庭类别（独居老人、留守儿童、残疾人家庭……），
    以及走访记入的服务类别。include_inactive=true 时含已停用的（供管理员维护）。
    """
    rows = households.categories(session=session, active_only=not include_inactive)
    return [HouseholdCategoryOut.model_validate(r) for r in rows]


@router.post(
    "/household-categories",
    response_model=HouseholdCategoryOut,
    status_code=201,
    summary="管理员：新增困难家庭类别",
)
def create_category(
    body: HouseholdCategoryCreate, session: SessionDep, _admin: AdminUser
) -> HouseholdCategoryOut:
    """管理员：新增困难家庭类别；代码或名称已存在返回 409 HOUSEHOLD_CATEGORY_EXISTS，
    服务类别不存在返回 400 UNKNOWN_CATALOGUE_ENTRY。
    """
    row = households.create_category(session=session, body=body)
    return HouseholdCategoryOut.model_validate(row)


@router.patch(
    "/household-categories/{code}",
    response_model=HouseholdCategoryOut,
    summary="管理员：修改或停用困难家庭类别",
)
def update_category(
    code: CodePath, body: HouseholdCategoryUpdate, session: SessionDep, _admin: AdminUser
) -> HouseholdCategoryOut:
    """管理员：修改困难家庭类别的名称、说明、对应服务类别、排序，或停用（已登记的家庭不受影响）。
    不存在返回 404 HOUSEHOLD_CATEGORY_NOT_FOUND。
    """
    row = households.update_category(session=session, code=code, body=body)
    return HouseholdCategoryOut.model_validate(row)


# ---------------------------------------------------------------- households


@router.post(
    "/households", response_model=HouseholdOut, status_code=201, summary="协调员：登记困难家庭"
)
def create_household(body: HouseholdCreate, session: SessionDep, actor: StaffUser) -> HouseholdOut:
    """辖区协调员：在村（社区）实践站登记困难家庭，须记录家庭同意登记的方式与授权文本版本
    （同代点单）；姓名、电话、详细地址与位置加密保存。返回脱敏后的家庭（201）。
    """
    household = households.create(session=session, body=body, actor=actor, now=clock.now())
    return households.out(households.managed(session, household_id=household.id, actor=actor))


@router.get(
    "/org-units/{unit_id}/households",
    response_model=Page[HouseholdOut],
    summary="协调员：辖区内的困难家庭（脱敏）",
)
def list_households(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    category_code: Annotated[Code | None, Query()] = None,
    status: Annotated[str | None, Query(pattern="^(active|closed)$")] = None,
) -> Page[HouseholdOut]:
    """辖区协调员、管理员：本单位及下级站点登记的困难家庭，可按类别、状态筛选，分页返回；
    姓名、电话已脱敏，只显示大致地址。
    """
    rows = households.listed(
        session=session,
        actor=actor,
        unit_id=unit_id,
        category_code=category_code,
        status=status,
        params=page,
    )
    return make_page(rows, page, households.out)


@router.get(
    "/households/{household_id}", response_model=HouseholdOut, summary="协调员：困难家庭（脱敏）"
)
def get_household(household_id: IdPath, session: SessionDep, actor: StaffUser) -> HouseholdOut:
    """辖区协调员、管理员：困难家庭的脱敏信息；辖区外或不存在返回 404 HOUSEHOLD_NOT_FOUND。"""
    return households.out(households.managed(session, household_id=household_id, actor=actor))


@router.patch(
    "/households/{household_id}", response_model=HouseholdOut, summary="协调员：修改困难家庭"
)
def update_household(
    household_id: IdPath, body: HouseholdUpdate, session: SessionDep, actor: StaffUser
) -> HouseholdOut:
    """辖区协调员：修改困难家庭的姓名、电话、地址、位置或类别；返回脱敏后的家庭。"""
    seen = households.update(session=session, household_id=household_id, body=body, actor=actor)
    return households.out(seen)


@router.post(
    "/households/{household_id}/close",
    response_model=HouseholdOut,
    summary="协调员：停止帮扶困难家庭",
)
def close_household(household_id: IdPath, session: SessionDep, actor: StaffUser) -> HouseholdOut:
    """辖区协调员：家庭不再需要帮扶时停用；仍有未结束的结对返回 409 HOUSEHOLD_HAS_PAIRINGS。"""
    return households.out(households.close(session=session, household_id=household_id, actor=actor))


@router.post(
    "/households/{household_id}/reveal",
    response_model=HouseholdRevealed,
    summary="查看困难家庭完整信息（记录查看日志）",
)
def reveal_household(
    household_id: IdPath, body: HouseholdRevealIn, session: SessionDep, actor: CurrentUser
) -> HouseholdRevealed:
    """辖区协调员、管理员，以及该家庭未结束结对的帮扶志愿者：查看姓名、电话、详细地址与位置，
    须说明原因；每次查看写入个人信息查看日志（家庭本人可在“我的信息被查看记录”中看到）。
    """
    return service.reveal_household(
        session=session,
        household_id=household_id,
        actor=actor,
        reason=body.reason,
        now=clock.now(),
    )


# ---------------------------------------------------------------- pairings


@router.post("/pairings", response_model=PairingOut, status_code=201, summary="协调员：建立结对")
def create_pairing(body: PairingCreate, session: SessionDep, actor: StaffUser) -> PairingOut:
    """辖区协调员：为困难家庭建立结对（帮扶人为志愿者、帮扶家庭或志愿服务队），约定走访周期、
    每次时长与起止日期。协调员不能把自己设为帮扶志愿者（403 SELF_APPROVAL）。
    """
    now = clock.now()
    pairing = service.create(session=session, body=body, actor=actor, now=now)
    return views.outs(session, [pairing], now)[0]


@router.get(
    "/org-units/{unit_id}/pairings",
    response_model=Page[PairingOut],
    summary="协调员：辖区内的结对与走访情况",
)
def list_pairings(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    health: Health | None = None,
    household_id: Annotated[Id | None, Query()] = None,
) -> Page[PairingOut]:
    """辖区协调员、管理员：本单位及下级站点的结对，每条带走访状况（healthy 正常、
    due 待走访、overdue 逾期已提醒、lapsing 长期未走访已通知站点、paused 暂停、
    ended 已结束），可按状况或家庭筛选。
    """
    now = clock.now()
    rows = views.of_unit(
        session=session,
        actor=actor,
        unit_id=unit_id,
        health=health,
        household_id=household_id,
        params=page,
        now=now,
    )
    converted = {p.id: p for p in views.outs(session, rows[: page.limit], now)}
    return make_page(rows, page, lambda p: converted[p.id])


@router.get("/me/pairings", response_model=Page[PairingOut], summary="我参与的结对")
def my_pairings(session: SessionDep, actor: CurrentUser, page: PageDep) -> Page[PairingOut]:
    """帮扶志愿者、帮扶队伍的在队成员、帮扶家庭：我参与的结对与下次走访时间。"""
    now = clock.now()
    rows = views.of_helper(session=session, actor=actor, params=page)
    converted = {p.id: p for p in views.outs(session, rows[: page.limit], now)}
    return make_page(rows, page, lambda p: converted[p.id])


@router.get("/pairings/{pairing_id}", response_model=PairingDetail, summary="结对详情与走访记录")
def get_pairing(pairing_id: IdPath, session: SessionDep, actor: CurrentUser) -> PairingDetail:
    """辖区协调员、管理员与帮扶人：结对详情和最近的走访记录（新的在前）；
    看不到的结对返回 404 PAIRING_NOT_FOUND。
    """
    now = clock.now()
    pairing, _ = service.visible(session, pairing_id=pairing_id, actor=actor)
    [out] = views.outs(session, [pairing], now)
    return PairingDetail(**out.model_dump(), visits=views.of_pairing(session, pairing.id))


def _transition(
    session: SessionDep, actor: CurrentUser, pairing_id: int, event: PairingEvent, reason: str
) -> PairingOut:
    now = clock.now()
    pairing = service.apply(
        session=session, pairing_id=pairing_id, event=event, actor=actor, reason=reason, now=now
    )
    return views.outs(session, [pairing], now)[0]


@router.post("/pairings/{pairing_id}/pause", response_model=PairingOut, summary="协调员：暂停结对")
def pause_pairing(
    pairing_id: IdPath, body: PairingAction, session: SessionDep, actor: StaffUser
) -> PairingOut:
    """辖区协调员：暂停结对（如老人住院），暂停期间不计逾期；状态不允许返回 409。"""
    return _transition(session, actor, pairing_id, PairingEvent.PAUSE, body.reason)


@router.post("/pairings/{pairing_id}/resume", response_model=PairingOut, summary="协调员：恢复结对")
def resume_pairing(
    pairing_id: IdPath, body: PairingAction, session: SessionDep, actor: StaffUser
) -> PairingOut:
    """辖区协调员：恢复暂停的结对，下次走访从今天起按周期计算。"""
    return _transition(session, actor, pairing_id, PairingEvent.RESUME, body.reason)


@router.post("/pairings/{pairing_id}/end", response_model=PairingOut, summary="结束结对")
def end_pairing(
    pairing_id: IdPath, body: PairingAction, session: SessionDep, actor: CurrentUser
) -> PairingOut:
    """辖区协调员，或帮扶人本人（不能继续帮扶时须说明原因，站点会收到通知）：结束结对。"""
    return _transition(session, actor, pairing_id, PairingEvent.END, body.reason)


# ---------------------------------------------------------------- visits


@router.post(
    "/pairings/{pairing_id}/visits/check-in",
    response_model=VisitOut,
    status_code=201,
    summary="帮扶志愿者：到户签到",
)
def visit_check_in(
    pairing_id: IdPath, body: VisitCheckIn, session: SessionDep, actor: VolunteerUser
) -> VisitOut:
    """帮扶志愿者（或帮扶队伍的在队成员）到户签到：须已同意签到时获取位置，
    且在家庭位置的签到范围内；开始一次走访并生成服务记录。
    """
    visit = visits.check_in(
        session=session, pairing_id=pairing_id, actor=actor, body=body, now=clock.now()
    )
    return views.one(session, visit)


@router.post(
    "/pairing-visits/{visit_id}/check-out",
    response_model=VisitOut,
    summary="走访签退",
)
def visit_check_out(
    visit_id: IdPath, body: VisitCheckOut, session: SessionDep, actor: CurrentUser
) -> VisitOut:
    """走访的志愿者签退（带位置），或辖区协调员代签（须说明原因，记为人工）；
    可填写走访内容与家庭提出的需求。签退后服务记录等待站点确认时长。
    """
    visit = visits.check_out(
        session=session, visit_id=visit_id, actor=actor, body=body, now=clock.now()
    )
    return views.one(session, visit)


@router.post(
    "/pairings/{pairing_id}/visits/manual",
    response_model=VisitOut,
    status_code=201,
    summary="协调员：人工登记走访",
)
def record_manual_visit(
    pairing_id: IdPath, body: ManualVisitIn, session: SessionDep, actor: StaffUser
) -> VisitOut:
    """辖区协调员：无法定位签到时人工登记一次走访（须说明原因，记为人工），
    生成待确认的服务记录；不能登记本人的走访（403 SELF_APPROVAL）。
    """
    visit = visits.record_manual(
        session=session, pairing_id=pairing_id, actor=actor, body=body, now=clock.now()
    )
    return views.one(session, visit)


@router.post(
    "/pairing-visits/{visit_id}/wish",
    response_model=WishCreatedOut,
    status_code=201,
    summary="协调员：走访需求一键转为心愿",
)
def visit_to_wish(
    visit_id: IdPath, body: VisitWishIn, session: SessionDep, actor: StaffUser
) -> WishCreatedOut:
    """辖区协调员：把走访记录中家庭提出的需求转为心愿，由站点代家庭点单（须记录家庭同意的方式），
    进入审核与派单流程；每次走访只能转一次（409 VISIT_WISH_EXISTS）。
    """
    wish = visits.to_wish(
        session=session, visit_id=visit_id, actor=actor, body=body, now=clock.now()
    )
    return WishCreatedOut(visit_id=visit_id, wish_id=wish.id, status=wish.status)
