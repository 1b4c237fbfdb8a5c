"""Wish endpoints: create and read, one verb per event, and the lists each user needs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel

from app.auth.deps import CurrentUser, StaffUser, VolunteerUser
from app.auth.principal import Principal
from app.db import SessionDep
from app.models.enums import Urgency, WishStatus
from app.pagination import Page, PageDep, make_page
from app.push.quota import subscribe_hint
from app.routing import make_router
from app.schemas import Code, Id, IdPath, Instant, RadiusM
from app.wishes import queries
from app.wishes.access import visible_wish
from app.wishes.errors import RoleNotAllowed
from app.wishes.intake import create_wish
from app.wishes.schemas import (
    EventOut,
    NoteIn,
    OfferIn,
    OfferOut,
    OptionalReasonIn,
    RateIn,
    ReasonIn,
    WishCreate,
    WishOut,
    WishSummary,
)
from app.wishes.service import apply_event
from app.wishes.state import ActorRole, WishEvent
from app.wishes.views import offer_out, wish_out, wish_summary, with_next_steps

router = make_router(tags=["心愿"])

WISH_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "无权执行（ROLE_NOT_ALLOWED、NOT_OFFERED、NOT_ASSIGNEE、SELF_APPROVAL）"},
    404: {"description": "心愿不存在或不可见（WISH_NOT_FOUND）"},
    409: {"description": "状态不允许或已被他人抢先（INVALID_TRANSITION、WISH_ALREADY_TAKEN …）"},
}


def _detail(session: SessionDep, wish_id: int, actor: Principal) -> WishOut:
    return wish_out(session, visible_wish(session, wish_id=wish_id, actor=actor))


def _fire(
    session: SessionDep,
    wish_id: int,
    event: WishEvent,
    actor: Principal,
    payload: BaseModel | None = None,
) -> WishOut:
    # The answer shows what the actor may see now: a volunteer who withdrew from a grabbed wish
    # gets the public view, never a failed event.
    outcome = apply_event(
        session=session, wish_id=wish_id, event=event, actor=actor, payload=payload
    )
    return wish_out(session, outcome)


# ---------------------------------------------------------------- 点单 and reading


@router.post("/wishes", response_model=WishOut, status_code=201, summary="点单：提交心愿")
def create(body: WishCreate, request: Request, session: SessionDep, actor: CurrentUser) -> WishOut:
    """居民点单；网格员或协调员可代居民点单（填 on_behalf_of，
    须注明居民的授权方式与授权文本版本）。
    心愿进入“待审核”，不填 station_id 时按地点匹配最近的实践站。
    返回心愿详情与 subscribe_hint。
    地点不在任何站点服务范围内返回 400 OUT_OF_SERVICE_AREA，
    时间段不合理返回 400 INVALID_TIME_WINDOW，无权代点单返回 403 PROXY_NOT_ALLOWED。
    可带 Idempotency-Key 请求头安全重试。
    """
    wish = create_wish(session=session, body=body, actor=actor)
    out = _detail(session, wish.id, actor)
    out.subscribe_hint = subscribe_hint(
        session, actor=actor, settings=request.app.state.settings, moment="wish_placed"
    )
    return out


@router.get(
    "/wishes/review-queue", response_model=Page[WishSummary], summary="审单队列（最早提交的在前）"
)
def review_queue(session: SessionDep, actor: StaffUser, page: PageDep) -> Page[WishSummary]:
    """协调员、管理员：本单位及下级单位中待审核的心愿，最早提交的在前，分页返回。
    居民与志愿者调用返回 403 STAFF_ONLY。
    """
    rows = queries.staff_wishes(
        session,
        actor=actor,
        filters=queries.WishFilters(statuses=[WishStatus.SUBMITTED]),
        page=page,
        oldest_first=True,
    )
    return make_page(rows, page, wish_summary)


@router.get(
    "/wishes/open",
    response_model=list[WishSummary],
    summary="志愿者：附近可抢的心愿",
    description=(
        "在本人服务半径与心愿所属站点服务范围内、本人具备所需技能的可抢心愿，由近及远。"
        "是否列出、先后顺序、半径筛选与距离档位，均按心愿的大致位置（约 1 公里网格中心）计算。"
    ),
)
def open_near_me(
    session: SessionDep,
    actor: VolunteerUser,
    radius_m: Annotated[RadiusM | None, Query(description="不超过本人服务半径")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.NEAR_ME_MAX)] = 20,
) -> list[WishSummary]:
    assert actor.volunteer is not None
    return [
        wish_summary(row, distance)
        for row, distance in queries.open_near(
            session, volunteer=actor.volunteer, radius_m=radius_m, limit=limit
        )
    ]


@router.get("/wishes", response_model=Page[WishSummary], summary="协调员：辖区内的心愿（可筛选）")
def list_wishes(
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    status: Annotated[list[WishStatus] | None, Query()] = None,
    station_id: Annotated[Id | None, Query()] = None,
    category_code: Annotated[Code | None, Query()] = None,
    urgency: Urgency | None = None,
    created_from: Annotated[Instant | None, Query()] = None,
    created_to: Annotated[Instant | None, Query()] = None,
    needs_dispatch: Annotated[
        bool, Query(description="只看待派单的：已审核未派，或派单无人响应且未开放抢单")
    ] = False,
) -> Page[WishSummary]:
    """协调员、管理员：本单位及下级单位的心愿，可按状态、站点、类别、紧急程度、提交时间筛选；
    needs_dispatch 只看待派单的。
    分页返回心愿摘要，每条附派单流程的下一步自动操作及其时间（next_step）；
    居民与志愿者调用返回 403 STAFF_ONLY。
    """
    filters = queries.WishFilters(
        statuses=status,
        station_id=station_id,
        category_code=category_code,
        urgency=urgency,
        created_from=created_from,
        created_to=created_to,
        needs_dispatch=needs_dispatch,
    )
    rows = queries.staff_wishes(session, actor=actor, filters=filters, page=page)
    return with_next_steps(session, make_page(rows, page, wish_summary))


@router.get("/wishes/{wish_id}", response_model=WishOut, responses=WISH_ERRORS, summary="心愿详情")
def get_wish(wish_id: IdPath, session: SessionDep, actor: CurrentUser) -> WishOut:
    """点单人、受邀或可抢单的志愿者、接单志愿者与辖区协调员可查看；
    所见内容按身份脱敏（见 redacted、masked）。
    allowed_events 列出当前用户此刻可执行的操作。看不到的心愿一律返回 404 WISH_NOT_FOUND。
    """
    return _detail(session, wish_id, actor)


@router.get(
    "/wishes/{wish_id}/events",
    response_model=Page[EventOut],
    responses=WISH_ERRORS,
    summary="心愿的流转记录",
)
def events(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, page: PageDep
) -> Page[EventOut]:
    """点单人与辖区协调员：心愿的每一次状态变化（谁、何时、从何到何、理由），
    按时间顺序分页返回。
    志愿者调用返回 403 ROLE_NOT_ALLOWED。
    """
    access = visible_wish(session, wish_id=wish_id, actor=actor).access
    if not access.roles & {ActorRole.REQUESTER, ActorRole.COORDINATOR, ActorRole.ADMIN}:
        raise RoleNotAllowed("仅点单人和协调员可查看流转记录")
    rows = queries.wish_events(session, wish_id=wish_id, page=page)
    return make_page(rows, page, EventOut.model_validate)


@router.get(
    "/wishes/{wish_id}/offers",
    response_model=list[OfferOut],
    responses=WISH_ERRORS,
    summary="协调员：该心愿的派单记录",
)
def offers_of_wish(wish_id: IdPath, session: SessionDep, actor: StaffUser) -> list[OfferOut]:
    """辖区协调员、管理员：
    该心愿发出的全部定向派单邀请及志愿者的答复（接受、婉拒、超时、撤回）。
    """
    access = visible_wish(session, wish_id=wish_id, actor=actor).access
    if not access.roles & {ActorRole.COORDINATOR, ActorRole.ADMIN}:
        raise RoleNotAllowed()
    return [offer_out(o) for o in queries.wish_offers(session, wish_id=wish_id)]


# ---------------------------------------------------------------- one verb per event


@router.post(
    "/wishes/{wish_id}/approve", response_model=WishOut, responses=WISH_ERRORS, summary="审单：通过"
)
def approve(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: NoteIn | None = None
) -> WishOut:
    """辖区协调员审核通过待审核的心愿，心愿进入“待派单”；可附备注。
    不能审核本人点的心愿（403 SELF_APPROVAL）；状态不对返回 409 INVALID_TRANSITION。
    可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.APPROVE, actor, body)


@router.post(
    "/wishes/{wish_id}/reject",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="审单：不通过（理由对点单人可见）",
)
def reject(wish_id: IdPath, body: ReasonIn, session: SessionDep, actor: CurrentUser) -> WishOut:
    """辖区协调员审核不通过待审核的心愿，须填写理由（点单人可见），心愿办结为“审核未通过”。
    状态不对返回 409 INVALID_TRANSITION。可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.REJECT, actor, body)


@router.post(
    "/wishes/{wish_id}/offer",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="派单：定向邀请志愿者（须志愿者接单才生效）",
)
def offer(wish_id: IdPath, body: OfferIn, session: SessionDep, actor: CurrentUser) -> WishOut:
    """辖区协调员向 1–20 位志愿者发出定向派单邀请，心愿进入“派单中”；
    邀请在 expires_in_minutes 后失效。
    邀请不是指派：志愿者接单后才成为其任务。
    志愿者不满足硬性条件返回 400 INVALID_OFFER_TARGET 或 403 NOT_ELIGIBLE，
    已邀请过返回 409 ALREADY_OFFERED。可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.OFFER, actor, body)


@router.post(
    "/wishes/{wish_id}/open-grab",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="派单：在站点服务范围内开放抢单",
)
def open_grab(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: NoteIn | None = None
) -> WishOut:
    """辖区协调员对待派单或派单中的心愿开放抢单：站点服务范围内具备所需技能的志愿者都可接单。
    已开放返回 409 GRAB_ALREADY_OPEN。可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.OPEN_GRAB, actor, body)


@router.post(
    "/wishes/{wish_id}/accept", response_model=WishOut, responses=WISH_ERRORS, summary="接单"
)
def accept(wish_id: IdPath, request: Request, session: SessionDep, actor: CurrentUser) -> WishOut:
    """志愿者接受派单邀请或抢单，心愿成为其任务（“已接单”），完整联系方式随即可查看；
    返回心愿详情与 subscribe_hint。
    只有一人能接到：已被他人接单返回 409 WISH_ALREADY_TAKEN，
    邀请已过期返回 409 OFFER_EXPIRED，未受邀且未开放抢单返回 403 NOT_OFFERED，
    不满足年龄、技能、资质或保险要求返回 403 NOT_ELIGIBLE，手头任务已满返回 409 AT_CAPACITY。
    可带 Idempotency-Key 请求头安全重试。
    """
    out = _fire(session, wish_id, WishEvent.ACCEPT, actor)
    out.subscribe_hint = subscribe_hint(
        session, actor=actor, settings=request.app.state.settings, moment="task_accepted"
    )
    return out


@router.post(
    "/wishes/{wish_id}/decline",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="婉拒派单邀请",
)
def decline(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: OptionalReasonIn | None = None
) -> WishOut:
    """受邀志愿者婉拒派单邀请，可说明理由；心愿仍在派单中。
    没有待答复的邀请返回 403 NO_PENDING_OFFER。可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.DECLINE, actor, body)


@router.post(
    "/wishes/{wish_id}/withdraw",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="退单（须说明理由，心愿回到待派单）",
)
def withdraw(wish_id: IdPath, body: ReasonIn, session: SessionDep, actor: CurrentUser) -> WishOut:
    """接单志愿者退单（须说明理由），心愿回到“待派单”，点单人与协调员会收到通知。
    非接单人返回 403 NOT_ASSIGNEE；已签到后不能退单（409 INVALID_TRANSITION）。
    可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.WITHDRAW, actor, body)


@router.post(
    "/wishes/{wish_id}/release",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="协调员收回已接单的心愿",
)
def release(wish_id: IdPath, body: ReasonIn, session: SessionDep, actor: CurrentUser) -> WishOut:
    """辖区协调员收回已接单的心愿（须说明理由），心愿回到“待派单”，接单志愿者会收到通知。
    可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.RELEASE, actor, body)


@router.post(
    "/wishes/{wish_id}/rate",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="评单（仅点单人，1–5 分）",
)
def rate(wish_id: IdPath, body: RateIn, session: SessionDep, actor: CurrentUser) -> WishOut:
    """点单人对已完成的服务评分（1–5 分，可留言），心愿进入“已评价”。每个心愿只能评一次。
    非点单人返回 403 ROLE_NOT_ALLOWED，未完成或已评价返回 409 INVALID_TRANSITION。
    可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.RATE, actor, body)


@router.post(
    "/wishes/{wish_id}/cancel",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="取消心愿（协调员须说明理由）",
)
def cancel(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: OptionalReasonIn | None = None
) -> WishOut:
    """点单人在接单前可取消；辖区协调员在服务完成前可取消，须说明理由。
    受邀与接单的志愿者会收到通知。
    状态不允许返回 409 INVALID_TRANSITION，协调员未填理由返回 400 REASON_REQUIRED。
    可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.CANCEL, actor, body)


@router.post(
    "/wishes/{wish_id}/close", response_model=WishOut, responses=WISH_ERRORS, summary="办结"
)
def close(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: NoteIn | None = None
) -> WishOut:
    """辖区协调员办结已完成或已评价的心愿（点单人超时未评价时系统也会自动办结）。
    可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.CLOSE, actor, body)


@router.post(
    "/wishes/{wish_id}/escalate",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="上报：交上级单位（所、中心、市）处理",
)
def escalate(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: NoteIn | None = None
) -> WishOut:
    """辖区协调员把本单位处理不了的心愿上报上级单位（站→所→中心→市），心愿改由上级处理，
    状态不变。可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.ESCALATE, actor, body)


@router.post(
    "/wishes/{wish_id}/remind",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="提醒接单志愿者按时签到（服务中则提醒签退）",
)
def remind(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: NoteIn | None = None
) -> WishOut:
    """辖区协调员提醒接单志愿者按时签到（服务中则提醒签退），志愿者会收到消息；心愿状态不变。
    可带 Idempotency-Key 请求头安全重试。
    """
    return _fire(session, wish_id, WishEvent.REMIND, actor, body)


# The system's own event `expire` (offers that timed out) has no endpoint.
