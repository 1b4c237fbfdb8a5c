"""批量派单: a coordinator computes one plan for every approved wish of a unit, reviews it,
then sends the offers.

Scope: the unit must be one the caller manages (else 404 ORG_UNIT_NOT_FOUND, as for any unit
outside one's reach). When applying, a wish outside the unit's subtree is reported per item as
WISH_NOT_FOUND rather than refusing the whole request: a plan is reviewed for minutes, and one
stale or foreign line should not hold back the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from app.auth.deps import StaffUser
from app.config import current_settings
from app.db import SessionDep, admitted, get_database
from app.dispatch.batch import background
from app.dispatch.batch.apply import apply_plan
from app.dispatch.batch.plan import UNASSIGNED_TEXT, plan_for_unit
from app.dispatch.batch.schemas import (
    AppliedOut,
    ApplyOut,
    ApplyStatus,
    ItemError,
    PlanApply,
    PlanCounts,
    PlanItemOut,
    PlanOut,
    UnassignedOut,
)
from app.matching.schemas import FactorOut
from app.models import BatchApply
from app.org_units.service import managed_unit
from app.routing import changes_nothing, make_router
from app.schemas import IdPath

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


# ---------------------------------------------------------------- routes


@router.post(
    "/org-units/{unit_id}/dispatch-plan",
    response_model=PlanOut,
    summary="批量派单：为本单位（含下级）全部待派单心愿计算全局最优方案，供审核（不发出邀请）",
)
@changes_nothing
def dispatch_plan(unit_id: IdPath, session: ReadSessionDep, actor: StaffUser) -> PlanOut:
    """本单位或上级单位的协调员、管理员：
    为本单位及下级全部待派单的心愿计算整体最优的派单方案（每位志愿者不超过其可接任务数），
    返回方案、未能安排的心愿及原因、各项评分。只计算，不发出邀请，不改变任何数据；
    规模超限返回 409 MATCHING_LIMIT。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    plan = plan_for_unit(session, unit=unit, actor=actor)
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
                message=UNASSIGNED_TEXT[u.reason],
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
    responses={202: {"model": ApplyOut, "description": "方案较大，已转为后台发送"}},
    summary="按审核后的方案逐条发出定向派单邀请（邀请不是指派：志愿者接单后才成为其任务）",
)
def apply_dispatch_plan(
    unit_id: IdPath, body: PlanApply, session: SessionDep, actor: StaffUser, response: Response
) -> ApplyOut:
    """本单位或上级单位的协调员、管理员：按审核（可删改）后的方案逐条发出定向派单邀请；
    每条单独成败，已变化的心愿或不再符合条件的志愿者那一条失败并附错误码，其余照常发出。
    返回发出数、失败数与逐条结果。方案超过 BATCH_BACKGROUND_OFFERS 条（默认 200）时，
    本次请求只逐条核对，返回 202、status=applying 与记录号 id，邀请在后台分批发出，
    请轮询 `GET /dispatch-plan/applies/{id}`。可带 Idempotency-Key 请求头安全重试。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    assignments = [(a.wish_id, a.volunteer_id) for a in body.assignments]
    if len(assignments) > current_settings().batch_background_offers:
        record = background.start(
            session,
            unit=unit,
            actor=actor,
            assignments=assignments,
            expires_in_minutes=body.expires_in_minutes,
            note=body.note,
        )
        if record.status == background.APPLYING:
            response.status_code = 202
        return _progress_out(record)
    items = apply_plan(
        session,
        unit=unit,
        actor=actor,
        assignments=assignments,
        expires_in_minutes=body.expires_in_minutes,
        note=body.note,
    )
    return ApplyOut(
        org_unit_id=unit.id,
        sent=sum(item.ok for item in items),
        failed=sum(not item.ok for item in items),
        items=[_applied_out(background.line_of(item)) for item in items],
        total=len(items),
        done=len(items),
    )


@router.get(
    "/dispatch-plan/applies/{apply_id}",
    response_model=ApplyOut,
    summary="查询后台发送的批量派单进度与结果",
)
def get_dispatch_plan_apply(apply_id: IdPath, session: SessionDep, actor: StaffUser) -> ApplyOut:
    """管辖该单位的协调员、管理员：后台发送的批量派单的状态（applying、done）、条数、
    已处理条数、已发出与失败数；完成后附逐条结果。不存在或无权查看返回 404 BATCH_APPLY_NOT_FOUND。
    """
    record = background.visible(session, actor=actor, apply_id=apply_id)
    return _progress_out(record)


def _progress_out(record: BatchApply) -> ApplyOut:
    finished = record.status == background.DONE
    return ApplyOut(
        id=record.id,
        org_unit_id=record.unit_id,
        status=ApplyStatus(record.status),
        total=record.total,
        done=record.done,
        sent=record.sent,
        failed=record.failed,
        items=[_applied_out(line) for line in record.items] if finished else [],
    )


def _applied_out(line: dict[str, Any]) -> AppliedOut:
    return AppliedOut(
        wish_id=line["wish_id"],
        volunteer_id=line["volunteer_id"],
        ok=line["error"] is None and line["status"] is not None,
        status=background.line_status(line),
        error=None if line["error"] is None else ItemError(**line["error"]),
    )
