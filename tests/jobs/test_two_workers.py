"""Two worker processes share the timers: every due timer fires exactly once.

Each process runs the real scheduler on its own connections to a real database (committed, not
rolled back), with the clock set to the same moment, and both start at the same instant.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Environment, Settings
from app.db import make_engine, writer
from app.models import Job, WishEventRecord
from app.wishes.service import apply_event
from app.wishes.state import WishEvent
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import (
    KM_LNG,
    make_admin,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    principal,
)
from tests.fixtures.databases import fresh_database

WISHES = 60
T0 = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _worker(url: str, start: object, results: object) -> None:
    """One worker process: wait for the start, then run every due timer."""
    from app.db import Database
    from app.jobs.scheduler import Scheduler

    moment = T0 + timedelta(minutes=1)
    clock.set_clock(lambda: moment)
    settings = Settings(env=Environment.TEST, database_url=url, secret_key=TEST_SECRET)
    database = Database(make_engine(url, settings))
    scheduler = Scheduler(database, batch=4)
    start.wait()  # type: ignore[attr-defined]
    ran = scheduler.run_due()
    results.put((scheduler.worker, ran))  # type: ignore[attr-defined]
    database.engine.dispose()


def test_two_workers_never_fire_a_timer_twice(engine_name: str, tmp_path: Path) -> None:
    with fresh_database(engine_name, tmp_path) as url:
        settings = Settings(env=Environment.TEST, database_url=url, secret_key=TEST_SECRET)
        engine = make_engine(url, settings)
        clock.set_clock(lambda: T0)
        try:
            with Session(writer(engine), expire_on_commit=False) as session, session.begin():
                tree = make_tree(session)
                station = tree.stations[0]
                assert station.lng is not None
                for i in range(6):
                    make_volunteer(session, station, lng=station.lng + 0.3 * (i + 1) * KM_LNG)
                admin = principal(session, make_admin(session))
                resident = make_resident(session)
                wish_ids = []
                for _ in range(WISHES):
                    wish = make_wish(session, station=station, requester=resident)
                    apply_event(
                        session=session, wish_id=wish.id, event=WishEvent.APPROVE, actor=admin
                    )
                    wish_ids.append(wish.id)
        finally:
            clock.set_clock(None)

        context = multiprocessing.get_context("spawn")
        start = context.Event()
        results = context.Queue()
        workers = [context.Process(target=_worker, args=(url, start, results)) for _ in range(2)]
        for process in workers:
            process.start()
        start.set()
        for process in workers:
            process.join(120)
            assert process.exitcode == 0
        ran = dict(results.get(timeout=5) for _ in workers)
        print("timers run by each worker:", ran)

        with Session(engine) as session:
            offers = Counter(
                session.scalars(
                    select(WishEventRecord.wish_id).where(WishEventRecord.event == "offer")
                )
            )
            # Every wish got exactly one round of offers: no timer fired twice, none was missed.
            assert offers == Counter(dict.fromkeys(wish_ids, 1))
            assert sum(ran.values()) == WISHES, ran
            running = session.scalar(
                select(func.count()).select_from(Job).where(Job.status == "running")
            )
            assert running == 0
        engine.dispose()


@pytest.mark.parametrize("batch", [1])
def test_a_lost_lease_is_claimed_again(engine_name: str, tmp_path: Path, batch: int) -> None:
    """A worker that claims a timer and dies: once its lease runs out, another worker runs it."""
    from app.db import Database
    from app.jobs import store
    from app.jobs.scheduler import Scheduler

    with fresh_database(engine_name, tmp_path) as url:
        settings = Settings(env=Environment.TEST, database_url=url, secret_key=TEST_SECRET)
        database = Database(make_engine(url, settings))
        clock.set_clock(lambda: T0)
        try:
            with database.session(write=True) as session, session.begin():
                tree = make_tree(session)
                make_volunteer(session, tree.stations[0])
                wish = make_wish(
                    session, station=tree.stations[0], requester=make_resident(session)
                )
                admin = principal(session, make_admin(session))
                apply_event(session=session, wish_id=wish.id, event=WishEvent.APPROVE, actor=admin)
            with database.session(write=True) as session, session.begin():
                dead = store.claim(session, worker="dead-worker", now=T0, limit=batch)
            assert [j.subject_id for j in dead] == [wish.id]
            survivor = Scheduler(database)
            assert survivor.run_due(now=T0 + timedelta(seconds=30)) == 0  # lease still held
            later = T0 + store.LEASE + timedelta(seconds=1)
            clock.set_clock(lambda: later)
            assert survivor.run_due(now=later) == 1
            with database.session(write=False) as session:
                fired = session.scalar(
                    select(func.count())
                    .select_from(WishEventRecord)
                    .where(WishEventRecord.wish_id == wish.id, WishEventRecord.event == "offer")
                )
            assert fired == 1
        finally:
            clock.set_clock(None)
            database.engine.dispose()
