"""The timer table: one pending job per (kind, subject), claimed with fenced leases.

Claiming is one conditional `UPDATE ... RETURNING` over the due rows; on PostgreSQL the rows are
picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint sets; on SQLite the
write lock serialises claims. Every claim sets a fresh `lease_token`. The claimant runs the
job's handler in one transaction that first locks the job row and checks the token is still its
own (`lock_if_ours`), and releases the job (`finish`, `retry_later`) in that same transaction,
conditioned on the token: a worker whose lease ran out (and whose job another worker took) or
whose timer was moved by a change of its subject commits nothing. While the handler's
transaction holds the job row, no other worker can claim it (PostgreSQL skips locked rows;
SQLite admits one writer), and lock and statement timeouts end that transaction well before the
lease does. A worker that dies loses its lease, and the job is claimed again.

Why our own table and not a job library (compared for this issue): the embedded default must
run with nothing but Python and its SQLite file, and production runs on PostgreSQL, with no
broker in either.
- procrastinate, pgqueuer: PostgreSQL only (LISTEN/NOTIFY, PL/pgSQL procedures); no SQLite.
- huey: Redis, or its own SQLite/file storage; no PostgreSQL storage, and its scheduler runs
  in one consumer process.
- saq, dramatiq, rq, celery: need Redis or RabbitMQ (saq also has a PostgreSQL queue, but no
  SQLite one).
- APScheduler 4: SQLAlchemy data stores for both engines, but still a pre-release that says
  not to use it in production; APScheduler 3 fires a job once per process.
None commits the job's own database work atomically with its release in the application's
transaction, which is what makes a timer step happen exactly once here: libraries acknowledge
a job after the handler returns, so a handler whose lease ran out can still commit its work.
"""

from __future__ import annotations

import random
import uuid
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
    token: str


def new_token() -> str:
    return uuid.uuid4().hex


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
            "lease_token": None,
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


def claim(
    session: Session, *, worker: str, now: datetime, limit: int, lease: timedelta = LEASE
) -> list[Claimed]:
    """Take up to `limit` due jobs (or jobs whose lease ran out) for this worker, under one
    fresh lease token."""
    token = new_token()
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
            locked_until=now + lease,
            locked_by=worker,
            lease_token=token,
            attempts=Job.attempts + 1,
            updated_at=now,
        )
        .returning(Job.id, Job.kind, Job.subject_id),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted((Claimed(*row, token) for row in rows), key=lambda c: c.id)


def lock_if_ours(session: Session, job: Claimed) -> bool:
    """Lock the job's row for this transaction; True if the claim is still ours (nobody took it
    over after the lease, no change of the subject moved the timer)."""
    token = session.scalar(select(Job.lease_token).where(Job.id == job.id).with_for_update())
    return token is not None and token == job.token


def finish(session: Session, *, job: Claimed) -> None:
    """After the handler, in its transaction: a job the handler left as it was (it set no next
    time) is done and goes. A job it rescheduled (`set_timer`) or cleared is no longer ours."""
    session.execute(
        delete(Job).where(Job.id == job.id, Job.lease_token == job.token),
        execution_options={"synchronize_session": False},
    )


def renew(session: Session, *, jobs: list[Claimed], now: datetime, lease: timedelta) -> int:
    """Heartbeat: extend the leases still ours. Rows locked by a running handler are skipped
    (PostgreSQL): nobody can claim them while it holds them."""
    if not jobs:
        return 0
    held = (
        select(Job.id)
        .where(
            Job.id.in_([j.id for j in jobs]),
            Job.lease_token.in_({j.token for j in jobs}),
            Job.status == RUNNING,
        )
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        update(Job).where(Job.id.in_(held.scalar_subquery())).values(locked_until=now + lease),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def release(session: Session, *, jobs: list[Claimed], now: datetime) -> int:
    """Give back claims not started (a worker stopping): due again at once, the claim's
    attempt not counted."""
    released = 0
    for job in jobs:
        result = session.execute(
            update(Job)
            .where(Job.id == job.id, Job.lease_token == job.token)
            .values(
                status=PENDING,
                locked_until=None,
                locked_by=None,
                lease_token=None,
                attempts=Job.attempts - 1,
                updated_at=now,
            ),
            execution_options={"synchronize_session": False},
        )
        released += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return released


def retry_later(
    session: Session,
    *,
    job: Claimed,
    now: datetime,
    error: str,
    base: timedelta = timedelta(seconds=30),
    cap: timedelta = timedelta(hours=1),
) -> bool:
    """After a failure: try again later, backing off exponentially with the attempts (a delay
    drawn between half and all of it, so failed jobs do not return in step). Only while the
    claim is ours; returns whether it was."""
    attempts = session.scalar(select(Job.attempts).where(Job.id == job.id)) or 1
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** min(attempts - 1, 20))
    delay = timedelta(seconds=random.uniform(ceiling / 2, ceiling))
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.lease_token == job.token)
        .values(
            status=PENDING,
            run_at=now + delay,
            locked_until=None,
            locked_by=None,
            lease_token=None,
            last_error=error[:500],
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
