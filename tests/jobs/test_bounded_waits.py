"""A worker never waits long for a lock: the step fails fast and is retried later."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import clock
from app.config import Environment, Settings
from app.db import Database, make_engine, writer
from app.jobs.scheduler import Scheduler
from app.models import Job, Wish, WishEventRecord
from app.models.enums import Urgency
from app.wishes.service import apply_event
from app.wishes.state import WishEvent
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import (
    make_admin,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    principal,
)
from tests.fixtures.databases import fresh_database


def test_a_step_blocked_by_a_lock_times_out_and_is_retried(
    engine_name: str, tmp_path: Path
) -> None:
    with fresh_database(engine_name, tmp_path) as url:
        settings = Settings(
            env=Environment.TEST,
            database_url=url,
            secret_key=TEST_SECRET,
            worker_lock_timeout_seconds=0.5,
            sqlite_busy_timeout_seconds=0.5,
            worker_retry_base_seconds=60,
        )
        database = Database(make_engine(url, settings))
        with database.session(write=True) as session, session.begin():
            tree = make_tree(session)
            make_volunteer(session, tree.stations[0])
            wish = make_wish(session, station=tree.stations[0], requester=make_resident(session))
            wish.urgency = Urgency.URGENT  # dispatched at once, even in quiet hours
            session.flush()
            admin = principal(session, make_admin(session))
            apply_event(session=session, wish_id=wish.id, event=WishEvent.APPROVE, actor=admin)
        holder = make_engine(url, settings.model_copy(update={"sqlite_busy_timeout_seconds": 5}))
        scheduler = Scheduler(database, settings=settings)
        try:
            with writer(holder).connect() as conn:
                transaction = conn.begin()  # SQLite: the write lock
                if engine_name == "postgresql":
                    conn.execute(select(Wish.id).where(Wish.id == wish.id).with_for_update()).all()
                started = time.monotonic()
                if engine_name == "sqlite":
                    # Even the claim waits for the write lock: at most the busy timeout.
                    with pytest.raises(OperationalError):
                        scheduler.run_due()
                else:
                    # The step waits for the wish's row: at most the lock timeout, then it is
                    # put back with a back-off instead of blocking the worker.
                    assert scheduler.run_due() == 1
                waited = time.monotonic() - started
                transaction.rollback()
            assert waited < 3, waited
            with Session(database.engine) as session:
                job = session.scalars(select(Job).where(Job.subject_id == wish.id)).one()
                offers = session.scalars(
                    select(WishEventRecord.id).where(
                        WishEventRecord.wish_id == wish.id, WishEventRecord.event == "offer"
                    )
                ).all()
                assert offers == []
                assert job.status == "pending" and job.lease_token is None
                if engine_name == "postgresql":
                    assert "LockNotAvailable" in (job.last_error or "")
                    assert job.run_at >= clock.now() + timedelta(seconds=25)
                    # Once the lock is gone the retried step runs, once.
                    assert scheduler.run_due(now=job.run_at) == 1
                    count = session.scalar(
                        text("SELECT count(*) FROM wish_events WHERE event = 'offer'")
                    )
                    assert count == 1
        finally:
            holder.dispose()
            database.engine.dispose()
