"""The caller's own wish lists: the wishes they placed, the offers they received, their tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from app.auth.deps import CurrentUser, VolunteerUser
from app.db import SessionDep
from app.models.enums import WishStatus
from app.pagination import Page, PageDep, make_page
from app.routing import make_router
from app.wishes import queries
from app.wishes.schemas import OfferOut, WishSummary
from app.wishes.views import offer_out, wish_summary

router = make_router(prefix="/me", tags=["我的"])


@router.get("/wishes", response_model=Page[WishSummary], summary="我点的心愿（含代点）")
def my_wishes(
    session: SessionDep, actor: CurrentUser, page: PageDep, status: WishStatus | None = None
) -> Page[WishSummary]:
    """本人点的心愿以及本人代他人点的心愿，最新在前，可按状态筛选，分页返回。"""
    rows = queries.my_wishes(session, actor=actor, status=status, page=page)
    return make_page(rows, page, wish_summary)


@router.get("/offers", response_model=Page[OfferOut], summary="志愿者：我收到的派单邀请")
def my_offers(
    session: SessionDep,
    actor: VolunteerUser,
    page: PageDep,
    pending_only: bool = True,
) -> Page[OfferOut]:
    """志愿者：收到的派单邀请（默认只看待答复的），每条附心愿摘要与距离档位，分页返回。
    未注册志愿者返回 403 NOT_A_VOLUNTEER。
    """
    assert actor.volunteer_id is not None
    rows = queries.my_offers(
        session, volunteer_id=actor.volunteer_id, pending_only=pending_only, page=page
    )
    return make_page(rows, page, lambda row: offer_out(row.offer, row.wish, actor.volunteer))


@router.get("/tasks", response_model=Page[WishSummary], summary="志愿者：我的任务")
def my_tasks(
    session: SessionDep,
    actor: VolunteerUser,
    page: PageDep,
    status: Annotated[list[WishStatus] | None, Query(description="默认：已接单、服务中")] = None,
) -> Page[WishSummary]:
    """志愿者：本人已接单的心愿（默认“已接单”与“服务中”），分页返回。
    未注册志愿者返回 403 NOT_A_VOLUNTEER。
    """
    assert actor.volunteer_id is not None
    rows = queries.my_tasks(session, volunteer_id=actor.volunteer_id, statuses=status, page=page)
    return make_page(rows, page, wish_summary)
