"""The dispatch ladder, run unattended by the scheduler against a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from app.attendance.schemas import AttendanceIn
from app.auth.principal import load_principal
from app.dispatch.timers import LADDER
from app.jobs.scheduler import Scheduler
from app.models import DispatchPolicy, Job, Offer, OutboxMessage, Volunteer, Wish, WishEventRecord
from app.models.enums import OfferStatus, Urgency, WishStatus
from app.wishes.service import apply_event
from app.wishes.state import TERMINAL_STATUSES, WishEvent
from tests.conftest import BoundDatabase
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    KM_LNG,
    Tree,
    consent_to,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    principal,
)


@pytest.fixture
def scheduler(engine: Engine, connection: Connection) -> Scheduler:
    return Scheduler(BoundDatabase(engine, connection))


def events_of(session: Session, wish_id: int) -> list[tuple[str, str]]:
    session.expire_all()
    return [
        (e.event, e.actor_role)
        for e in session.scalars(
            select(WishEventRecord)
            .where(WishEventRecord.wish_id == wish_id)
            .order_by(WishEventRecord.id)
        )
    ]


def offers_of(session: Session, wish_id: int) -> dict[int, str]:
    return dict(
        session.execute(
            select(Offer.volunteer_id, Offer.status).where(Offer.wish_id == wish_id)
        ).all()
    )


def timer_of(session: Session, wish_id: int) -> Job | None:
    session.expire_all()
    return session.scalars(
        select(Job).where(Job.kind == LADDER, Job.subject_id == wish_id)
    ).one_or_none()


def assert_every_waiting_wish_has_a_timer(session: Session) -> None:
    session.expire_all()
    for wish_id, status in session.execute(select(Wish.id, Wish.status)).all():
        timer = timer_of(session, wish_id)
        if status in TERMINAL_STATUSES:
            assert timer is None, f"terminal wish {wish_id} still has a timer"
        else:
            assert timer is not None and timer.status == "pending", f"wish {wish_id} has no timer"


def approved_wish(session: Session, tree: Tree, *, urgency: Urgency = Urgency.NORMAL) -> Wish:
    """A wish approved through the service (so its timer is set), with eight volunteers
    around its station at growing distances."""
    station = tree.stations[0]
    resident = make_resident(session)
    wish = make_wish(session, station=station, requester=resident)
    wish.urgency = urgency
    session.flush()
    admin = principal(session, make_admin(session))
    apply_event(session=session, wish_id=wish.id, event=WishEvent.APPROVE, actor=admin)
    return wish


def volunteers_around(session: Session, tree: Tree, n: int = 8) -> list[Volunteer]:
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    return [
        make_volunteer(session, station, lng=station.lng + 0.4 * (i + 1) * KM_LNG)[1]
        for i in range(n)
    ]


def test_offer_rounds_widen_then_grab_then_escalation(
    session: Session, scheduler: Scheduler, frozen: Clock
) -> None:
    tree = make_tree(session)
    township_coordinator = make_coordinator(session, tree.townships[0])
    county_coordinator = make_coordinator(session, tree.county)
    volunteers = volunteers_around(session, tree)
    wish = approved_wish(session, tree)

    # Round 1: the three best (nearest, all else equal) are offered at once.
    scheduler.run_due()
    first = offers_of(session, wish.id)
    assert set(first) == {v.id for v in volunteers[:3]}
    assert set(first.values()) == {OfferStatus.PENDING}
    timer = timer_of(session, wish.id)
    assert timer is not None and timer.run_at == frozen.now + timedelta(minutes=30)

    # Nothing is due before the offers expire.
    frozen.advance(minutes=29)
    assert scheduler.run_due() == 0

    # Round 2: the first offers expire; the next three are offered.
    frozen.advance(minutes=2)
    scheduler.run_due()
    offers = offers_of(session, wish.id)
    assert {offers[v.id] for v in volunteers[:3]} == {OfferStatus.EXPIRED}
    assert {v for v, s in offers.items() if s == OfferStatus.PENDING} == {
        v.id for v in volunteers[3:6]
    }

    # Rounds spent: open for grab.
    frozen.advance(minutes=31)
    scheduler.run_due()
    session.expire_all()
    assert session.get(Wish, wish.id).grab_open  # type: ignore[union-attr]

    # Nobody grabs it for two hours: up to the township, then (four hours on) the county.
    frozen.advance(minutes=121)
    scheduler.run_due()
    session.expire_all()
    assert session.get(Wish, wish.id).escalated_to_id == tree.townships[0].id  # type: ignore[union-attr]
    frozen.advance(minutes=241)
    scheduler.run_due()
    session.expire_all()
    assert session.get(Wish, wish.id).escalated_to_id == tree.county.id  # type: ignore[union-attr]

    told = {
        topic: set(ids)
        for topic, ids in [
            (
                "wish.escalated",
                session.scalars(
                    select(OutboxMessage.recipient_id).where(
                        OutboxMessage.wish_id == wish.id, OutboxMessage.topic == "wish.escalated"
                    )
                ),
            )
        ]
    }
    assert told["wish.escalated"] == {township_coordinator.id, county_coordinator.id}
    assert [e for e, _ in events_of(session, wish.id)] == [
        "approve", "offer", "expire", "offer", "expire", "open_grab",
        "escalate", "escalate",
    ]  # fmt: skip
    assert {role for _, role in events_of(session, wish.id)[1:]} == {"system"}
    assert_every_waiting_wish_has_a_timer(session)


def test_first_accept_wins_and_the_others_are_withdrawn(
    session: Session, scheduler: Scheduler, frozen: Clock
) -> None:
    tree = make_tree(session)
    volunteers = volunteers_around(session, tree, 3)
    wish = approved_wish(session, tree)
    scheduler.run_due()
    taker = volunteers[1]
    actor = load_principal(session, taker.user_id)
    apply_event(session=session, wish_id=wish.id, event=WishEvent.ACCEPT, actor=actor)
    offers = offers_of(session, wish.id)
    assert offers[taker.id] == OfferStatus.ACCEPTED
    assert {offers[v.id] for v in volunteers if v.id != taker.id} == {OfferStatus.WITHDRAWN}
    # The timer now watches the check-in.
    timer = timer_of(session, wish.id)
    assert timer is not None
    assert timer.run_at == wish.wanted_start_at + timedelta(minutes=30)


def test_quiet_hours_hold_offers_unless_urgent(
    session: Session, scheduler: Scheduler, frozen: Clock
) -> None:
    tree = make_tree(session)
    volunteers_around(session, tree, 3)
    frozen.at(datetime(2027, 3, 2, 15, 0, tzinfo=UTC))  # 23:00 in Shanghai
    calm = approved_wish(session, tree)
    urgent = approved_wish(session, tree, urgency=Urgency.URGENT)
    scheduler.run_due()
    assert offers_of(session, calm.id) == {}
    assert len(offers_of(session, urgent.id)) == 3
    timer = timer_of(session, calm.id)
    assert timer is not None
    assert timer.run_at == datetime(2027, 3, 2, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
    frozen.at(datetime(2027, 3, 2, 23, 0, tzinfo=UTC))
    scheduler.run_due()
    assert len(offers_of(session, calm.id)) == 3


def test_no_show_is_reminded_then_released_and_dispatched_again(
    session: Session, scheduler: Scheduler, frozen: Clock
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    others = volunteers_around(session, tree, 3)
    _, no_show = make_volunteer(session, station)
    resident = make_resident(session)
    wish = make_wish(session, station=station, requester=resident, status=WishStatus.DISPATCHING,
                     offer_to=[no_show])  # fmt: skip
    actor = load_principal(session, no_show.user_id)
    apply_event(session=session, wish_id=wish.id, event=WishEvent.ACCEPT, actor=actor)

    frozen.at(wish.wanted_start_at + timedelta(minutes=29))
    assert scheduler.run_due() == 0
    frozen.advance(minutes=2)
    scheduler.run_due()
    assert events_of(session, wish.id)[-1] == ("remind", "system")
    reminded = session.scalars(
        select(OutboxMessage.recipient_id).where(
            OutboxMessage.wish_id == wish.id, OutboxMessage.topic == "task.check_in_due"
        )
    ).all()
    assert reminded == [no_show.user_id]

    frozen.advance(minutes=30)
    scheduler.run_due()
    session.expire_all()
    released = session.get(Wish, wish.id)
    assert released is not None
    names = [e for e, _ in events_of(session, wish.id)]
    assert names[-3:] == ["remind", "release", "offer"]
    assert session.get(Volunteer, no_show.id).released_count == 1  # type: ignore[union-attr]
    # Dispatched again at once, to the others only (the no-show was offered it before).
    pending = session.scalars(
        select(Offer.volunteer_id).where(Offer.wish_id == wish.id, Offer.status == "pending")
    ).all()
    assert set(pending) == {v.id for v in others}
    assert released.status == WishStatus.DISPATCHING


def test_unrated_wish_closes_after_seven_days(
    session: Session, scheduler: Scheduler, frozen: Clock
) -> None:
    tree = make_tree(session)
    user, volunteer = make_volunteer(session, tree.stations[0])
    wish = make_wish(session, station=tree.stations[0], requester=make_resident(session),
                     status=WishStatus.IN_SERVICE, assignee=volunteer)  # fmt: skip
    actor = load_principal(session, user.id)
    consent_to(session, user.id, at=frozen.now)
    at_place = AttendanceIn(lat=wish.lat, lng=wish.lng)
    apply_event(session=session, wish_id=wish.id, event=WishEvent.CHECK_OUT, actor=actor,
                payload=at_place)  # fmt: skip
    frozen.advance(days=7, seconds=-1)
    scheduler.run_due()  # the record's confirmation timer may run; the wish stays open
    assert events_of(session, wish.id)[-1] == ("check_out", "volunteer")
    frozen.advance(seconds=2)
    scheduler.run_due()
    assert events_of(session, wish.id)[-1] == ("close", "system")
    assert timer_of(session, wish.id) is None


def test_unreviewed_wish_escalates(session: Session, scheduler: Scheduler, frozen: Clock) -> None:
    tree = make_tree(session)
    institute = make_coordinator(session, tree.townships[0])
    from app.wishes.intake import create_wish
    from app.wishes.schemas import WishCreate
    from tests.fixtures.builders import wish_body

    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = make_resident(session)
    body = WishCreate.model_validate(wish_body(station.lat, station.lng, skill_codes=[]))
    wish = create_wish(session=session, body=body, actor=principal(session, resident))
    frozen.advance(minutes=241)
    scheduler.run_due()
    assert events_of(session, wish.id)[-1] == ("escalate", "system")
    told = session.scalars(
        select(OutboxMessage.recipient_id).where(
            OutboxMessage.wish_id == wish.id, OutboxMessage.topic == "wish.escalated"
        )
    ).all()
    assert told == [institute.id]


def test_wish_past_its_window_is_cancelled_and_the_requester_told(
    session: Session, scheduler: Scheduler, frozen: Clock
) -> None:
    tree = make_tree(session)
    wish = approved_wish(session, tree)  # no volunteers at all
    scheduler.run_due()
    assert [e for e, _ in events_of(session, wish.id)][-1] == "open_grab"
    frozen.at(wish.wanted_end_at)
    scheduler.run_due()
    session.expire_all()
    assert session.get(Wish, wish.id).status == WishStatus.CANCELLED  # type: ignore[union-attr]
    told = session.scalars(
        select(OutboxMessage.recipient_id).where(
            OutboxMessage.wish_id == wish.id, OutboxMessage.topic == "wish.cancelled"
        )
    ).all()
    assert wish.requester_id in told
    assert_every_waiting_wish_has_a_timer(session)


def test_unit_policy_overrides_defaults(
    session: Session, scheduler: Scheduler, frozen: Clock
) -> None:
    from app.rules.dispatch import POLICIES

    tree = make_tree(session)
    volunteers_around(session, tree, 6)
    session.add(DispatchPolicy(org_unit_id=tree.county.id, offer_k=2, offer_minutes=10,
                               created_at=frozen.now, updated_at=frozen.now))  # fmt: skip
    session.flush()
    POLICIES.forget()
    wish = approved_wish(session, tree)
    scheduler.run_due()
    assert len(offers_of(session, wish.id)) == 2
    timer = timer_of(session, wish.id)
    assert timer is not None and timer.run_at == frozen.now + timedelta(minutes=10)
    POLICIES.forget()


def test_failed_step_is_retried_later(
    session: Session, scheduler: Scheduler, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = make_tree(session)
    wish = approved_wish(session, tree)
    from app.jobs import registry

    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.HANDLERS, LADDER, broken)
    assert scheduler.run_due() == 1
    timer = timer_of(session, wish.id)
    assert timer is not None and timer.status == "pending"
    assert timer.run_at > frozen.now and "boom" in (timer.last_error or "")
    assert session.scalar(select(func.count()).select_from(Offer)) == 0
