"""Retention: RETENTION_DAYS after a wish ends, its personal data and its service records'
fixes are erased by the timer job; what statistics need stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.geo import coarse
from app.jobs.scheduler import Scheduler
from app.models import Attendance, Job, Wish
from app.models.enums import WishStatus
from app.rights.retention import RETENTION
from tests.conftest import BoundDatabase
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import make_resident, make_tree, make_volunteer, make_wish


def kept(session: Session, wish_id: int) -> bool:
    session.expire_all()
    wish = session.get(Wish, wish_id)
    assert wish is not None
    has = wish.full_address is not None
    assert (wish.contact_phone is not None) == has
    assert (wish.personal_data_erased_at is None) == has
    return has


def test_finished_wishes_lose_their_personal_data_after_the_period(
    session: Session, engine: Engine, connection: Connection, frozen: Clock
) -> None:
    assert get_settings().retention_days == 365
    scheduler = Scheduler(BoundDatabase(engine, connection))
    tree = make_tree(session)
    station = tree.stations[0]
    resident = make_resident(session)
    _, volunteer = make_volunteer(session, station)

    def wish(status: WishStatus) -> Wish:
        found = make_wish(
            session,
            station=station,
            requester=resident,
            status=status,
            assignee=volunteer if status != WishStatus.CANCELLED else None,
        )
        found.exact_point = (30.1234567, 119.7654321)
        session.add(
            Attendance(
                wish_id=found.id,
                volunteer_id=volunteer.id,
                unit_id=station.id,
                is_lead=True,
                status="credited",
                checked_in_at=frozen.now,
                check_in_fix=(30.1, 119.1),
                check_out_fix=(30.1, 119.1),
            )
        )
        session.flush()
        return found

    closed, cancelled, in_service = (
        wish(WishStatus.CLOSED),
        wish(WishStatus.CANCELLED),
        wish(WishStatus.IN_SERVICE),
    )
    rejected = make_wish(session, station=station, requester=resident, status=WishStatus.REJECTED)
    frozen.advance(days=200)
    recent = wish(WishStatus.CLOSED)
    frozen.advance(days=164)  # the first ones ended 364 days ago: not yet
    scheduler.ensure_periodic()
    assert scheduler.run_due() == 1  # the retention timer ran, and found nothing due
    assert all(kept(session, w.id) for w in (closed, cancelled, rejected, in_service, recent))

    frozen.advance(days=2)  # 366 days
    assert scheduler.run_due() == 1
    assert scheduler.run_due() == 0  # the timer waits an hour between runs
    assert [kept(session, w.id) for w in (closed, cancelled, rejected, in_service, recent)] == [
        False,
        False,
        False,
        True,
        True,
    ]
    erased = session.get(Wish, closed.id)
    assert erased is not None and erased.exact_point is None
    assert erased.personal_data_erased_at == frozen.now
    # The coarse place, the times and the status stay for statistics.
    assert station.lat is not None
    assert (erased.lat, erased.coarse_lat, erased.status, erased.closed_at) == (
        coarse(station.lat),
        coarse(station.lat),
        WishStatus.CLOSED,
        frozen.now - timedelta(days=366),
    )
    fixes = dict(session.execute(select(Attendance.wish_id, Attendance.check_in_fix)).all())
    assert fixes == {
        closed.id: None,
        cancelled.id: None,
        in_service.id: (30.1, 119.1),
        recent.id: (30.1, 119.1),
    }
    job = session.scalars(select(Job).where(Job.kind == RETENTION)).one()
    assert (job.status, job.run_at) == ("pending", frozen.now + timedelta(hours=1))

    frozen.advance(days=200)
    assert scheduler.run_due() == 1
    assert not kept(session, recent.id) and kept(session, in_service.id)
