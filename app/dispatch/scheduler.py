"""The timer runner: claims due jobs and runs their handlers, each in its own transaction.

In the embedded default it runs in a thread of the web process (started with the app); with
PostgreSQL any number of `wenming worker` processes may run it side by side: claims never
overlap (see `jobs.claim`), so no timer fires twice.

Between passes it also does the housekeeping that is due (`housekeeping`): for now, deleting
expired idempotency keys every few minutes. It is safe to run in several processes at once.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from app import clock, idempotency
from app.db import Database
from app.dispatch import jobs, ladder
from app.dispatch.timers import LADDER
from app.privacy import retention
from app.records import messages

log = structlog.get_logger()

Handler = Callable[[Session, int, datetime], object]
HANDLERS: dict[str, Handler] = {
    LADDER: lambda session, wish_id, now: ladder.run(session, wish_id=wish_id, now=now),
    # Not dispatch's own, but the same table and runners serve every timer of the service.
    retention.RETENTION: retention.run,
    messages.RECORD_CONFIRM: messages.run,
}
# Timers that reschedule themselves forever: (kind, subject). Created when a scheduler starts.
PERIODIC = ((retention.RETENTION, retention.SUBJECT),)

HOUSEKEEPING_INTERVAL = timedelta(minutes=10)


class Scheduler:
    def __init__(self, database: Database, *, interval: float = 5.0, batch: int = 20) -> None:
        self.database = database
        self.interval = interval
        self.batch = batch
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._housekeeping_at: datetime | None = None

    def ensure_periodic(self, now: datetime | None = None) -> None:
        """Create the periodic timers that do not exist yet (due at once)."""
        moment = now or clock.now()
        with self.database.session(write=True) as session, session.begin():
            for kind, subject_id in PERIODIC:
                jobs.ensure_timer(
                    session, kind=kind, subject_id=subject_id, run_at=moment, now=moment
                )

    def run_due(self, now: datetime | None = None) -> int:
        """Claim and run every job due at `now`; returns how many ran."""
        done = 0
        while True:
            moment = now or clock.now()
            with self.database.session(write=True) as session, session.begin():
                claimed = jobs.claim(session, worker=self.worker, now=moment, limit=self.batch)
            for job in claimed:
                self._run_one(job, moment)
                done += 1
            if len(claimed) < self.batch or self._stop.is_set():
                return done

    def housekeeping(self, now: datetime | None = None) -> int:
        """Delete expired idempotency keys, a batch per transaction (a short write each, never
        one long one); returns how many went."""
        moment = now or clock.now()
        removed = 0
        while True:
            with self.database.session(write=True) as session, session.begin():
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

    def _run_one(self, job: jobs.Claimed, now: datetime) -> None:
        handler = HANDLERS.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            with self.database.session(write=True) as session, session.begin():
                handler(session, job.subject_id, now)
        except Exception as exc:
            log.exception("job.failed", job_id=job.id, kind=job.kind, subject_id=job.subject_id)
            with self.database.session(write=True) as session, session.begin():
                jobs.retry_later(
                    session, job_id=job.id, worker=self.worker, now=now, error=repr(exc)
                )

    def start(self) -> None:
        """Run in a background thread of this process."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run_forever, name="wenming-scheduler", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

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
