"""Honour lists (好人榜 / 爱心榜): published, so any logged-in user may read any unit's list."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query

from app.auth.deps import CurrentUser
from app.db import SessionDep
from app.org_units.service import get_unit
from app.records.honour import service as honour
from app.records.honour.schemas import HonourListOut, HonourRowOut, SeasonRef, UnitRef
from app.records.honour.service import HonourBy, HonourPeriod
from app.routing import make_router
from app.schemas import IdPath, hours_of
from app.seasons.service import local_date

router = make_router(tags=["服务记录与激励"])


@router.get(
    "/org-units/{unit_id}/honour-list",
    response_model=HonourListOut,
    summary="好人榜 / 爱心榜：本单位及下级志愿者按月、季、年排行",
)
def honour_list(
    unit_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    by: Annotated[
        HonourBy,
        Query(
            description="hours 服务时长 | rating 群众评价 | season_theme 当季主题服务时长"
            "（统计期固定为日期所在的四季红季节）"
        ),
    ] = HonourBy.HOURS,
    period: Annotated[
        HonourPeriod | None,
        Query(description="month 自然月 | season 四季红季节 | year 自然年；默认 month"),
    ] = None,
    on: Annotated[
        date | None, Query(alias="date", description="统计期内的任一天，默认今天（本市时区）")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="最多返回条数")] = 20,
    min_ratings: Annotated[
        int, Query(ge=1, le=100, description="按评价排行时，上榜所需最少评价数")
    ] = honour.DEFAULT_MIN_RATINGS,
) -> HonourListOut:
    """任何已登录用户：本单位及下级单位志愿者的光荣榜，
    按服务时长（好人榜）、群众评价（爱心榜）或当季主题服务时长排行，可选月、季、年与日期。
    列出名次、姓名、所属站点与成绩。按当季主题排行须选季节时段（400 HONOUR_THEME_NEEDS_SEASON），
    所选日期不在任何季节返回 404 NO_SEASON_ON_DATE。
    """
    # Published lists: any logged-in user reads any unit's, but the unit must exist.
    unit = get_unit(session=session, unit_id=unit_id)
    resolved = honour.resolve_period(by, period)
    window = honour.window(session=session, period=resolved, day=on or local_date())
    rows = honour.honour_list(
        session=session, unit=unit, by=by, window=window, limit=limit, min_ratings=min_ratings
    )
    mine = (
        honour.honour_list(
            session=session,
            unit=unit,
            by=by,
            window=window,
            limit=1,
            min_ratings=min_ratings,
            only=actor.volunteer_id,
        )
        if actor.volunteer_id is not None
        else []
    )
    rating = by == HonourBy.RATING
    return HonourListOut(
        unit=UnitRef(id=unit.id, name=unit.name),
        by=by,
        period=resolved,
        start_date=window.start_date,
        end_date=window.end_date,
        season=SeasonRef(code=window.season.code, name=window.season.name)
        if window.season is not None
        else None,
        theme_category_codes=list(window.theme_categories) if by == HonourBy.SEASON_THEME else None,
        min_ratings=min_ratings if rating else None,
        items=[_row_out(row) for row in rows],
        mine=_row_out(mine[0]) if mine else None,
    )


def _row_out(row: honour.HonourRow) -> HonourRowOut:
    return HonourRowOut(
        rank=row.rank,
        volunteer_id=row.volunteer_id,
        name=row.name,
        station=UnitRef(id=row.station_id, name=row.station_name),
        hours=hours_of(row.minutes),
        average_rating=round(row.average_rating, 2) if row.average_rating is not None else None,
        rating_count=row.rating_count,
    )
