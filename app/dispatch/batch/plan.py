"""A plan for one unit: the solver's assignment, each pair with its score and why, and each
wish left out with the reason. Making a plan changes nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.dispatch.batch.problem import build_problem, without_volunteer
from app.dispatch.batch.solver import solve, total_score
from app.matching.scoring import FACTORS
from app.matching.service import volunteer_names
from app.models import OrgUnit, Volunteer
from app.org_units.errors import OrgUnitNotFound

log = structlog.get_logger()


class UnassignedReason(StrEnum):
    NO_ELIGIBLE_VOLUNTEER = "NO_ELIGIBLE_VOLUNTEER"
    CAPACITY_TAKEN = "CAPACITY_TAKEN"


UNASSIGNED_TEXT = {
    UnassignedReason.NO_ELIGIBLE_VOLUNTEER: "本单位没有符合条件的志愿者",
    UnassignedReason.CAPACITY_TAKEN: "符合条件的志愿者名额已分给得分更高的匹配",
}


@dataclass
class PlanItem:
    wish_id: int
    title: str
    volunteer_id: int
    name: str
    distance_m: float
    score: float
    factors: dict[str, float]


@dataclass
class UnassignedWish:
    wish_id: int
    title: str
    reason: UnassignedReason
    eligible_count: int


@dataclass
class Plan:
    unit_id: int
    weights: dict[str, float]
    items: list[PlanItem]
    unassigned: list[UnassignedWish]
    total_score: float
    wish_count: int
    volunteer_count: int  # active volunteers of the subtree considered
    eligible_pairs: int
    truncated: bool
    elapsed_ms: float
    timings_ms: dict[str, float]


def plan_for_unit(session: Session, *, unit: OrgUnit, actor: Principal | None) -> Plan:
    """The best plan for the unit's approved wishes, for review. Changes nothing."""
    started = time.perf_counter()
    if actor is not None and not actor.manages(unit.path):
        raise OrgUnitNotFound()
    problem = build_problem(session, unit=unit)
    if actor is not None:
        # Nobody offers a wish to themselves (app/auth/separation.py): a coordinator who also
        # volunteers in the unit is left out of their own plan.
        own = session.scalar(select(Volunteer.id).where(Volunteer.user_id == actor.user_id))
        if own is not None:
            problem = without_volunteer(problem, own)
    solving = time.perf_counter()
    assignment = solve(problem.scores, problem.capacity)
    solved = time.perf_counter()

    matrix = problem.scores
    assigned_rows = np.flatnonzero(assignment >= 0)
    names = volunteer_names(
        session, [int(problem.volunteer_ids[assignment[r]]) for r in assigned_rows]
    )
    items: list[PlanItem] = []
    unassigned: list[UnassignedWish] = []
    for row, column in enumerate(assignment.tolist()):
        wish_id, title = int(problem.wish_ids[row]), problem.titles[row]
        if column < 0:
            eligible = int(matrix.indptr[row + 1] - matrix.indptr[row])
            reason = (
                UnassignedReason.CAPACITY_TAKEN
                if eligible
                else UnassignedReason.NO_ELIGIBLE_VOLUNTEER
            )
            unassigned.append(UnassignedWish(wish_id, title, reason, eligible))
            continue
        at = problem.edge(row, column)
        volunteer_id = int(problem.volunteer_ids[column])
        items.append(
            PlanItem(
                wish_id=wish_id,
                title=title,
                volunteer_id=volunteer_id,
                name=names.get(volunteer_id, ""),
                distance_m=round(float(problem.exact_distances[at]), 1),
                score=round(float(matrix.data[at]), 4),
                factors={name: round(float(problem.factors[name][at]), 4) for name in FACTORS},
            )
        )
    finished = time.perf_counter()
    timings = {
        **problem.timings_ms,
        "solve": (solved - solving) * 1000,
        "assemble": (finished - solved) * 1000,
    }
    plan = Plan(
        unit_id=unit.id,
        weights=problem.weights,
        items=items,
        unassigned=unassigned,
        total_score=round(total_score(matrix, assignment), 4),
        wish_count=len(problem.wish_ids),
        volunteer_count=len(problem.volunteer_ids),
        eligible_pairs=int(matrix.nnz),
        truncated=problem.truncated,
        elapsed_ms=round((finished - started) * 1000, 1),
        timings_ms={name: round(ms, 1) for name, ms in timings.items()},
    )
    log.info(
        "dispatch.batch_plan",
        unit_id=unit.id,
        wishes=plan.wish_count,
        assigned=len(items),
        volunteers=plan.volunteer_count,
        eligible_pairs=plan.eligible_pairs,
        elapsed_ms=plan.elapsed_ms,
    )
    return plan
