"""Ranked, explained candidates for a wish."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.config import current_settings
from app.models import OrgUnit, User, Volunteer, Wish

from .catalogue import wish_facts
from .scoring import FACTORS, Reason, distances, evaluate, reasons_of, top
from .volunteers import in_list, volunteers_near, volunteers_where


@dataclass
class Candidate:
    volunteer_id: int
    user_id: int
    distance_m: float
    score: float
    factors: dict[str, float]
    name: str = ""


@dataclass
class IneligibleVolunteer:
    volunteer_id: int
    user_id: int
    distance_m: float
    reasons: list[Reason]
    name: str = ""


@dataclass
class Ranking:
    wish_id: int
    weights: dict[str, float]
    season_fit: float
    considered: int
    eligible_count: int
    candidates: list[Candidate] = field(default_factory=list)
    ineligible: list[IneligibleVolunteer] = field(default_factory=list)


def normalised_weights() -> dict[str, float]:
    weights = current_settings().match_weights
    total = sum(weights.get(name, 0.0) for name in FACTORS) or 1.0
    return {name: weights.get(name, 0.0) / total for name in FACTORS}


def rank(
    session: Session,
    *,
    wish: Wish,
    station: OrgUnit,
    limit: int = 20,
    area_factor: float = 1.0,
    excluded_ids: frozenset[int] = frozenset(),
    explain: bool = False,
    ineligible_limit: int = 50,
) -> Ranking:
    """The best `limit` eligible volunteers for the wish, with each factor of their score.

    With `explain`, also the nearest `ineligible_limit` volunteers in the wish's area who fail a
    hard constraint, with every reason.

    Constraints and scores are judged from the wish's coarse point (as the volunteers who are
    offered it, or told it is open for grab, would see it); the distances reported, for
    coordinators, are to its exact place.
    """
    facts = wish_facts(session, wish=wish, station=station, area_factor=area_factor)
    vols = volunteers_near(session, wish=facts, prefilter=not explain)
    weights = normalised_weights()
    result = evaluate(facts, vols, weights=weights, excluded_ids=excluded_ids)
    best = top(result, vols.ids, limit)
    exact = distances(wish.lat, wish.lng, vols.lat, vols.lng)
    ranking = Ranking(
        wish_id=wish.id,
        weights=weights,
        season_fit=facts.season_fit,
        considered=len(vols),
        eligible_count=int(np.count_nonzero(result.eligible)),
        candidates=[
            Candidate(
                volunteer_id=int(vols.ids[i]),
                user_id=int(vols.user_ids[i]),
                distance_m=round(float(exact[i]), 1),
                score=round(float(result.score[i]), 4),
                factors={name: round(float(result.factors[name][i]), 4) for name in FACTORS},
            )
            for i in best
        ],
    )
    if explain:
        failing = np.flatnonzero(~result.eligible)
        nearest = failing[np.argsort(exact[failing], kind="stable")[:ineligible_limit]]
        ranking.ineligible = [
            IneligibleVolunteer(
                volunteer_id=int(vols.ids[i]),
                user_id=int(vols.user_ids[i]),
                distance_m=round(float(exact[i]), 1),
                reasons=reasons_of(int(result.reasons[i])),
            )
            for i in nearest
        ]
    _name(session, ranking)
    return ranking


@cache
def _names_statement(dialect: str) -> Select:
    return (
        select(Volunteer.id, User.name)
        .join(User, User.id == Volunteer.user_id)
        .where(in_list(Volunteer.id, "ids", dialect))
    )


def volunteer_names(session: Session, volunteer_ids: Iterable[int]) -> dict[int, str]:
    """Volunteers' names by id, in one prebuilt statement."""
    ids = sorted(set(volunteer_ids))
    if not ids:
        return {}
    connection = session.connection()
    rows = connection.execute(_names_statement(connection.dialect.name), {"ids": ids})
    return {volunteer_id: name for volunteer_id, name in rows}


def _name(session: Session, ranking: Ranking) -> None:
    people: list[Candidate | IneligibleVolunteer] = [*ranking.candidates, *ranking.ineligible]
    names = volunteer_names(session, (p.volunteer_id for p in people))
    for person in people:
        person.name = names.get(person.volunteer_id, "")


def reasons_for(
    session: Session, *, wish: Wish, station: OrgUnit, volunteer_ids: list[int]
) -> dict[int, list[Reason]]:
    """Every hard constraint each named volunteer fails for the wish (empty: eligible)."""
    facts = wish_facts(session, wish=wish, station=station)
    vols = volunteers_where(session, condition=Volunteer.id.in_(volunteer_ids), wish=facts)
    result = evaluate(facts, vols, weights=normalised_weights())
    return {int(v): reasons_of(int(r)) for v, r in zip(vols.ids, result.reasons, strict=True)}
