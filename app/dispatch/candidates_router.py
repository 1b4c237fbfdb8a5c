"""Candidates for a wish: dispatch asks matching to rank the volunteers for a wish the caller may
see and coordinate."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from app.auth.deps import StaffUser
from app.db import SessionDep
from app.matching import service
from app.matching.schemas import CandidateOut, FactorOut, IneligibleOut, RankingOut, ReasonOut
from app.routing import make_router
from app.schemas import IdPath
from app.wishes.access import visible_wish
from app.wishes.errors import RoleNotAllowed
from app.wishes.state import ActorRole

router = make_router(tags=["匹配与派单"])


@router.get(
    "/wishes/{wish_id}/candidates",
    response_model=RankingOut,
    summary="协调员：为心愿推荐志愿者（硬性条件 + 可解释的评分）",
)
def candidates(
    wish_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    include_ineligible: Annotated[
        bool, Query(description="同时列出附近不符合条件的志愿者及原因")
    ] = False,
    area_factor: Annotated[
        float, Query(ge=1.0, le=5.0, description="把心愿所在区域放大的倍数")
    ] = 1.0,
) -> RankingOut:
    """辖区协调员、管理员：为心愿推荐志愿者，
    先按硬性条件筛选（年龄、技能与资质、保险、时段、手头任务数、服务范围），
    再按可解释的评分由高到低排列，每项得分与理由一并返回；
    include_ineligible=true 时同时列出不符合条件的人及原因。
    心愿不在辖区内返回 404 WISH_NOT_FOUND 或 403 ROLE_NOT_ALLOWED。
    """
    outcome = visible_wish(session, wish_id=wish_id, actor=actor)
    if not outcome.access.roles & {ActorRole.COORDINATOR, ActorRole.ADMIN}:
        raise RoleNotAllowed()
    ranking = service.rank(
        session,
        wish=outcome.wish,
        station=outcome.loaded.station,
        limit=limit,
        area_factor=area_factor,
        explain=include_ineligible,
    )
    weights = ranking.weights
    return RankingOut(
        wish_id=ranking.wish_id,
        weights=weights,
        season_fit=ranking.season_fit,
        considered=ranking.considered,
        eligible_count=ranking.eligible_count,
        candidates=[
            CandidateOut(
                volunteer_id=c.volunteer_id,
                name=c.name,
                distance_m=c.distance_m,
                score=c.score,
                factors=FactorOut.breakdown(c.factors, weights),
            )
            for c in ranking.candidates
        ],
        ineligible=[
            IneligibleOut(
                volunteer_id=i.volunteer_id,
                name=i.name,
                distance_m=i.distance_m,
                reasons=[ReasonOut.of(r) for r in i.reasons],
            )
            for i in ranking.ineligible
        ]
        if include_ineligible
        else None,
    )
