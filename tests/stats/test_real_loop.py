"""The sections over event logs the real services write: a wish placed in the mini-program and
served to the end, and one a grid worker placed that nobody reviewed until the ladder escalated
it, all through `create_wish`, `apply_event` and the ladder, against a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.attendance.schemas import AttendanceIn
from app.dispatch import ladder
from app.models import Wish, WishEventRecord
from app.models.enums import AccountRole
from app.stats import intake, outcomes, speed
from app.stats.figures import Scope
from app.wishes.intake import create_wish
from app.wishes.schemas import OfferIn, RateIn, WishCreate
from app.wishes.service import apply_event
from app.wishes.state import WishEvent
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    PROXY_CONSENT,
    make_coordinator,
    make_resident,
    make_tree,
    make_user,
    make_volunteer,
    principal,
    wish_body,
)

START = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in the city, a Tuesday


@pytest.fixture
def frozen() -> Iterator[Clock]:
    fake = Clock(START)
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)


def test_figures_over_the_real_loop(session: Session, frozen: Clock) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    lat, lng = station.lat, station.lng
    assert lat is not None and lng is not None
    resident = principal(session, make_resident(session))
    coordinator = principal(session, make_coordinator(session, station))
    grid = principal(session, make_user(session, roles=[(AccountRole.GRID_WORKER, station)]))
    volunteer_user, volunteer = make_volunteer(session, station, skills=("errands",))
    helper = principal(session, volunteer_user)

    def body(**extra: Any) -> WishCreate:
        return WishCreate.model_validate(wish_body(lat, lng, **extra))

    served = create_wish(session=session, body=body(), actor=resident)
    frozen.advance(minutes=1)
    proxied = create_wish(
        session=session,
        body=body(
            on_behalf_of={"phone": "13700003333", "name": "钱奶奶", "consent": PROXY_CONSENT},
            programme_code=None,
        ),
        actor=grid,
    )

    frozen.at(START + timedelta(minutes=15))
    apply_event(session=session, wish_id=served.id, event=WishEvent.APPROVE, actor=coordinator)
    frozen.advance(minutes=5)
    apply_event(
        session=session,
        wish_id=served.id,
        event=WishEvent.OFFER,
        actor=coordinator,
        payload=OfferIn(volunteer_ids=[volunteer.id], expires_in_minutes=30),
    )
    frozen.advance(minutes=10)
    apply_event(session=session, wish_id=served.id, event=WishEvent.ACCEPT, actor=helper)

    # Nobody reviews the proxy's wish: four hours on, the ladder escalates it.
    frozen.at(START + timedelta(minutes=1 + 240))
    assert ladder.run(session, wish_id=proxied.id, now=frozen.now) == [WishEvent.ESCALATE]

    # Served in its window: checked in and out by the coordinator on the volunteer's behalf.
    session.refresh(served)
    manual = AttendanceIn(volunteer_id=volunteer.id, reason="志愿者手机没电，现场确认代签")
    for event, minutes in ((WishEvent.CHECK_IN, 5), (WishEvent.CHECK_OUT, 100)):
        frozen.at(served.wanted_start_at + timedelta(minutes=minutes))
        apply_event(
            session=session, wish_id=served.id, event=event, actor=coordinator, payload=manual
        )
    frozen.advance(minutes=10)
    apply_event(
        session=session,
        wish_id=served.id,
        event=WishEvent.RATE,
        actor=resident,
        payload=RateIn(score=4),
    )

    session.expire_all()
    done = session.get(Wish, served.id)
    assert done is not None and done.completed_at is not None
    scope = Scope(tree.county, START, START + timedelta(days=2))
    found = {
        (f.key, f.group): f.value
        for s in (intake, speed, outcomes)
        for f in s.compute(session, scope)
    }
    assert found[("intake.wishes", None)] == 2
    assert found[("intake.by_channel", "self")] == 1
    assert found[("intake.by_channel", "grid_worker")] == 1
    assert found[("intake.proxy_share", None)] == 0.5
    assert found[("intake.by_programme", "micro_wish")] == 1
    assert found[("intake.by_programme", "none")] == 1
    assert found[("intake.by_season", "family")] == 2
    assert found[("speed.review.p50_minutes", None)] == 15.0
    assert found[("speed.offer.p50_minutes", None)] == 20.0
    assert found[("speed.accept.p50_minutes", None)] == 30.0
    completed_after = (done.completed_at - START).total_seconds() / 60
    assert found[("speed.complete.p90_minutes", None)] == completed_after
    assert found[("speed.breaches", "review_overdue")] == 1
    assert speed.drill(session, scope, "speed.breaches", "review_overdue") == [proxied.id]
    escalation = session.scalars(
        select(WishEventRecord.id).where(
            WishEventRecord.wish_id == proxied.id, WishEventRecord.event == WishEvent.ESCALATE
        )
    ).one()
    assert speed.drill(session, scope, "speed.breach_events", "review_overdue") == [escalation]
    assert found[("outcomes.acceptance_rate", None)] == 1.0
    assert found[("outcomes.completion_rate", None)] == 1.0
    assert found[("outcomes.escalation_rate", None)] == 0.5
    assert found[("outcomes.cancellation_rate", None)] == 0.0
    assert found[("outcomes.satisfaction_mean", None)] == 4.0
    assert outcomes.drill(session, scope, "outcomes.satisfaction", "4") == [served.id]
