"""The retention timer (app/rights/retention.py says what it erases).

One timer in the jobs table (`privacy.retention`) runs it: each run erases a batch and sets the
next run, at once while a backlog remains, else an hour later. The scheduler creates the timer
when it starts (`dispatch.scheduler.Scheduler.ensure_periodic`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from app.dispatch import jobs
from app.rights.retention import due, erase_wishes

log = structlog.get_logger()

RETENTION = "privacy.retention"
SUBJECT = 0  # one timer for the whole database
INTERVAL = timedelta(hours=1)
BATCH = 200


def run(session: Session, _subject_id: int, now: datetime) -> int:
    """The timer's handler: one batch, then the next run. Returns how many wishes it erased."""
    wish_ids = due(session, now=now, limit=BATCH)
    fixes = erase_wishes(session, wish_ids, now)
    if wish_ids:
        log.info("privacy.retention", wishes=len(wish_ids), fixes=fixes)
    next_at = now if len(wish_ids) == BATCH else now + INTERVAL
    jobs.set_timer(session, kind=RETENTION, subject_id=SUBJECT, run_at=next_at, now=now)
    return len(wish_ids)
