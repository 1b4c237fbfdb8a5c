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
from app.wishes.views import offer_out, wish_out, wish_summary

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
    return make_page(rows, page, wish_summary)


@router.get("/wishes/{wish_id}", response_model=WishOut, responses=WISH_ERRORS, summary="心愿详情")
def get_wish(wish_id: IdPath, session: SessionDep, actor: CurrentUser) -> WishOut:
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
    return _fire(session, wish_id, WishEvent.APPROVE, actor, body)


@router.post(
    "/wishes/{wish_id}/reject",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="审单：不通过（理由对点单人可见）",
)
def reject(wish_id: IdPath, body: ReasonIn, session: SessionDep, actor: CurrentUser) -> WishOut:
    return _fire(session, wish_id, WishEvent.REJECT, actor, body)


@router.post(
    "/wishes/{wish_id}/offer",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="派单：定向邀请志愿者（须志愿者接单才生效）",
)
def offer(wish_id: IdPath, body: OfferIn, session: SessionDep, actor: CurrentUser) -> WishOut:
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
    return _fire(session, wish_id, WishEvent.OPEN_GRAB, actor, body)


@router.post(
    "/wishes/{wish_id}/accept", response_model=WishOut, responses=WISH_ERRORS, summary="接单"
)
def accept(wish_id: IdPath, request: Request, session: SessionDep, actor: CurrentUser) -> WishOut:
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
    return _fire(session, wish_id, WishEvent.DECLINE, actor, body)


@router.post(
    "/wishes/{wish_id}/withdraw",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="退单（须说明理由，心愿回到待派单）",
)
def withdraw(wish_id: IdPath, body: ReasonIn, session: SessionDep, actor: CurrentUser) -> WishOut:
    return _fire(session, wish_id, WishEvent.WITHDRAW, actor, body)


@router.post(
    "/wishes/{wish_id}/release",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="协调员收回已接单的心愿",
)
def release(wish_id: IdPath, body: ReasonIn, session: SessionDep, actor: CurrentUser) -> WishOut:
    return _fire(session, wish_id, WishEvent.RELEASE, actor, body)


@router.post(
    "/wishes/{wish_id}/rate",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="评单（仅点单人，1–5 分）",
)
def rate(wish_id: IdPath, body: RateIn, session: SessionDep, actor: CurrentUser) -> WishOut:
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
    return _fire(session, wish_id, WishEvent.CANCEL, actor, body)


@router.post(
    "/wishes/{wish_id}/close", response_model=WishOut, responses=WISH_ERRORS, summary="办结"
)
def close(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: NoteIn | None = None
) -> WishOut:
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
    return _fire(session, wish_id, WishEvent.REMIND, actor, body)


# The system's own event `expire` (offers that timed out) has no endpoint.


# ---------------------------------------------------------------- my lists


me_router = make_router(prefix="/me", tags=["我的"])


@me_router.get("/wishes", response_model=Page[WishSummary], summary="我点的心愿（含代点）")
def my_wishes(
    session: SessionDep, actor: CurrentUser, page: PageDep, status: WishStatus | None = None
) -> Page[WishSummary]:
    rows = queries.my_wishes(session, actor=actor, status=status, page=page)
    return make_page(rows, page, wish_summary)


@me_router.get("/offers", response_model=Page[OfferOut], summary="志愿者：我收到的派单邀请")
def my_offers(
    session: SessionDep,
    actor: VolunteerUser,
    page: PageDep,
    pending_only: bool = True,
) -> Page[OfferOut]:
    assert actor.volunteer_id is not None
    rows = queries.my_offers(
        session, volunteer_id=actor.volunteer_id, pending_only=pending_only, page=page
    )
    return make_page(rows, page, lambda row: offer_out(row.offer, row.wish, actor.volunteer))


@me_router.get("/tasks", response_model=Page[WishSummary], summary="志愿者：我的任务")
def my_tasks(
    session: SessionDep,
    actor: VolunteerUser,
    page: PageDep,
    status: Annotated[list[WishStatus] | None, Query(description="默认：已接单、服务中")] = None,
) -> Page[WishSummary]:
    assert actor.volunteer_id is not None
    rows = queries.my_tasks(session, volunteer_id=actor.volunteer_id, statuses=status, page=page)
    return make_page(rows, page, wish_summary)
