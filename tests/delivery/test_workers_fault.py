"""Worker processes under faults: every timer step happens once, every message arrives.

Real worker processes (spawned, each running `app.workers.Worker`, what `wenming worker` runs:
the real Scheduler and Deliverer) share a real database (committed, not rolled back) and deliver
to a real HTTP receiver (tests/fixtures/fake_receiver.py) through a test channel that posts each
message's uid and the sending process id. Leases are 5 s, lock waits 1 s.

What is asserted, per scenario:
- every wish's dispatch step ("offer" event) happened exactly once: no step twice, none missed;
- every message is `sent` and its uid reached the receiver: none lost, none dead;
- duplicates (a uid received more than once): none when no worker is killed (on PostgreSQL
  even with row locks held past the lease: the steps wait, time out and retry, and deliveries
  go on). When one worker is SIGKILLed, at most one per delivery thread of that worker (2 here),
  and only messages the killed worker itself had sent: each thread delivers one message at a
  time and records its result before the next, so the one it may have sent without recording
  is all it had in flight. Each duplicate arrives exactly twice; the receiver drops it by uid.
  On SQLite, whose write lock held past the lease stops every writer (heartbeats included), at
  most one per delivery thread of every worker, for the same reason.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.config import Environment, Settings
from app.db import make_engine, writer
from app.dispatch.timers import LADDER
from app.models import Job, OutboxMessage, Wish, WishEventRecord
from app.models.enums import Urgency
from app.notifications.outbox import enqueue_many
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
from tests.fixtures.fake_receiver import FakeReceiver

WISHES = 24
EXTRA_MESSAGES = 120
LEASE = 5.0
DEADLINE = 90.0
THREADS = 2  # delivery threads per worker process (DELIVERY_CONCURRENCY)

WORKER_SETTINGS: dict[str, Any] = {
    "worker_lease_seconds": LEASE,
    "worker_lock_timeout_seconds": 1.0,
    "worker_statement_timeout_seconds": 3.0,
    "worker_retry_base_seconds": 0.5,
    "delivery_interval_seconds": 0.1,
    "delivery_batch": 10,
    "delivery_concurrency": 2,
    "delivery_backoff_base_seconds": 0.2,
    "delivery_backoff_cap_seconds": 1.0,
    "sqlite_busy_timeout_seconds": 2.0,
}


def _settings(url: str) -> Settings:
    return Settings(
        env=Environment.TEST, database_url=url, secret_key=TEST_SECRET, **WORKER_SETTINGS
    )


def _worker_main(url: str, receiver_url: str, ready: Any) -> None:
    """One worker process: the real worker, with the "user" and "test" channels posting to the
    receiver. SIGTERM stops it gracefully (Worker.run installs the handler)."""
    import httpx2

    from app.db import Database
    from app.delivery import channels
    from app.workers import Worker

    client = httpx2.Client(timeout=3.0)
    pid = os.getpid()

    def post(_ctx: channels.DeliveryContext, message: channels.Outgoing) -> channels.Result:
        r = client.post(receiver_url, json={"uid": message.uid, "pid": pid})
        if r.status_code == 200:
            return channels.Sent(via="webhook")
        return channels.Retry(error=f"HTTP {r.status_code}")

    channels.register("user", post)
    channels.register("test", post)
    settings = _settings(url)
    database = Database(make_engine(url, settings))
    process = Worker(database, settings, interval=0.2)
    signal.signal(signal.SIGTERM, process.request_stop)
    ready.set()  # up, and SIGTERM stops it gracefully from now on
    process.run()
    database.engine.dispose()


def _seed(url: str) -> list[int]:
    settings = _settings(url)
    engine = make_engine(url, settings)
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
            wish.urgency = Urgency.URGENT  # dispatched at once, even in quiet hours
            session.flush()
            apply_event(session=session, wish_id=wish.id, event=WishEvent.APPROVE, actor=admin)
            wish_ids.append(wish.id)
        enqueue_many(
            session=session,
            messages=[("test.ping", [resident.id], {"n": n}) for n in range(EXTRA_MESSAGES)],
            channel="test",
        )
        # The dispatch steps fall due once the workers are up (`_timers_due`).
        session.execute(update(Job).values(run_at=clock.now() + timedelta(days=1)))
    engine.dispose()
    return wish_ids


def _timers_due(conn: Connection) -> None:
    conn.execute(update(Job).where(Job.kind == LADDER).values(run_at=clock.now()))


def _hold_lock(url: str, wish_ids: list[int], seconds: float, held: threading.Event) -> None:
    """Make the dispatch steps due and hold locks past the lease: the wishes' rows on
    PostgreSQL (the steps wait for them), the write lock on SQLite (every claim waits)."""
    engine = make_engine(url, _settings(url).model_copy(update={"sqlite_busy_timeout_seconds": 30}))
    with writer(engine).connect() as conn:
        if engine.dialect.name != "sqlite":
            with conn.begin():
                _timers_due(conn)
        transaction = conn.begin()  # BEGIN IMMEDIATE on SQLite: the write lock
        if engine.dialect.name == "sqlite":
            _timers_due(conn)
        else:
            conn.execute(select(Wish.id).where(Wish.id.in_(wish_ids)).with_for_update()).all()
        held.set()
        time.sleep(seconds)
        transaction.commit()
    engine.dispose()


def _state(url: str) -> tuple[int, int, int]:
    """(messages not yet sent, timers still running, wishes without their offer)."""
    engine = make_engine(url, _settings(url))
    try:
        with Session(engine) as session:
            unsent = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != "sent")
            )
            running = session.scalar(
                select(func.count()).select_from(Job).where(Job.status == "running")
            )
            offered = session.scalar(
                select(func.count(func.distinct(WishEventRecord.wish_id))).where(
                    WishEventRecord.event == "offer"
                )
            )
            return int(unsent or 0), int(running or 0), WISHES - int(offered or 0)
    finally:
        engine.dispose()


def run_scenario(
    engine_name: str, tmp_path: Path, *, workers: int, kill: bool, terminate: bool, hold: bool
) -> None:
    with fresh_database(engine_name, tmp_path) as url:
        wish_ids = _seed(url)
        receiver = FakeReceiver(delay=0.002, slow_every=30, slow_delay=0.4).start()
        context = multiprocessing.get_context("spawn")
        ready = [context.Event() for _ in range(workers)]
        processes = [
            context.Process(target=_worker_main, args=(url, receiver.url, event)) for event in ready
        ]
        started = time.monotonic()
        started_at = time.time()
        for process in processes:
            process.start()
        victim = processes[0]
        locker: threading.Thread | None = None
        try:
            for event in ready:
                assert event.wait(DEADLINE), "a worker did not start"
            # The workers are up and delivering: then the dispatch steps fall due.
            while len(receiver.snapshot()) < 5:
                assert time.monotonic() - started < DEADLINE, "workers delivered nothing"
                time.sleep(0.02)
            held = threading.Event()
            locker = threading.Thread(
                target=_hold_lock,
                args=(url, wish_ids[:6], LEASE + 2 if hold else 0, held),
                daemon=True,
            )
            locker.start()
            held.wait(30)
            if kill or terminate:
                # Mid-batch: the worker that has delivered most so far, while it is at work.
                while len(receiver.snapshot()) < 40:
                    assert time.monotonic() - started < DEADLINE, "workers delivered little"
                    time.sleep(0.02)
                by_pid = receiver.by_pid()
                processes.sort(key=lambda p: -by_pid[p.pid or 0])
                victim, stopped = processes[0], processes[1] if terminate else None
                if kill:
                    os.kill(victim.pid or 0, signal.SIGKILL)
                if stopped is not None:
                    os.kill(stopped.pid or 0, signal.SIGTERM)
                    stopped.join(LEASE * 4)
                    assert stopped.exitcode == 0, "SIGTERM: the worker stops cleanly"
            while _state(url) != (0, 0, 0):
                assert time.monotonic() - started < DEADLINE, f"not done: {_state(url)}"
                time.sleep(0.3)
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(LEASE * 2)
            receiver.stop()
            if locker is not None:
                locker.join()
        elapsed = time.monotonic() - started

        engine = make_engine(url, _settings(url))
        with Session(engine) as session:
            offers = Counter(
                session.scalars(
                    select(WishEventRecord.wish_id).where(WishEventRecord.event == "offer")
                )
            )
            statuses = Counter(session.scalars(select(OutboxMessage.status)))
            uids = set(session.scalars(select(OutboxMessage.uid)))
            steps = Counter(
                session.execute(
                    select(WishEventRecord.wish_id, WishEventRecord.event).where(
                        WishEventRecord.actor_role == "system"
                    )
                ).all()
            )
        engine.dispose()
        received = receiver.uids()
        times = sorted(r.at - started_at for r in receiver.snapshot())
        duplicates = {uid: n for uid, n in received.items() if n > 1}
        print(
            f"{engine_name}: {workers} workers, kill={kill}, terminate={terminate}, hold={hold}: "
            f"{len(uids)} messages in {elapsed:.1f}s, by process {dict(receiver.by_pid())}, "
            f"duplicates {len(duplicates)}; received from {times[0]:.1f}s to {times[-1]:.1f}s"
        )
        # Every timer step exactly once.
        assert offers == Counter(dict.fromkeys(wish_ids, 1))
        assert all(n == 1 for n in steps.values()), steps
        # Every message delivered, none lost.
        assert statuses == Counter({"sent": len(uids)})
        assert set(received) == uids
        if hold and engine_name == "sqlite":
            # SQLite's write lock held past the lease stops every writer, the heartbeats too:
            # a message a worker had sent but could not record before its lease ran out is
            # sent again. A worker has one message in flight at a time: at most one each.
            assert len(duplicates) <= workers * THREADS, duplicates
            assert all(n == 2 for n in duplicates.values())
        elif not kill:
            assert duplicates == {}
        else:
            assert len(duplicates) <= THREADS, duplicates
            first_sender = {}
            for r in receiver.snapshot():
                first_sender.setdefault(r.uid, r.pid)
            assert all(first_sender[uid] == victim.pid for uid in duplicates)
            assert all(n == 2 for n in duplicates.values())
        assert victim.exitcode == (-signal.SIGKILL if kill else victim.exitcode)


def test_two_workers_slow_receiver_lock_held_past_the_lease_one_stopped(
    engine_name: str, tmp_path: Path
) -> None:
    """A slow receiver, locks held past the lease, and one of the two workers stopped with
    SIGTERM mid-batch (it gives its unstarted claims back): no duplicates at all."""
    run_scenario(engine_name, tmp_path, workers=2, kill=False, terminate=True, hold=True)


def test_three_workers_one_killed_one_stopped_mid_batch(engine_name: str, tmp_path: Path) -> None:
    run_scenario(engine_name, tmp_path, workers=3, kill=True, terminate=True, hold=False)
