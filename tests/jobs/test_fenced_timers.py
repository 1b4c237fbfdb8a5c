"""Timer claims are fenced: a worker whose claim is no longer its own commits nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from app.dispatch.timers import LADDER
from app.jobs import store
from app.jobs.scheduler import Scheduler
from app.models import Job, WishEventRecord
from tests.conftest import BoundDatabase
from tests.dispatch.conftest import Clock
from tests.dispatch.test_ladder import approved_wish, volunteers_around
from tests.fixtures.builders import make_tree


def offers(session: Session, wish_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(WishEventRecord)
            .where(WishEventRecord.wish_id == wish_id, WishEventRecord.event == "offer")
        )
        or 0
    )


def test_a_claim_taken_over_after_its_lease_commits_nothing(
    session: Session, engine: Engine, connection: Connection, frozen: Clock
) -> None:
    tree = make_tree(session)
    volunteers_around(session, tree)
    wish = approved_wish(session, tree)
    slow = Scheduler(BoundDatabase(engine, connection))
    (stale,) = store.claim(session, worker="slow", now=frozen.now, limit=5, lease=slow.lease)
    frozen.advance(seconds=slow.lease.total_seconds() + 1)
    (fresh,) = store.claim(session, worker="other", now=frozen.now, limit=5, lease=slow.lease)
    assert (fresh.id, fresh.subject_id) == (stale.id, wish.id) and fresh.token != stale.token

    # The slow worker finally gets to run its (stale) claim: nothing happens.
    assert slow._run_one(stale, frozen.now) is False
    assert offers(session, wish.id) == 0
    # The worker holding the claim runs the step, once.
    assert slow._run_one(fresh, frozen.now) is True
    assert offers(session, wish.id) == 1
    assert slow._run_one(stale, frozen.now) is False
    assert slow._run_one(fresh, frozen.now) is False  # its timer was set anew by the step
    assert offers(session, wish.id) == 1


def test_a_timer_moved_by_a_change_is_not_run_by_an_old_claim(
    session: Session, engine: Engine, connection: Connection, frozen: Clock
) -> None:
    tree = make_tree(session)
    volunteers_around(session, tree)
    wish = approved_wish(session, tree)
    scheduler = Scheduler(BoundDatabase(engine, connection))
    (claimed,) = store.claim(session, worker="w", now=frozen.now, limit=5, lease=scheduler.lease)
    # A change of the wish (e.g. a coordinator's action) sets its timer again meanwhile.
    later = frozen.now + timedelta(hours=1)
    store.set_timer(session, kind=LADDER, subject_id=wish.id, run_at=later, now=frozen.now)
    assert scheduler._run_one(claimed, frozen.now) is False
    assert offers(session, wish.id) == 0
    session.expire_all()
    timer = session.scalars(select(Job).where(Job.subject_id == wish.id)).one()
    assert (timer.status, timer.run_at, timer.lease_token) == ("pending", later, None)


def test_stop_runs_the_job_in_hand_and_gives_the_others_back(
    session: Session, engine: Engine, connection: Connection, frozen: Clock, monkeypatch: object
) -> None:
    from app.jobs import registry

    tree = make_tree(session)
    wishes = [approved_wish(session, tree) for _ in range(3)]
    scheduler = Scheduler(BoundDatabase(engine, connection), batch=10)
    ran: list[int] = []

    def step(_session: Session, subject_id: int, _now: object) -> None:
        ran.append(subject_id)
        scheduler.request_stop()  # SIGTERM arrives while the first step runs

    monkeypatch.setitem(registry.HANDLERS, LADDER, step)  # type: ignore[attr-defined]
    assert scheduler.run_due() == 1
    assert ran == [wishes[0].id]
    session.expire_all()
    rest = session.scalars(select(Job).where(Job.subject_id.in_([w.id for w in wishes[1:]]))).all()
    assert [(j.status, j.lease_token, j.attempts) for j in rest] == [("pending", None, 0)] * 2
    assert session.get(Job, rest[0].id) is not None
    assert session.scalar(select(Job).where(Job.subject_id == wishes[0].id)) is None  # done
