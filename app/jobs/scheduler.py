"""The timer runner: claims due jobs and runs their handlers, each in its own fenced transaction.

In the embedded default it runs in a thread of the web process (started with the app); any
number of `wenming worker` processes may run it side by side. Each job's handler, its state
changes and the job's release commit in one transaction that first locks the job row and checks
the claim is still this worker's (`store.lock_if_ours`): a worker whose lease ran out commits
nothing, so no timer step happens twice. Every wait of that transaction is bounded (lock and
statement timeouts on PostgreSQL, the busy timeout on SQLite), well inside the lease, and a
heartbeat renews the leases of the claims not yet run.

Between passes it also does the housekeeping that is due (`housekeeping`): for now, deleting
expired idempotency keys every few minutes. It is safe to run in several processes at once.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from functools import partial

import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import clock, idempotency
from app.background import BackgroundLoop
from app.config import Settings, get_settings, with_own_settings
from app.db import Database, limit_waits
from app.jobs import store
from app.jobs.registry import CONTINUING, PERIODIC, handler_for
from app.leases import heartbeat

log = structlog.get_logger()

HOUSEKEEPING_INTERVAL = timedelta(minutes=10)


class LeaseLost(Exception):
    """The claim is no longer ours: roll back, do nothing."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Scheduler(BackgroundLoop):
    thread_name = "wenming-scheduler"

    def __init__(
        self,
        database: Database,
        *,
        interval: float = 5.0,
        batch: int = 20,
        settings: Settings | None = None,
    ) -> None:
        self.database = database
        self.interval = interval
        self.batch = batch
        self.settings = settings or get_settings()
        self.lease = timedelta(seconds=self.settings.worker_lease_seconds)
        self.worker = worker_name()
        super().__init__()
        self._housekeeping_at: datetime | None = None

    def _session(self) -> Session:
        return self.database.session(write=True)

    def _limit_waits(self, session: Session) -> None:
        limit_waits(
            session,
            lock_timeout=self.settings.worker_lock_timeout_seconds,
            statement_timeout=self.settings.worker_statement_timeout_seconds,
        )

    @with_own_settings
    def ensure_periodic(self, now: datetime | None = None) -> None:
        """Create the periodic timers that do not exist yet (due at once)."""
        moment = now or clock.now()
        with self._session() as session, session.begin():
            self._limit_waits(session)
            for kind, subject_id in PERIODIC:
                store.ensure_timer(
                    session, kind=kind, subject_id=subject_id, run_at=moment, now=moment
                )

    @with_own_settings
    def run_due(self, now: datetime | None = None) -> int:
        """Claim and run every job due at `now`; returns how many ran (a failed step counts: it
        ran and will run again; a claim found lost does not). A continuing job's next slice,
        set due again by its step, runs in the same pass. Once a stop is asked
        for, the job running finishes and the claims not started are given back."""
        done = 0
        while True:
            moment = now or clock.now()
            with self._session() as session, session.begin():
                self._limit_waits(session)
                claimed = store.claim(
                    session, worker=self.worker, now=moment, limit=self.batch, lease=self.lease
                )
            if not claimed:
                return done
            waiting = list(claimed)
            with heartbeat(
                partial(self._renew, waiting),
                every=self.lease.total_seconds() / 3,
                name=self.worker,
            ):
                while waiting:
                    if self._stop.is_set():
                        self._release(waiting)
                        return done
                    job = waiting[0]
                    if self._run_one(job, now or clock.now()):
                        done += 1
                    waiting.pop(0)
            if self._stop.is_set():
                return done
            # A full batch may have left more due; a continuing job has set itself due again.
            if len(claimed) < self.batch and not any(job.kind in CONTINUING for job in claimed):
                return done

    def _renew(self, waiting: list[store.Claimed]) -> None:
        held = list(waiting)
        if not held:
            return
        with self._session() as session, session.begin():
            self._limit_waits(session)
            store.renew(session, jobs=held, now=clock.now(), lease=self.lease)

    def _release(self, waiting: list[store.Claimed]) -> None:
        with self._session() as session, session.begin():
            self._limit_waits(session)
            released = store.release(session, jobs=waiting, now=clock.now())
        log.info("job.claims_released", worker=self.worker, count=released)

    @with_own_settings
    def housekeeping(self, now: datetime | None = None) -> int:
        """Delete expired idempotency keys, a batch per transaction (a short write each, never
        one long one); returns how many went."""
        moment = now or clock.now()
        removed = 0
        while True:
            with self._session() as session, session.begin():
                self._limit_waits(session)
                gone = idempotency.purge_expired(session, moment)
            removed += gone
            if gone < idempotency.PURGE_BATCH or self._stop.is_set():
                break
        if removed:
            log.info("housekeeping.idempotency_keys_purged", count=removed)
        return removed

    def _housekeeping_if_due(self) -> None:
        now = clock.now()
        if self._housekeeping_at is not None and now < self._housekeeping_at:
            return
        self._housekeeping_at = now + HOUSEKEEPING_INTERVAL
        self.housekeeping(now)

    def _run_one(self, job: store.Claimed, now: datetime) -> bool:
        """Run one claimed job: its handler, its state changes and its release in one
        transaction, only while the claim is ours. Returns False if the claim was lost."""
        handler = handler_for(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            with self._session() as session, session.begin():
                self._limit_waits(session)
                if not store.lock_if_ours(session, job):
                    raise LeaseLost()
                # The handler reads its subject now, under the job's lock, and decides again
                # whether its step is still due.
                handler(session, job.subject_id, now)
                store.finish(session, job=job)
            return True
        except LeaseLost:
            log.warning("job.lease_lost", job_id=job.id, kind=job.kind, subject_id=job.subject_id)
            return False
        except Exception as exc:
            if isinstance(exc, OperationalError):
                # A lock or statement timeout, a busy database: expected under contention.
                log.warning(
                    "job.retry", job_id=job.id, kind=job.kind, subject_id=job.subject_id,
                    error=str(exc.orig or exc).strip()[:200],
                )  # fmt: skip
            else:
                log.exception("job.failed", job_id=job.id, kind=job.kind, subject_id=job.subject_id)
            with self._session() as session, session.begin():
                self._limit_waits(session)
                store.retry_later(
                    session,
                    job=job,
                    now=now,
                    error=repr(exc),
                    base=timedelta(seconds=self.settings.worker_retry_base_seconds),
                )
            return True

    def run_forever(self) -> None:
        log.info("scheduler.started", worker=self.worker, interval=self.interval)
        try:
            self.ensure_periodic()
        except Exception:
            log.exception("scheduler.periodic_failed")
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("scheduler.pass_failed")
            try:
                self._housekeeping_if_due()
            except Exception:
                log.exception("scheduler.housekeeping_failed")
            self._stop.wait(self.interval)
        log.info("scheduler.stopped", worker=self.worker)
