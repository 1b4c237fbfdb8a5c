"""The demo city: seeded through the services, coherent, idempotent, and usable at once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.demo.city import COUNTY_CODE
from app.demo.seed import seed_demo
from app.demo.stories import STORIES
from app.geo import distance_m
from app.models import (
    Attendance,
    HoursEntry,
    Offer,
    OrgUnit,
    OutboxMessage,
    User,
    Volunteer,
    VolunteerSkill,
    Wish,
    WishEventRecord,
)
from app.models.enums import OfferStatus, OrgLevel, WishStatus
from app.org_units.service import subtree
from app.wishes.state import TRANSITIONS, WishEvent

API = "/api/v1"
STORY_TITLES = {story.title for story in STORIES}
# Tests that do not look at the wishes play a short history: the full one takes seconds.
SHORT_HISTORY = 30
CITY_CODE = "330500000000"

# Argon2 at its lowest cost: the demo's nine staff accounts otherwise take seconds to hash.
# Verification reads the cost from each hash, so logging in still checks the real thing.
_FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.accounts.service.hash_password", _FAST_HASHER.hash)


def demo_units(session: Session) -> list[OrgUnit]:
    city = session.scalars(select(OrgUnit).where(OrgUnit.code == CITY_CODE)).one()
    return list(subtree(session=session, root=city, limit=1000))


def table_counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (OrgUnit, User, Volunteer, Wish, WishEventRecord, Offer, OutboxMessage)
    }


def test_seed_builds_the_demo_city(session: Session) -> None:
    summary = seed_demo(session=session)

    assert "admin" in summary and "admin12345" in summary and "coord-330523108204" in summary
    units = demo_units(session)
    levels = sorted(u.level for u in units)
    assert levels == sorted(
        [OrgLevel.CITY, OrgLevel.COUNTY] + [OrgLevel.TOWNSHIP] * 2 + [OrgLevel.VILLAGE] * 4
    )
    by_id = {u.id: u for u in units}
    for unit in units:
        assert unit.lat is not None and unit.lng is not None
        if unit.level == OrgLevel.VILLAGE:
            township = by_id[unit.parent_id or 0]
            assert township.lat is not None and township.lng is not None
            assert 1000 <= distance_m(unit.lat, unit.lng, township.lat, township.lng) <= 4000
            assert unit.service_radius_m == 5000

    stations = {u.id: u for u in units if u.level == OrgLevel.VILLAGE}
    volunteers = session.scalars(select(Volunteer)).all()
    assert len(volunteers) >= 45
    for volunteer in volunteers:
        station = stations[volunteer.home_station_id]
        assert station.lat is not None and station.lng is not None
        assert volunteer.home_point is not None  # the exact home, sealed
        assert distance_m(*volunteer.home_point, station.lat, station.lng) <= 2000
        # Matching reads it to about 100 m.
        assert distance_m(*volunteer.home_point, volunteer.lat, volunteer.lng) <= 80
        assert 2000 <= volunteer.service_radius_m <= 6000
        assert 1 <= volunteer.max_concurrent_tasks <= 3
        assert any(volunteer.availability_masks)
    skills_per_volunteer = session.execute(
        select(VolunteerSkill.volunteer_id, func.count()).group_by(VolunteerSkill.volunteer_id)
    ).all()
    assert len(skills_per_volunteer) == len(volunteers)
    assert all(1 <= n <= 3 for _, n in skills_per_volunteer)

    wishes = session.scalars(select(Wish).order_by(Wish.id)).all()
    # The stories, and the history of the months before them.
    assert sum(w.title in STORY_TITLES for w in wishes) == len(STORIES)
    assert len(wishes) >= len(STORIES) + 200
    assert len({w.status for w in wishes}) >= 8
    assert all(w.station_id in stations for w in wishes)
    # The review queue, dispatch and grab all have something to show.
    statuses = [w.status for w in wishes]
    for status in (WishStatus.SUBMITTED, WishStatus.APPROVED, WishStatus.DISPATCHING):
        assert status in statuses
    assert any(w.grab_open and w.status == WishStatus.DISPATCHING for w in wishes)
    assert session.scalar(
        select(func.count()).select_from(Offer).where(Offer.status == OfferStatus.PENDING)
    )


def test_every_wish_has_a_coherent_history(session: Session) -> None:
    seed_demo(session=session)
    now = clock.now()

    wishes = session.scalars(select(Wish).order_by(Wish.id)).all()
    assert wishes
    for wish in wishes:
        events = session.scalars(
            select(WishEventRecord)
            .where(WishEventRecord.wish_id == wish.id)
            .order_by(WishEventRecord.id)
        ).all()
        assert events[0].event == WishEvent.SUBMIT and events[0].from_status is None
        assert events[-1].to_status == wish.status, wish.title
        for before, after in itertools.pairwise(events):
            assert after.from_status == before.to_status
            transition = TRANSITIONS[(WishStatus(after.from_status), WishEvent(after.event))]
            assert transition.to == after.to_status
            assert before.created_at < after.created_at <= now
        assert wish.version == len(events)
        # The wanted window was in the future when the wish was placed.
        assert wish.wanted_end_at > events[0].created_at
        if wish.status in (WishStatus.ACCEPTED, WishStatus.DISPATCHING, WishStatus.SUBMITTED):
            assert wish.wanted_start_at > now
        outbox = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.wish_id == wish.id)
        )
        assert outbox, wish.title

    rejected = [w for w in wishes if w.status == WishStatus.REJECTED]
    assert rejected and all(w.reject_reason for w in rejected)
    rated = [w for w in wishes if w.status == WishStatus.RATED]
    assert rated and all(w.rating for w in rated)
    assert any(w.proxy_id is not None for w in wishes)
    # Every service past completion was confirmed: one credited record and ledger entry each,
    # and each record's attendance lies inside the wish's window.
    served = [w for w in wishes if w.status in (WishStatus.RATED, WishStatus.CLOSED)
              and w.assignee_id is not None]  # fmt: skip
    assert served
    for wish in served:
        lead = select(Attendance).where(Attendance.wish_id == wish.id, Attendance.is_lead)
        record = session.scalars(lead).one()
        assert record.status == "credited", wish.title
        assert record.checked_in_at is not None and record.checked_out_at is not None
        assert wish.wanted_start_at <= record.checked_in_at < record.checked_out_at
        assert record.checked_out_at <= wish.wanted_end_at
        credit = select(HoursEntry).where(HoursEntry.attendance_id == record.id)
        entry = session.scalars(credit).one()
        assert entry.minutes > 0, wish.title


def test_seed_puts_the_clock_back(session: Session) -> None:
    frozen = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    clock.set_clock(lambda: frozen)
    try:
        seed_demo(session=session, history_wishes=SHORT_HISTORY)
        assert clock.now() == frozen
        latest = session.scalar(select(func.max(WishEventRecord.created_at)))
        assert latest is not None and frozen - timedelta(hours=3) < latest < frozen
    finally:
        clock.set_clock(None)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_second_run_changes_nothing(session: Session) -> None:
    seed_demo(session=session, history_wishes=SHORT_HISTORY)
    before = table_counts(session)

    message = seed_demo(session=session)

    assert "已存在" in message and COUNTY_CODE in message
    assert table_counts(session) == before


def test_demo_accounts_can_log_in(client: TestClient, session: Session) -> None:
    seed_demo(session=session, history_wishes=SHORT_HISTORY)

    r = client.post(f"{API}/auth/login", json={"username": "admin", "password": "admin12345"})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert [role["role"] for role in me["roles"]] == ["admin"]

    r = client.post(
        f"{API}/auth/login", json={"username": "coord-330523108204", "password": "demo12345"}
    )
    assert r.status_code == 200, r.text
    roles = r.json()["user"]["roles"]
    assert [(g["role"], g["org_unit_name"]) for g in roles] == [
        ("coordinator", "余村新时代文明实践站")
    ]

    r = client.post(f"{API}/auth/login", json={"username": "admin", "password": "wrong-password"})
    assert r.status_code == 401
