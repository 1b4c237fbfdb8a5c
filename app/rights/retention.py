"""Retention: the personal data of finished wishes is erased `RETENTION_DAYS` after they end.

A wish closed, cancelled or rejected that long ago loses its full address, contact phone and
exact place, and its service records lose their check-in and check-out fixes. What remains (the
coarse place, the category, the times, the events, the hours) is what statistics and the
service record need, and says nothing of where anyone lives.

One timer in the jobs table (`privacy.retention`) runs it: each run erases a batch and sets
the next run, at once while a backlog remains, else an hour later. The scheduler creates the
timer when it starts (`jobs.scheduler.Scheduler.ensure_periodic`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from app.config import current_settings
from app.jobs import store
from app.jobs.registry import register
from app.models import Attendance, Wish
from app.models.enums import WishStatus

log = structlog.get_logger()

RETENTION = "privacy.retention"
SUBJECT = 0  # one timer for the whole database
INTERVAL = timedelta(hours=1)
BATCH = 200
FINISHED = (WishStatus.CLOSED, WishStatus.CANCELLED, WishStatus.REJECTED)

_FINISHED_AT = case(
    (Wish.status == WishStatus.CLOSED, Wish.closed_at),
    (Wish.status == WishStatus.CANCELLED, Wish.cancelled_at),
    else_=Wish.rejected_at,
)


def due(session: Session, *, now: datetime, limit: int, days: int | None = None) -> list[int]:
    """Finished wishes past retention whose personal data is still kept, oldest ids first."""
    cutoff = now - timedelta(days=days if days is not None else current_settings().retention_days)
    return list(
        session.scalars(
            select(Wish.id)
            .where(
                Wish.personal_data_erased_at.is_(None),
                Wish.status.in_(FINISHED),
                cutoff > _FINISHED_AT,
            )
            .order_by(Wish.id)
            .limit(limit)
        )
    )


def erase_wishes(session: Session, wish_ids: Sequence[int], now: datetime) -> int:
    """Erase the wishes' personal data and their service records' fixes; how many fixes went."""
    if not wish_ids:
        return 0
    session.execute(
        update(Wish)
        .where(Wish.id.in_(wish_ids), Wish.personal_data_erased_at.is_(None))
        .values(
            full_address=None, contact_phone=None, exact_point=None, personal_data_erased_at=now
        ),
        execution_options={"synchronize_session": False},
    )
    fixes = 0
    for column in (Attendance.check_in_fix, Attendance.check_out_fix):
        result = session.execute(
            update(Attendance)
            .where(Attendance.wish_id.in_(wish_ids), column.is_not(None))
            .values({column.key: None}),
            execution_options={"synchronize_session": False},
        )
        fixes += result.rowcount  # type: ignore[attr-defined]
    return fixes


def run(session: Session, _subject_id: int, now: datetime) -> int:
    """The timer's handler: one batch, then the next run. Returns how many wishes it erased."""
    wish_ids = due(session, now=now, limit=BATCH)
    fixes = erase_wishes(session, wish_ids, now)
    if wish_ids:
        log.info("privacy.retention", wishes=len(wish_ids), fixes=fixes)
    next_at = now if len(wish_ids) == BATCH else now + INTERVAL
    store.set_timer(session, kind=RETENTION, subject_id=SUBJECT, run_at=next_at, now=now)
    return len(wish_ids)


# The same table and runners serve every timer of the service; this one runs forever.
register(RETENTION, run, periodic_subject=SUBJECT)
