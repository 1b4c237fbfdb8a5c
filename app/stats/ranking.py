"""Ranking a unit's direct children (考核排名) by indicators of the statistics sections.

Each indicator is one figure of a section (`people`, `coverage`, `seasons`) computed for each
child's own subtree over the same window. For each indicator the children's values are
normalised min-max across the children: (value − min) / (max − min), 0 for a child whose value
is undefined (None) and for everyone when all the defined values are equal. A child's score is
the weighted sum of its normalised values over the sum of the weights, times 100 (0..100). The
order is by score, highest first; equal scores are ordered by unit code.

The weights are data (`ranking_weights`): a unit that sets them sets every indicator (those not
named are 0); a unit that has not uses those of its nearest ancestor that has, and `DEFAULTS`
above that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import clock
from app.models import OrgUnit, RankingWeight
from app.org_units.service import ancestors
from app.stats import coverage, people, seasons
from app.stats.errors import (
    RankingIndicatorRepeated,
    RankingIndicatorUnknown,
    RankingWeightOutOfRange,
    RankingWeightsAllZero,
)
from app.stats.figures import Figure, Scope, Section
from app.stats.queries import for_statistics

MAX_WEIGHT = 100


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    section: Section
    figure: str  # the figure's key (ungrouped)
    default: int  # weight when no unit up the tree sets any


INDICATORS: tuple[Indicator, ...] = (
    Indicator("active", "活跃志愿者", people.SECTION, "people.active", 25),
    Indicator("hours", "服务时长", people.SECTION, "people.hours", 25),
    Indicator("completed", "完成心愿", seasons.SECTION, "seasons.wishes", 25),
    Indicator("coverage", "实践站覆盖率", coverage.SECTION, "coverage.served_share", 25),
    Indicator("new", "新注册志愿者", people.SECTION, "people.new", 0),
    Indicator("hours_per_active", "人均服务时长", people.SECTION, "people.hours_per_active", 0),
    Indicator("balance", "四季均衡指数", seasons.SECTION, "seasons.balance_index", 0),
)
BY_KEY = {indicator.key: indicator for indicator in INDICATORS}
DEFAULTS = {indicator.key: indicator.default for indicator in INDICATORS}


# ---------------------------------------------------------------- weights


@dataclass(frozen=True)
class Weights:
    weights: dict[str, int]  # every indicator, in `INDICATORS` order
    source: OrgUnit | None  # the unit that set them; None: the defaults


def weights_of(*, session: Session, unit: OrgUnit) -> Weights:
    """The weights in force for ranking `unit`'s children."""
    chain = [unit, *reversed(ancestors(session=session, unit=unit))]
    rows = session.execute(
        select(RankingWeight.unit_id, RankingWeight.indicator, RankingWeight.weight).where(
            RankingWeight.unit_id.in_([u.id for u in chain])
        )
    ).all()
    by_unit: dict[int, dict[str, int]] = {}
    for unit_id, indicator, weight in rows:
        by_unit.setdefault(unit_id, {})[indicator] = int(weight)
    for candidate in chain:
        own = by_unit.get(candidate.id)
        if own:
            return Weights({i.key: own.get(i.key, 0) for i in INDICATORS}, candidate)
    return Weights(dict(DEFAULTS), None)


def check_weights(given: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Every indicator's weight from the (indicator, weight) pairs given; unnamed ones are 0."""
    seen: dict[str, int] = {}
    for key, weight in given:
        if key not in BY_KEY:
            raise RankingIndicatorUnknown(details={"indicator": key, "known": list(BY_KEY)})
        if key in seen:
            raise RankingIndicatorRepeated(details={"indicator": key})
        if not 0 <= weight <= MAX_WEIGHT:
            raise RankingWeightOutOfRange(details={"indicator": key, "weight": weight})
        seen[key] = weight
    if not any(weight > 0 for weight in seen.values()):
        raise RankingWeightsAllZero()
    return {i.key: seen.get(i.key, 0) for i in INDICATORS}


def set_weights(
    *, session: Session, unit: OrgUnit, given: Sequence[tuple[str, int]], actor_id: int | None
) -> Weights:
    """Replace the unit's own weights (every indicator gets a row)."""
    weights = check_weights(given)
    session.execute(delete(RankingWeight).where(RankingWeight.unit_id == unit.id))
    now = clock.now()
    session.add_all(
        RankingWeight(
            unit_id=unit.id,
            indicator=key,
            weight=weight,
            set_by_id=actor_id,
            created_at=now,
            updated_at=now,
        )
        for key, weight in weights.items()
    )
    session.flush()
    return Weights(weights, unit)


def clear_weights(*, session: Session, unit: OrgUnit) -> Weights:
    """Remove the unit's own weights: those of the nearest unit above that set them (or the
    defaults) apply to it again. Nothing to remove is no error."""
    session.execute(delete(RankingWeight).where(RankingWeight.unit_id == unit.id))
    session.flush()
    return weights_of(session=session, unit=unit)


# ---------------------------------------------------------------- ranking


@dataclass(frozen=True)
class Measure:
    indicator: Indicator
    value: float | int | None
    score: float  # normalised, 0..1


@dataclass(frozen=True)
class Row:
    rank: int
    unit: OrgUnit
    score: float
    measures: list[Measure]


def children(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    return list(
        session.scalars(
            select(OrgUnit)
            .where(OrgUnit.parent_id == unit.id, OrgUnit.is_active.is_(True))
            .order_by(OrgUnit.code)
        )
    )


def values(session: Session, scope: Scope) -> dict[str, float | int | None]:
    """indicator key → the figure's value for the scope (each section computed once)."""
    figures: dict[str, Figure] = {}
    for section in dict.fromkeys(i.section for i in INDICATORS):
        for figure in section.compute(session, scope):
            if figure.group is None:
                figures[figure.key] = figure
    return {i.key: figures[i.figure].value for i in INDICATORS}


def normalise(found: Sequence[float | int | None]) -> list[float]:
    """Min-max across the children; None and a spread of nothing give 0."""
    defined = [float(v) for v in found if v is not None]
    if not defined:
        return [0.0] * len(found)
    low, high = min(defined), max(defined)
    if high <= low:
        return [0.0] * len(found)
    return [0.0 if v is None else (float(v) - low) / (high - low) for v in found]


def rank(
    *, session: Session, unit: OrgUnit, starts_at: datetime, ends_at: datetime, weights: Weights
) -> list[Row]:
    for_statistics(session)
    units = children(session, unit)
    found = [values(session, Scope(child, starts_at, ends_at)) for child in units]
    normalised = {i.key: normalise([f[i.key] for f in found]) for i in INDICATORS}
    total = sum(weights.weights.values())
    scored = []
    for n, child in enumerate(units):
        measures = [Measure(i, found[n][i.key], normalised[i.key][n]) for i in INDICATORS]
        raw = sum(weights.weights[m.indicator.key] * m.score for m in measures)
        score = round(100 * raw / total, 6) if total else 0.0
        scored.append((score, child, measures))
    scored.sort(key=lambda row: (-row[0], row[1].code))
    return [
        Row(rank=place, unit=child, score=round(score, 2), measures=measures)
        for place, (score, child, measures) in enumerate(scored, start=1)
    ]
