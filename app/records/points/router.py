"""积分 endpoints: a volunteer's balance and entries, redemption at the 爱心超市, adjustments."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser, StaffUser, VolunteerUser
from app.auth.separation import refuse_self
from app.db import SessionDep
from app.models import PointsEntry
from app.pagination import PageDep, PageParams, make_page
from app.records.points import service as points
from app.records.points.schemas import (
    AdjustmentIn,
    PointsEntryOut,
    PointsLedgerOut,
    PointsMovementOut,
    RedemptionIn,
)
from app.routing import make_router
from app.schemas import IdPath
from app.volunteers.service import managed_volunteer, visible_volunteer

router = make_router(tags=["服务记录与激励"])


def _entry_out(entry: PointsEntry) -> PointsEntryOut:
    return PointsEntryOut(
        id=entry.id,
        kind=entry.kind,
        points=entry.points,
        item=entry.item,
        reason=entry.reason,
        unit_id=entry.unit_id,
        hours_entry_id=entry.hours_entry_id,
        created_by_id=entry.created_by_id,
        created_at=entry.created_at,
    )


def _ledger(session: Session, volunteer_id: int, page: PageParams) -> PointsLedgerOut:
    rows = points.entries(session, volunteer_id, before_id=page.after_id, limit=page.limit)
    listed = make_page(rows, page, _entry_out)
    return PointsLedgerOut(
        volunteer_id=volunteer_id,
        balance=points.balance(session, volunteer_id),
        items=listed.items,
        next_cursor=listed.next_cursor,
    )


def _movement_out(movement: points.Movement) -> PointsMovementOut:
    return PointsMovementOut(
        entry=_entry_out(movement.entry), balance=movement.balance, replayed=movement.replayed
    )


@router.get("/me/points", response_model=PointsLedgerOut, summary="我的积分：余额与明细")
def my_points(session: SessionDep, actor: VolunteerUser, page: PageDep) -> PointsLedgerOut:
    """志愿者本人：积分余额与明细（服务获得、兑换、手工调整），新的在前，分页返回。
    未注册志愿者返回 403 NOT_A_VOLUNTEER。
    """
    assert actor.volunteer_id is not None
    return _ledger(session, actor.volunteer_id, page)


@router.get(
    "/volunteers/{volunteer_id}/points",
    response_model=PointsLedgerOut,
    summary="志愿者的积分：余额与明细（本人或辖区协调员）",
)
def volunteer_points(
    volunteer_id: IdPath, session: SessionDep, actor: CurrentUser, page: PageDep
) -> PointsLedgerOut:
    """志愿者本人或辖区协调员：该志愿者的积分余额与明细，新的在前，分页返回。
    看不到的志愿者返回 404 VOLUNTEER_NOT_FOUND。
    """
    volunteer, _ = visible_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    return _ledger(session, volunteer.id, page)


@router.post(
    "/volunteers/{volunteer_id}/points/redemptions",
    response_model=PointsMovementOut,
    status_code=201,
    summary="协调员：爱心超市积分兑换（余额不足时拒绝，不影响服务时长）",
)
def redeem(
    volunteer_id: IdPath, body: RedemptionIn, session: SessionDep, actor: StaffUser
) -> PointsMovementOut:
    """辖区协调员：在爱心超市为志愿者兑换物品，扣减积分（不影响服务时长）；
    余额不足返回 409 INSUFFICIENT_POINTS。
    不能为本人兑换（403 SELF_APPROVAL）。
    body 中的 idempotency_key 或 Idempotency-Key 请求头可保证重试不重复扣分。
    返回兑换记录与余额。
    """
    volunteer, station = managed_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    # The goods leave the 爱心超市 on the coordinator's word: not for their own points.
    refuse_self(session, actor, action="redeem_points", user_id=volunteer.user_id)
    movement = points.redeem(
        session=session,
        volunteer_id=volunteer.id,
        unit_id=station.id,
        points=body.points,
        item=body.item,
        idempotency_key=body.idempotency_key,
        actor_id=actor.user_id,
    )
    return _movement_out(movement)


@router.post(
    "/volunteers/{volunteer_id}/points/adjustments",
    response_model=PointsMovementOut,
    status_code=201,
    summary="协调员：手工调整积分（须写明原因，扣减不得超过余额）",
)
def adjust(
    volunteer_id: IdPath, body: AdjustmentIn, session: SessionDep, actor: StaffUser
) -> PointsMovementOut:
    """辖区协调员：手工增减志愿者的积分（须写明原因），
    扣减不得超过余额（409 INSUFFICIENT_POINTS）。
    不能为本人调整（403 SELF_APPROVAL）。可带 Idempotency-Key 请求头安全重试。
    返回调整记录与余额。
    """
    volunteer, station = managed_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    refuse_self(session, actor, action="adjust_points", user_id=volunteer.user_id)
    movement = points.adjust(
        session=session,
        volunteer_id=volunteer.id,
        unit_id=station.id,
        points=body.points,
        reason=body.reason,
        actor_id=actor.user_id,
    )
    return _movement_out(movement)
