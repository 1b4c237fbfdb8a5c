"""The delivery engine: claim due messages with a fenced lease, call their channel's handler
outside any transaction, record the result only if the lease is still ours.

- Claim: one short transaction, `UPDATE ... RETURNING` over due rows picked with
  `FOR UPDATE SKIP LOCKED` on PostgreSQL (concurrent workers take disjoint sets; on SQLite the
  write lock serialises claims). A claim sets a fresh `lease_token`, `locked_by` and
  `locked_until`; the message stays `pending`.
- Deliver: the handler runs with no transaction open; a heartbeat renews the leases of the
  batch while it works, so a slow receiver never lets another worker take a message in flight.
- Record: one statement, `UPDATE ... WHERE id AND lease_token` (our token): sent, skipped,
  dead, or pending again later. If the row no longer carries our token (our lease ran out and
  another worker took it), nothing is recorded and `delivery.lease_lost` is logged.

So a message is delivered once unless a worker dies (or loses its lease) between calling the
handler and recording the result: then it is delivered again after the lease, and the receiver
drops the repeat by its `uid`. A delivery thread handles its batch one message at a time, so
that is at most one message per thread (DELIVERY_CONCURRENCY per process) of a worker that dies.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial

import structlog
from sqlalchemy import Update, and_, bindparam, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import clock
from app.background import BackgroundLoop
from app.config import Settings, get_settings, with_own_settings
from app.db import Database, limit_waits
from app.delivery.channels import (
    Failed,
    Held,
    Outgoing,
    Result,
    Retry,
    Sent,
    Skipped,
    handler_for,
)
from app.jobs.scheduler import worker_name
from app.jobs.store import new_token
from app.leases import heartbeat
from app.models import OutboxMessage
from app.models.enums import OutboxStatus

log = structlog.get_logger()

M = OutboxMessage


@dataclass
class Context:
    database: Database
    settings: Settings
    now: datetime


@dataclass(frozen=True)
class Claimed:
    message: Outgoing
    token: str


def claim(
    session: Session, *, worker: str, now: datetime, limit: int, lease: timedelta
) -> list[Claimed]:
    """Take up to `limit` due messages (pending, available, not under a live lease)."""
    token = new_token()
    due = (
        select(M.id)
        .where(
            M.status == OutboxStatus.PENDING,
            M.available_at <= now,
            or_(M.locked_until.is_(None), M.locked_until < now),
        )
        .order_by(M.available_at, M.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # Core, not the ORM: the ORM's UPDATE ... RETURNING would compare the sealed payload.
    table = OutboxMessage.metadata.tables["outbox"]
    rows = session.execute(
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(lease_token=token, locked_by=worker, locked_until=now + lease)
        .returning(
            table.c.id,
            table.c.uid,
            table.c.channel,
            table.c.topic,
            table.c.recipient_id,
            table.c.subscriber_id,
            table.c.wish_id,
            table.c.payload,
            table.c.attempts,
            table.c.created_at,
        ),
    ).all()
    return sorted((Claimed(Outgoing(*row), token) for row in rows), key=lambda c: c.message.id)


def backoff(attempts: int, settings: Settings, rng: random.Random | None = None) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: exponential from the base,
    capped, with full jitter (anywhere between zero and that), so failed messages spread out."""
    ceiling = min(
        settings.delivery_backoff_cap_seconds,
        settings.delivery_backoff_base_seconds * 2 ** min(attempts - 1, 30),
    )
    return timedelta(seconds=(rng or random).uniform(0, ceiling))


def outcome(
    result: Result, *, attempts: int, now: datetime, settings: Settings
) -> dict[str, object]:
    """The columns to set for a handler's result, `attempts` made before this one."""
    if isinstance(result, Sent):
        return {
            "status": OutboxStatus.SENT,
            "attempts": attempts + 1,
            "sent_at": now,
            "delivered_via": result.via[:16],
            "provider_id": result.provider_id[:128] if result.provider_id else None,
            "last_error": None,
        }
    if isinstance(result, Skipped):
        return {"status": OutboxStatus.SKIPPED, "attempts": attempts + 1, "last_error": None}
    if isinstance(result, Held):
        return {"available_at": max(result.until, now)}
    if isinstance(result, Failed):
        return {
            "status": OutboxStatus.DEAD,
            "attempts": attempts + 1,
            "dead_at": now,
            "last_error": result.error[:500],
        }
    assert isinstance(result, Retry)
    if attempts + 1 >= settings.delivery_max_attempts:
        return {
            "status": OutboxStatus.DEAD,
            "attempts": attempts + 1,
            "dead_at": now,
            "last_error": result.error[:500],
        }
    delay = result.after if result.after is not None else backoff(attempts + 1, settings)
    return {
        "attempts": attempts + 1,
        "available_at": now + max(delay, timedelta(0)),
        "last_error": result.error[:500],
    }


@cache
def _record_statement(columns: tuple[str, ...]) -> Update:
    """UPDATE ... WHERE id AND lease_token (ours) AND pending, setting `columns` and clearing
    the lease; built once per set of columns, run with bind parameters."""
    table = OutboxMessage.metadata.tables["outbox"]
    return (
        update(table)
        .where(
            table.c.id == bindparam("_id"),
            table.c.lease_token == bindparam("_token"),
            table.c.status == OutboxStatus.PENDING.value,
        )
        .values(
            lease_token=None,
            locked_by=None,
            locked_until=None,
            **{name: bindparam(name, type_=table.c[name].type) for name in columns},
        )
    )


def record(
    session: Session, *, claimed: Claimed, result: Result, now: datetime, settings: Settings
) -> bool:
    """Store what became of a message, only while the lease is ours; returns whether it was."""
    values = outcome(result, attempts=claimed.message.attempts, now=now, settings=settings)
    done = session.connection().execute(
        _record_statement(tuple(sorted(values))),
        {"_id": claimed.message.id, "_token": claimed.token, **values},
    )
    return bool(done.rowcount)


def renew(session: Session, *, claims: list[Claimed], now: datetime, lease: timedelta) -> set[int]:
    """Heartbeat: extend the leases of the claims still ours; returns their ids."""
    if not claims:
        return set()
    table = OutboxMessage.metadata.tables["outbox"]
    rows = session.execute(
        update(table)
        .where(
            or_(*(and_(table.c.id == c.message.id, table.c.lease_token == c.token) for c in claims))
        )
        .values(locked_until=now + lease)
        .returning(table.c.id)
    ).scalars()
    return set(rows)


def release(session: Session, *, claims: list[Claimed]) -> int:
    """Give back claims not started (a worker stopping): due again at once, no attempt counted."""
    if not claims:
        return 0
    done = session.execute(
        update(M)
        .where(or_(*(and_(M.id == c.message.id, M.lease_token == c.token) for c in claims)))
        .values(lease_token=None, locked_by=None, locked_until=None),
        execution_options={"synchronize_session": False},
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def call_handler(ctx: Context, message: Outgoing) -> Result:
    handler = handler_for(message.channel)
    if handler is None:
        return Retry(error=f"no handler for channel {message.channel!r}")
    try:
        return handler(ctx, message)
    except Exception as exc:
        log.warning(
            "delivery.handler_failed", message_id=message.id, channel=message.channel,
            exc_info=True,
        )  # fmt: skip
        return Retry(error=f"{type(exc).__name__}: {exc}")


class Deliverer(BackgroundLoop):
    """Delivers due messages: in a thread of the web process (the embedded default) or in any
    number of `wenming worker` processes."""

    thread_name = "wenming-delivery"

    def __init__(
        self,
        database: Database,
        *,
        settings: Settings | None = None,
        batch: int | None = None,
        interval: float | None = None,
    ) -> None:
        self.database = database
        self.settings = settings or get_settings()
        self.batch = batch or self.settings.delivery_batch
        self.interval = interval or self.settings.delivery_interval_seconds
        self.lease = timedelta(seconds=self.settings.worker_lease_seconds)
        self.worker = worker_name()
        super().__init__()
        self._valid_until = 0.0  # time.monotonic(): the batch's leases hold at least until then
        self._lost: set[int] = set()  # messages of the batch found no longer ours

    def _write(self) -> Session:
        session = self.database.session(write=True)
        return session

    def _limit_waits(self, session: Session) -> None:
        # Claims and outcomes need not wait for the disk: lost in a database crash, a message
        # is claimed again and sent again, and its receiver drops the repeat by uid. Never lost.
        limit_waits(
            session,
            lock_timeout=self.settings.worker_lock_timeout_seconds,
            statement_timeout=self.settings.worker_statement_timeout_seconds,
            durable=False,
        )

    @with_own_settings
    def run_due(self, now: datetime | None = None) -> int:
        """Deliver every message due (at `now`, else the clock's time, read at each claim);
        returns how many results were recorded. Once a stop is asked for, the message in
        hand is finished and the rest of the batch given back."""
        recorded = 0
        while True:
            self._valid_until = time.monotonic() + self.lease.total_seconds()
            with self._write() as session, session.begin():
                self._limit_waits(session)
                claims = claim(
                    session,
                    worker=self.worker,
                    now=now or clock.now(),
                    limit=self.batch,
                    lease=self.lease,
                )
            if not claims:
                return recorded
            waiting = list(claims)
            self._lost = set()
            with heartbeat(
                partial(self._renew, waiting),
                every=self.lease.total_seconds() / 3,
                name=self.worker,
            ):
                while waiting:
                    if self._stop.is_set():
                        self._release(waiting)
                        return recorded
                    if not self._leases_hold(waiting):
                        # The database has not renewed our leases for most of a lease (a lock
                        # held past it): another worker may have the rest of the batch now.
                        # Send nothing more; the claims still ours run out and are taken anew.
                        log.warning("delivery.leases_unsure", worker=self.worker)
                        return recorded
                    head = waiting[0]
                    if head.message.id in self._lost:
                        log.warning(
                            "delivery.lease_lost", message_id=head.message.id, uid=head.message.uid
                        )
                    elif self.deliver(head, now=now):
                        recorded += 1
                    waiting.pop(0)
            if len(claims) < self.batch or self._stop.is_set():
                return recorded

    @with_own_settings
    def deliver(self, claimed: Claimed, *, now: datetime | None = None) -> bool:
        """Call the handler (no transaction open), then record its result under our lease."""
        ctx = Context(database=self.database, settings=self.settings, now=now or clock.now())
        result = call_handler(ctx, claimed.message)
        ours = self._record(claimed, result, now)
        if not ours:
            log.warning(
                "delivery.lease_lost", message_id=claimed.message.id, uid=claimed.message.uid
            )
        elif not isinstance(result, Sent):
            log.info(
                "delivery.result",
                message_id=claimed.message.id,
                channel=claimed.message.channel,
                result=type(result).__name__.lower(),
                detail=result[0] if not isinstance(result, Held) else result.reason,
            )
        return ours

    def _record(self, claimed: Claimed, result: Result, now: datetime | None) -> bool:
        """Record the result; a database that does not answer in time (a lock timeout, SQLite
        busy) is tried again while the lease lasts, since a result not recorded means the
        message is delivered again."""
        deadline = time.monotonic() + self.lease.total_seconds() / 2
        while True:
            try:
                with self._write() as session, session.begin():
                    self._limit_waits(session)
                    return record(
                        session,
                        claimed=claimed,
                        result=result,
                        now=now or clock.now(),
                        settings=self.settings,
                    )
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
                log.warning("delivery.record_retry", message_id=claimed.message.id)
                time.sleep(0.2)

    def _renew(self, waiting: list[Claimed]) -> None:
        held = list(waiting)
        if not held:
            return
        started = time.monotonic()
        with self._write() as session, session.begin():
            self._limit_waits(session)
            ours = renew(session, claims=held, now=clock.now(), lease=self.lease)
        self._lost.update(c.message.id for c in held if c.message.id not in ours)
        self._valid_until = started + self.lease.total_seconds()

    def _leases_hold(self, waiting: list[Claimed]) -> bool:
        """Whether the batch's leases surely hold for a third of a lease more (the most a
        handler may take), renewing them first if the heartbeat has not lately."""
        margin = self.lease.total_seconds() / 3
        if time.monotonic() < self._valid_until - margin:
            return True
        try:
            self._renew(waiting)
        except Exception:
            log.warning("lease.renew_failed", worker=self.worker, exc_info=True)
            return False
        return time.monotonic() < self._valid_until - margin

    def _release(self, waiting: list[Claimed]) -> None:
        with self._write() as session, session.begin():
            self._limit_waits(session)
            released = release(session, claims=waiting)
        log.info("delivery.claims_released", worker=self.worker, count=released)

    def run_forever(self) -> None:
        log.info("delivery.started", worker=self.worker, interval=self.interval)
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("delivery.pass_failed")
            self._stop.wait(self.interval)
        log.info("delivery.stopped", worker=self.worker)
