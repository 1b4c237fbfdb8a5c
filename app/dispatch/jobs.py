"""The timer table: one pending job per (kind, subject), claimed with leases.

Claiming is one conditional `UPDATE ... RETURNING` over the due rows; on PostgreSQL the rows are
picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint sets; on SQLite the
write lock serialises claims. A claimed job holds a lease: a worker that dies loses it when the
lease runs out, and the job is claimed again. A job is never run by two workers at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Insert, and_, bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import Job

LEASE = timedelta(minutes=2)

PENDING = "pending"
RUNNING = "running"


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    subject_id: int


def set_timer(
    session: Session, *, kind: str, subject_id: int, run_at: datetime, now: datetime
) -> None:
    """Set (or move) the subject's timer. A change of the subject replaces its timer: one
    atomic upsert on the (kind, subject) key, so two transactions cannot both insert."""
    session.connection().execute(
        _upsert_statement(session.get_bind().dialect.name),
        {"kind": kind, "subject_id": subject_id, "run_at": run_at, "now": now},
    )


@cache
def _upsert_statement(dialect: str) -> Insert:
    """Built once per dialect, run with bind parameters (building costs more than running)."""
    insert_for = sqlite_insert if dialect == "sqlite" else postgresql_insert
    now = bindparam("now", type_=Job.__table__.c.created_at.type)
    run_at = bindparam("run_at", type_=Job.__table__.c.run_at.type)
    statement = insert_for(Job).values(
        kind=bindparam("kind"),
        subject_id=bindparam("subject_id"),
        run_at=run_at,
        status=PENDING,
        attempts=0,
        payload={},
        created_at=now,
        updated_at=now,
    )
    return statement.on_conflict_do_update(
        index_elements=[Job.kind, Job.subject_id],
        set_={
            "run_at": run_at,
            "status": PENDING,
            "locked_until": None,
            "locked_by": None,
            "attempts": 0,
            "last_error": None,
            "updated_at": now,
        },
    )


def ensure_timer(
    session: Session, *, kind: str, subject_id: int, run_at: datetime, now: datetime
) -> None:
    """Create the subject's timer unless it has one (periodic jobs that reschedule themselves)."""
    insert_for = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    session.execute(
        insert_for(Job)
        .values(
            kind=kind,
            subject_id=subject_id,
            run_at=run_at,
            status=PENDING,
            attempts=0,
            payload={},
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[Job.kind, Job.subject_id])
    )


def clear_timer(session: Session, *, kind: str, subject_id: int) -> None:
    session.execute(
        delete(Job).where(Job.kind == kind, Job.subject_id == subject_id),
        execution_options={"synchronize_session": False},
    )


def claim(session: Session, *, worker: str, now: datetime, limit: int) -> list[Claimed]:
    """Take up to `limit` due jobs (or jobs whose lease ran out) for this worker."""
    due = (
        select(Job.id)
        .where(
            or_(
                and_(Job.status == PENDING, Job.run_at <= now),
                and_(Job.status == RUNNING, Job.locked_until < now),
            )
        )
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()))
        .values(
            status=RUNNING,
            locked_until=now + LEASE,
            locked_by=worker,
            attempts=Job.attempts + 1,
            updated_at=now,
        )
        .returning(Job.id, Job.kind, Job.subject_id),
        execution_options={"synchronize_session": False},
    ).all()
    return [Claimed(*row) for row in rows]


def retry_later(session: Session, *, job_id: int, worker: str, now: datetime, error: str) -> None:
    """After a failure: try again later, backing off with the number of attempts."""
    attempts = session.scalar(select(Job.attempts).where(Job.id == job_id)) or 1
    delay = timedelta(seconds=min(3600, 30 * 2 ** min(attempts, 7)))
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker)
        .values(
            status=PENDING,
            run_at=now + delay,
            locked_until=None,
            locked_by=None,
            last_error=error[:500],
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
