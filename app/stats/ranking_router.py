"""Endpoints of the ranking of units (考核排名) and of the weights it uses."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import Query

from app.auth.deps import StaffUser
from app.db import SessionDep
from app.heavy import HEAVY
from app.models import OrgUnit
from app.org_units.service import managed_unit
from app.routing import make_router
from app.schemas import IdPath
from app.seasons.festivals import MAX_YEAR, MIN_YEAR
from app.stats import ranking
from app.stats.errors import RankingPeriodInvalid, RankingPeriodTooLong
from app.stats.periods import asked_period, local_midnight, too_long
from app.stats.ranking_schemas import (
    RANKING_EXAMPLE,
    RankedUnitRef,
    RankingIndicatorOut,
    RankingRow,
    RankingWeightOut,
    RankingWeightsOut,
    RankingWeightsUpdate,
    UnitRankingOut,
)

router = make_router()

FromDate = Annotated[date | None, Query(alias="from", description="开始日期（含），默认本月 1 日")]
ToDate = Annotated[date | None, Query(alias="to", description="结束日期（含），默认今天")]


def _ref(unit: OrgUnit) -> RankedUnitRef:
    return RankedUnitRef(id=unit.id, name=unit.name, level=unit.level)


def _period(first: date | None, last: date | None) -> tuple[date, date]:
    """The local dates asked for (defaults as the statistics'), checked."""
    first, last = asked_period(first, last)
    if first > last or first.year < MIN_YEAR or last.year > MAX_YEAR:
        raise RankingPeriodInvalid(details={"from": first.isoformat(), "to": last.isoformat()})
    # Each child's figures are computed over the whole period (the seasons' section reads the
    # calendar of every year it touches): bounded as the statistics are.
    if too_long(first, last):
        raise RankingPeriodTooLong(details={"from": first.isoformat(), "to": last.isoformat()})
    return first, last


def _weights_out(weights: ranking.Weights) -> list[RankingWeightOut]:
    return [
        RankingWeightOut(indicator=key, label=ranking.BY_KEY[key].label, weight=weight)
        for key, weight in weights.weights.items()
    ]


@router.get(
    "/org-units/{unit_id}/ranking",
    dependencies=[HEAVY],
    response_model=UnitRankingOut,
    responses={200: {"content": {"application/json": {"example": RANKING_EXAMPLE}}}},
    summary="下级单位考核排名（按指标加权）",
)
def get_ranking(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    first: FromDate = None,
    last: ToDate = None,
) -> UnitRankingOut:
    """本单位或上级单位的协调员、管理员：本单位各直属下级单位在所选时段（本市日期，含首尾两天，
    默认本月 1 日至今天）的考核指标、按最小–最大归一化后的得分与加权总分，从高到低排列，
    总分相同按单位代码排列。权重沿用本单位或最近设置过权重的上级单位，均未设置时用系统默认。
    时段不正确返回 400 RANKING_PERIOD_INVALID；超过 3 年返回 400 RANKING_PERIOD_TOO_LONG。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    first, last = _period(first, last)
    weights = ranking.weights_of(session=session, unit=unit)
    rows = ranking.rank(
        session=session,
        unit=unit,
        starts_at=local_midnight(first),
        ends_at=local_midnight(last + timedelta(days=1)),
        weights=weights,
    )
    return UnitRankingOut(
        unit=_ref(unit),
        from_=first,
        to=last,
        weights=_weights_out(weights),
        rows=[
            RankingRow(
                rank=row.rank,
                unit=_ref(row.unit),
                score=row.score,
                indicators=[
                    RankingIndicatorOut(
                        key=m.indicator.key,
                        label=m.indicator.label,
                        value=m.value,
                        score=round(m.score, 4),
                    )
                    for m in row.measures
                ],
            )
            for row in rows
        ],
    )


def _out(unit: OrgUnit, weights: ranking.Weights) -> RankingWeightsOut:
    source = weights.source
    return RankingWeightsOut(
        unit_id=unit.id,
        inherited=source is None or source.id != unit.id,
        source_unit=_ref(source) if source is not None else None,
        weights=_weights_out(weights),
    )


@router.get(
    "/org-units/{unit_id}/ranking-weights",
    response_model=RankingWeightsOut,
    summary="考核排名的指标权重（本单位生效的值）",
)
def get_weights(unit_id: IdPath, session: SessionDep, actor: StaffUser) -> RankingWeightsOut:
    """本单位或上级单位的协调员、管理员：给本单位直属下级排名所用的各指标权重，
    以及它们来自哪个单位（本单位未设置时沿用最近设置过的上级单位，均未设置时为系统默认）。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    return _out(unit, ranking.weights_of(session=session, unit=unit))


@router.put(
    "/org-units/{unit_id}/ranking-weights",
    response_model=RankingWeightsOut,
    summary="设置本单位考核排名的指标权重（下级单位未设置的沿用本单位）",
)
def set_weights(
    unit_id: IdPath, body: RankingWeightsUpdate, session: SessionDep, actor: StaffUser
) -> RankingWeightsOut:
    """本单位或上级单位的协调员、管理员：设置本单位的指标权重（每项 0–100 的整数，
    未列出的指标为 0，至少一项大于 0）。指标不存在返回 400 RANKING_INDICATOR_UNKNOWN，
    重复返回 400 RANKING_INDICATOR_REPEATED，超出范围返回 400 RANKING_WEIGHT_OUT_OF_RANGE，
    全为 0 返回 400 RANKING_WEIGHTS_ALL_ZERO。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    weights = ranking.set_weights(
        session=session,
        unit=unit,
        given=[(w.indicator, w.weight) for w in body.weights],
        actor_id=actor.user_id,
    )
    return _out(unit, weights)


@router.delete(
    "/org-units/{unit_id}/ranking-weights",
    response_model=RankingWeightsOut,
    summary="恢复上级设置：删除本单位自设的考核排名权重，改为沿用上级单位（或系统默认）",
)
def clear_weights(unit_id: IdPath, session: SessionDep, actor: StaffUser) -> RankingWeightsOut:
    """本单位或上级单位的协调员、管理员：删除本单位自行设置的指标权重，
    此后本单位（及未自行设置的下级单位）沿用最近设置过权重的上级单位，均未设置时用系统默认。
    返回删除后本单位生效的权重及其来源；本单位本未设置时不报错，照样返回。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    return _out(unit, ranking.clear_weights(session=session, unit=unit))
