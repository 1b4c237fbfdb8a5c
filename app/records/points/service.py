"""The points ledger (积分, for the 爱心超市): earned per credited hour, spent by redemption.

Points are a ledger of their own, `points_entries`, append-only like the hours ledger. Nothing
here reads or writes `hours_entries` except to look at the entry that earns: spending points
never reduces a volunteer's hours.

Two invariants hold for every volunteer:
- the balance is the sum of their entries (never a stored figure);
- the balance never goes below zero. Every entry that takes points away (redeem, reverse,
  a negative adjust) is written under a lock on the volunteer's row, after reading the balance
  under that lock: `SELECT … FOR UPDATE` on PostgreSQL; on SQLite, where FOR UPDATE is dropped,
  write transactions start with `BEGIN IMMEDIATE` (app/db.py) and so run one at a time.

`earn_for` and `reverse_for` are called by the hours crediting code inside its own transaction;
the redemption and adjustment services by the routes. None of them commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.models import HoursEntry, PointsEntry
from app.records.points.errors import IdempotencyKeyReused, InsufficientPoints
from app.rules.records import Rules
from app.volunteers.service import lock_volunteer

log = structlog.get_logger()

EARN = "earn"
REDEEM = "redeem"
REVERSE = "reverse"
ADJUST = "adjust"

# One redemption or adjustment moves at most this many points (at the default 10 points per
# hour, 100 000 hours of service): larger figures are typing mistakes, refused at the edge.
MAX_POINTS = 1_000_000


# ---------------------------------------------------------------- reading


def balance(session: Session, volunteer_id: int) -> int:
    """The volunteer's points: the sum of their ledger."""
    total = session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
            PointsEntry.volunteer_id == volunteer_id
        )
    )
    return int(total or 0)


def entries(
    session: Session, volunteer_id: int, *, before_id: int | None, limit: int
) -> Sequence[PointsEntry]:
    """The volunteer's entries, newest first, up to `limit + 1` (for `make_page`)."""
    query = select(PointsEntry).where(PointsEntry.volunteer_id == volunteer_id)
    if before_id is not None:
        query = query.where(PointsEntry.id < before_id)
    return session.scalars(query.order_by(PointsEntry.id.desc()).limit(limit + 1)).all()


# ---------------------------------------------------------------- writing


def _append(
    session: Session,
    *,
    volunteer_id: int,
    kind: str,
    points: int,
    unit_id: int,
    actor_id: int | None,
    hours_entry_id: int | None = None,
    item: str | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> PointsEntry:
    entry = PointsEntry(
        volunteer_id=volunteer_id,
        kind=kind,
        points=points,
        hours_entry_id=hours_entry_id,
        unit_id=unit_id,
        item=item,
        reason=reason,
        idempotency_key=idempotency_key,
        created_by_id=actor_id,
        created_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    log.info(
        f"points.{kind}",
        volunteer_id=volunteer_id,
        points=points,
        entry_id=entry.id,
        actor_id=actor_id,
    )
    return entry


def _linked_to(session: Session, hours_entry_id: int) -> PointsEntry | None:
    return session.scalar(select(PointsEntry).where(PointsEntry.hours_entry_id == hours_entry_id))


def earn_for(
    session: Session, entry: HoursEntry, rules: Rules, actor_id: int | None
) -> PointsEntry | None:
    """Points for a credited service entry: floor(minutes × points_per_hour / 60), at the rate
    of the rules given (the recording unit's). Returns the entry written, or None when nothing
    is written: not a service entry, no positive minutes, a rate or a result of 0, or points
    already earned by this hours entry (an hours entry earns at most once)."""
    if entry.category != "service" or entry.minutes <= 0 or rules.points_per_hour <= 0:
        return None
    points = entry.minutes * rules.points_per_hour // 60
    if points <= 0 or _linked_to(session, entry.id) is not None:
        return None
    return _append(
        session,
        volunteer_id=entry.volunteer_id,
        kind=EARN,
        points=points,
        unit_id=entry.unit_id,
        actor_id=actor_id,
        hours_entry_id=entry.id,
    )


def reverse_for(
    session: Session, reversal: HoursEntry, original: HoursEntry, actor_id: int | None
) -> PointsEntry | None:
    """Take back what `original` earned, now that `reversal` reverses it, but never below a
    zero balance: points already redeemed stay spent, and `reason` says how many.

    The reverse entry is linked to the reversal (`hours_entry_id`), so one reversal takes back
    at most once. Returns None when `original` earned nothing or this reversal was already
    applied. When nothing at all can be taken back, a 0-point entry still records the reversal
    and the shortfall."""
    if reversal.volunteer_id != original.volunteer_id:
        raise ValueError("a reversal belongs to the same volunteer as the entry it reverses")
    earned = _linked_to(session, original.id)
    if earned is None or earned.kind != EARN or earned.points <= 0:
        return None
    lock_volunteer(session, original.volunteer_id)
    if _linked_to(session, reversal.id) is not None:
        return None
    current = balance(session, original.volunteer_id)
    taken = min(earned.points, max(current, 0))
    kept = earned.points - taken
    reason = f"服务时长冲正（记录 #{original.id}），收回积分 {taken} 分"
    if kept:
        reason += f"；另有 {kept} 分已兑换使用，无法收回"
    return _append(
        session,
        volunteer_id=original.volunteer_id,
        kind=REVERSE,
        points=-taken,
        unit_id=reversal.unit_id,
        actor_id=actor_id,
        hours_entry_id=reversal.id,
        reason=reason,
    )


@dataclass(frozen=True)
class Movement:
    """An entry written (or, for a repeated idempotency key, found) and the balance after."""

    entry: PointsEntry
    balance: int
    replayed: bool = False


def redeem(
    *,
    session: Session,
    volunteer_id: int,
    unit_id: int,
    points: int,
    item: str,
    idempotency_key: str | None,
    actor_id: int,
) -> Movement:
    """Spend points at the 爱心超市. Refused (nothing written) when the balance is short.

    With an idempotency key, a repeated request for the same volunteer returns the entry the
    first one wrote (and the current balance) instead of spending again; the same key with a
    different amount or item is refused."""
    if points <= 0:
        raise ValueError("a redemption spends a positive number of points")
    lock_volunteer(session, volunteer_id)
    # Looked up under the volunteer's lock, so two requests with one key cannot both write (and
    # the unique key would refuse the second if they could).
    if idempotency_key is not None:
        earlier = session.scalar(
            select(PointsEntry).where(
                PointsEntry.volunteer_id == volunteer_id,
                PointsEntry.kind == REDEEM,
                PointsEntry.idempotency_key == idempotency_key,
            )
        )
        if earlier is not None:
            if earlier.points != -points or earlier.item != item:
                raise IdempotencyKeyReused(
                    details={
                        "entry_id": earlier.id,
                        "points": -earlier.points,
                        "item": earlier.item,
                    }
                )
            return Movement(earlier, balance(session, volunteer_id), replayed=True)
    current = balance(session, volunteer_id)
    if current < points:
        raise InsufficientPoints(details={"balance": current, "requested": points})
    entry = _append(
        session,
        volunteer_id=volunteer_id,
        kind=REDEEM,
        points=-points,
        unit_id=unit_id,
        actor_id=actor_id,
        item=item,
        idempotency_key=idempotency_key,
    )
    return Movement(entry, current - points)


def adjust(
    *,
    session: Session,
    volunteer_id: int,
    unit_id: int,
    points: int,
    reason: str,
    actor_id: int,
) -> Movement:
    """A coordinator's manual adjustment (an activity prize, a correction), with a reason.

    A negative adjustment may not overdraw. Nobody adjusts their own points: the route refuses
    it (app/auth/separation.py) before calling this."""
    if points == 0:
        raise ValueError("an adjustment moves a non-zero number of points")
    lock_volunteer(session, volunteer_id)
    current = balance(session, volunteer_id)
    if current + points < 0:
        raise InsufficientPoints(details={"balance": current, "requested": -points})
    entry = _append(
        session,
        volunteer_id=volunteer_id,
        kind=ADJUST,
        points=points,
        unit_id=unit_id,
        actor_id=actor_id,
        reason=reason,
    )
    return Movement(entry, current + points)
