"""批量派单: a coordinator computes one plan for every approved wish of a unit, reviews it,
then sends the offers.

Scope: the unit must be one the caller manages (else 404 ORG_UNIT_NOT_FOUND, as for any unit
outside one's reach). When applying, a wish outside the unit's subtree is reported per item as
WISH_NOT_FOUND rather than refusing the whole request: a plan is reviewed for minutes, and one
stale or foreign line should not hold back the others.

The schemas live here rather than in `dispatch/schemas.py`, which belongs to the dispatch
policy endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from app.auth.deps import StaffUser
from app.db import SessionDep, admitted, get_database
from app.dispatch import batch
from app.errors import AppError
from app.matching.schemas import FactorOut
from app.models.enums import WishStatus
from app.org_units.service import managed_unit
from app.routing import changes_nothing, make_router
from app.schemas import Id, IdPath, Schema, ShortNote

router = make_router(tags=["匹配与派单"])


def _read_session(
    request: Request, _admitted: Annotated[None, Depends(admitted, scope="function")]
) -> Iterator[Session]:
    """A read-only session for the plan. The plan is a POST (a computation, not a resource),
    but it writes nothing: `SessionDep` would open a write transaction, which on SQLite takes
    the database's write lock (BEGIN IMMEDIATE) for the whole computation."""
    session = get_database(request).session(write=False)
    try:
        yield session
    finally:
        try:
            session.rollback()
        finally:
            session.close()


ReadSessionDep = Annotated[Session, Depends(_read_session, scope="function")]


# ---------------------------------------------------------------- schemas


class PlanItemOut(BaseModel):
    wish_id: int
    title: str
    volunteer_id: int
    name: str
    distance_m: float
    score: float
    factors: dict[str, FactorOut] = Field(description="为什么是这位志愿者：各项得分")


class UnassignedOut(BaseModel):
    wish_id: int
    title: str
    reason: batch.UnassignedReason
    message: str
    eligible_count: int = Field(description="符合硬性条件的志愿者人数")


class PlanCounts(BaseModel):
    wishes: int = Field(description="参与计算的待派单心愿数")
    assigned: int
    unassigned: int
    volunteers: int = Field(description="本单位（含下级）参与计算的在岗志愿者数")
    eligible_pairs: int = Field(description="满足硬性条件的（心愿, 志愿者）组合数")


class PlanOut(BaseModel):
    org_unit_id: int
    weights: dict[str, float]
    items: list[PlanItemOut] = Field(description="建议的派单：每个心愿至多一位志愿者")
    unassigned: list[UnassignedOut]
    total_score: float = Field(description="方案总得分（全局最优）")
    counts: PlanCounts
    truncated: bool = Field(
        description=f"待派单心愿超过 {batch.MAX_WISHES} 个，只计算了最早的 {batch.MAX_WISHES} 个"
    )
    elapsed_ms: float
    timings_ms: dict[str, float]


class AssignmentIn(Schema):
    wish_id: Id
    volunteer_id: Id


class PlanApply(Schema):
    assignments: Annotated[list[AssignmentIn], Field(min_length=1, max_length=batch.MAX_WISHES)] = (
        Field(description="审核后的派单方案（可删改）：每个心愿至多出现一次")
    )
    expires_in_minutes: Annotated[int, Field(ge=5, le=7 * 24 * 60)] | None = Field(
        default=None, description="邀请有效时长（分钟），默认按系统设置"
    )
    note: ShortNote = ""

    @field_validator("assignments")
    @classmethod
    def _one_per_wish(cls, value: list[AssignmentIn]) -> list[AssignmentIn]:
        seen: set[int] = set()
        for assignment in value:
            if assignment.wish_id in seen:
                raise ValueError(f"心愿 {assignment.wish_id} 出现了多次，每个心愿只能派给一人")
            seen.add(assignment.wish_id)
        return value


class ItemError(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class AppliedOut(BaseModel):
    wish_id: int
    volunteer_id: int
    ok: bool
    status: WishStatus | None = Field(description="派单后心愿的状态（成功时）")
    error: ItemError | None = None


class ApplyOut(BaseModel):
    org_unit_id: int
    sent: int = Field(description="已发出的派单邀请数")
    failed: int
    items: list[AppliedOut]


def _error(exc: AppError | None) -> ItemError | None:
    if exc is None:
        return None
    return ItemError(code=exc.code, message=exc.message, details=exc.details)


# ---------------------------------------------------------------- routes


@router.post(
    "/org-units/{unit_id}/dispatch-plan",
    response_model=PlanOut,
    summary="批量派单：为本单位（含下级）全部待派单心愿计算全局最优方案，供审核（不发出邀请）",
)
@changes_nothing
def dispatch_plan(unit_id: IdPath, session: ReadSessionDep, actor: StaffUser) -> PlanOut:
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    plan = batch.plan_for_unit(session, unit=unit, actor=actor)
    weights = plan.weights
    return PlanOut(
        org_unit_id=plan.unit_id,
        weights=weights,
        items=[
            PlanItemOut(
                wish_id=item.wish_id,
                title=item.title,
                volunteer_id=item.volunteer_id,
                name=item.name,
                distance_m=item.distance_m,
                score=item.score,
                factors=FactorOut.breakdown(item.factors, weights),
            )
            for item in plan.items
        ],
        unassigned=[
            UnassignedOut(
                wish_id=u.wish_id,
                title=u.title,
                reason=u.reason,
                message=batch.UNASSIGNED_TEXT[u.reason],
                eligible_count=u.eligible_count,
            )
            for u in plan.unassigned
        ],
        total_score=plan.total_score,
        counts=PlanCounts(
            wishes=plan.wish_count,
            assigned=len(plan.items),
            unassigned=len(plan.unassigned),
            volunteers=plan.volunteer_count,
            eligible_pairs=plan.eligible_pairs,
        ),
        truncated=plan.truncated,
        elapsed_ms=plan.elapsed_ms,
        timings_ms=plan.timings_ms,
    )


@router.post(
    "/org-units/{unit_id}/dispatch-plan/apply",
    response_model=ApplyOut,
    summary="按审核后的方案逐条发出定向派单邀请（邀请不是指派：志愿者接单后才成为其任务）",
)
def apply_dispatch_plan(
    unit_id: IdPath, body: PlanApply, session: SessionDep, actor: StaffUser
) -> ApplyOut:
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    items = batch.apply_plan(
        session,
        unit=unit,
        actor=actor,
        assignments=[(a.wish_id, a.volunteer_id) for a in body.assignments],
        expires_in_minutes=body.expires_in_minutes,
        note=body.note,
    )
    return ApplyOut(
        org_unit_id=unit.id,
        sent=sum(item.ok for item in items),
        failed=sum(not item.ok for item in items),
        items=[
            AppliedOut(
                wish_id=item.wish_id,
                volunteer_id=item.volunteer_id,
                ok=item.ok,
                status=item.status,
                error=_error(item.error),
            )
            for item in items
        ],
    )
