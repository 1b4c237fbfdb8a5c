"""Public events fan out to the subscribers whose filter and unit take them, as outbox
messages written in the transaction of their cause, and say nothing personal.

One wish goes round the whole loop through the API (submitted, approved, offered, accepted,
checked in and out, rated, confirmed, closed; its confirmation makes the volunteer a 1★
volunteer), two more are rejected and cancelled: every public topic happens once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.models import HoursEntry, OrgUnit, OutboxMessage, User, Volunteer, WebhookSubscriber
from app.webhooks import events
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    Tree,
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    wish_body,
)
from tests.webhooks.conftest import webhook_rows

API = "/api/v1"
START = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in the city

RESIDENT = ("王秀英", "13912340001")
VOLUNTEER = ("李志强", "13912340002")
TITLE = "给王秀英奶奶买降压药"
DESCRIPTION = "王秀英奶奶腿脚不便，药名见纸条"
COARSE = "余村 3 组附近"
FULL = "余村 3 组 12 号王家"
CONTACT = "13912340003"
REASONS = ("王秀英已由家属照顾", "李志强说地址不对")
COMMENT = "李志强很耐心"
PERSONAL = (
    *RESIDENT,
    *VOLUNTEER,
    TITLE,
    DESCRIPTION,
    COARSE,
    FULL,
    CONTACT,
    *REASONS,
    COMMENT,
    "王",
    "李",
    "余村",
)

# Every key a payload may hold; "name" only as a unit's.
ALLOWED_KEYS = {
    "type",
    "timestamp",
    "data",
    "wish",
    "unit",
    "certifying_unit",
    "record",
    "award",
    "id",
    "code",
    "name",
    "level",
    "status",
    "category_code",
    "programme_code",
    "season_code",
    "urgency",
    "submitted_at",
    "accepted_at",
    "completed_at",
    "service_minutes",
    "rating",
    "wish_id",
    "credited_minutes",
    "started_at",
    "ended_at",
    "confirmed_at",
    "star",
    "ladder_code",
    "notice_starts_at",
    "notice_ends_at",
}
UNIT_KEYS = {"id", "code", "name", "level"}


@pytest.fixture
def frozen() -> Iterator[Clock]:
    fake = Clock(START)
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)


def subscribe(
    session: Session, events: list[str], unit: OrgUnit | None = None, **kw: Any
) -> WebhookSubscriber:
    now = clock.now()
    row = WebhookSubscriber(
        name="订阅",
        url="https://media.example.cn/in",
        events=events,
        secret="whsec_" + "A" * 44,
        unit_id=unit.id if unit else None,
        created_at=now,
        updated_at=now,
        **{"is_active": True, **kw},
    )
    session.add(row)
    session.flush()
    return row


@dataclass
class Loop:
    client: TestClient
    session: Session
    settings: Settings
    frozen: Clock
    tree: Tree
    resident: User
    coordinator: User
    volunteer_user: User
    volunteer: Volunteer

    def post(self, path: str, user: User, body: Any = None) -> dict[str, Any]:
        r = self.client.post(f"{API}{path}", json=body, headers=auth(user, self.settings))
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    def run(self) -> None:
        """Every public event once."""
        station = self.tree.stations[0]
        assert station.lat is not None and station.lng is not None
        body = wish_body(
            station.lat,
            station.lng,
            title=TITLE,
            description=DESCRIPTION,
            coarse_address=COARSE,
            full_address=FULL,
            contact_phone=CONTACT,
        )
        wish_id = self.post("/wishes", self.resident, body)["id"]
        self.post(f"/wishes/{wish_id}/approve", self.coordinator)
        self.post(
            f"/wishes/{wish_id}/offer", self.coordinator, {"volunteer_ids": [self.volunteer.id]}
        )
        taken = self.post(f"/wishes/{wish_id}/accept", self.volunteer_user)
        r = self.client.put(
            f"{API}/me/consents/location",
            json={"granted": True, "version": "1"},
            headers=auth(self.volunteer_user, self.settings),
        )
        assert r.status_code == 200, r.text
        place = {"lat": body["lat"], "lng": body["lng"]}
        start = datetime.fromisoformat(str(taken["wanted_start_at"]))
        self.frozen.now = start + timedelta(minutes=5)
        self.post(f"/wishes/{wish_id}/check-in", self.volunteer_user, place)
        self.frozen.now = start + timedelta(minutes=100)
        self.post(f"/wishes/{wish_id}/check-out", self.volunteer_user, place)
        self.post(f"/wishes/{wish_id}/rate", self.resident, {"score": 4, "comment": COMMENT})
        r = self.client.get(
            f"{API}/wishes/{wish_id}/service-records", headers=auth(self.coordinator, self.settings)
        )
        [record] = r.json()
        self.post(f"/service-records/{record['id']}/confirm", self.coordinator)
        self.post(f"/wishes/{wish_id}/close", self.coordinator)
        for verb, reason in zip(("reject", "cancel"), REASONS, strict=True):
            other = make_wish(self.session, station=station, requester=self.resident)
            self.post(f"/wishes/{other.id}/{verb}", self.coordinator, {"reason": reason})


@pytest.fixture
def loop(client: TestClient, session: Session, settings: Settings, frozen: Clock) -> Loop:
    tree = make_tree(session)
    station = tree.stations[0]
    resident = make_resident(session, name=RESIDENT[0], phone=RESIDENT[1])
    volunteer_user, volunteer = make_volunteer(session, station, skills=("errands",))
    volunteer_user.name, volunteer_user.phone = VOLUNTEER
    # 99 hours already on the ledger: the loop's confirmation makes a 1★ volunteer (100 h).
    session.add(
        HoursEntry(
            volunteer_id=volunteer.id,
            category="service",
            unit_id=station.id,
            content="此前的服务",
            started_at=START - timedelta(days=30),
            ended_at=START - timedelta(days=30),
            minutes=99 * 60,
            verification="record",
            created_at=START - timedelta(days=30),
        )
    )
    session.flush()
    return Loop(
        client,
        session,
        settings,
        frozen,
        tree,
        resident,
        make_coordinator(session, station),
        volunteer_user,
        volunteer,
    )


def keys_of(node: Any, parent: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield parent, key
            yield from keys_of(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from keys_of(item, parent)


def test_every_public_event_without_personal_data(loop: Loop) -> None:
    everything = subscribe(loop.session, ["*"])
    loop.run()
    rows = webhook_rows(loop.session, everything.id)
    assert sorted(r.topic for r in rows) == sorted(events.TOPICS)  # each topic exactly once
    for row in rows:
        payload = row.payload
        assert row.recipient_id is None and row.uid is not None and row.uid.startswith("msg_")
        assert payload["type"] == row.topic and payload["timestamp"].endswith("Z")
        text = json.dumps(payload, ensure_ascii=False)
        leaked = [value for value in PERSONAL if value in text]
        assert leaked == [], f"{row.topic}: {leaked} in {text}"
        for parent, key in keys_of(payload):
            assert key in ALLOWED_KEYS, f"{row.topic}: unexpected key {key}"
            if parent in ("unit", "certifying_unit"):
                assert key in UNIT_KEYS, f"{row.topic}: {parent}.{key}"
            if key == "name":
                assert parent in ("unit", "certifying_unit"), f"{row.topic}: {parent}.name"
    by_topic = {row.topic: row.payload["data"] for row in rows}
    station = loop.tree.stations[0]
    assert by_topic["wish.submitted"]["unit"] == {
        "id": station.id,
        "code": station.code,
        "name": station.name,
        "level": "village",
    }
    assert by_topic["wish.submitted"]["wish"]["programme_code"] == "micro_wish"
    assert by_topic["wish.completed"]["wish"]["service_minutes"] == 95
    assert by_topic["wish.rated"]["wish"]["rating"] == 4
    assert by_topic["record.confirmed"]["record"]["credited_minutes"] == 90
    assert by_topic["star.awarded"]["award"]["star"] == 1
    # The people still get their own messages; those are not webhooks.
    loop.session.expire_all()
    users = loop.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == "user")
    )
    assert users


def test_filters_and_unit_subtrees_pick_the_subscribers(loop: Loop) -> None:
    tree = loop.tree
    subs = {
        "all": subscribe(loop.session, ["*"]),
        "township_wishes": subscribe(loop.session, ["wish.*"], tree.townships[0]),
        "other_township": subscribe(loop.session, ["*"], tree.townships[1]),
        "county_records": subscribe(loop.session, ["record.confirmed", "star.*"], tree.county),
        "completions": subscribe(loop.session, ["wish.completed", "wish.rated"], tree.stations[0]),
        "inactive": subscribe(loop.session, ["*"], is_active=False),
        "deleted": subscribe(loop.session, ["*"], is_active=False, deleted_at=clock.now()),
    }
    loop.run()
    got = {
        name: sorted(r.topic for r in webhook_rows(loop.session, s.id)) for name, s in subs.items()
    }
    wish_topics = sorted(t for t in events.TOPICS if t.startswith("wish."))
    assert got == {
        "all": sorted(events.TOPICS),
        "township_wishes": wish_topics,
        "other_township": [],
        "county_records": ["record.confirmed", "star.awarded"],
        "completions": ["wish.completed", "wish.rated"],
        "inactive": [],
        "deleted": [],
    }
    # Each message has its own id, even for the same event to two subscribers.
    uids = [r.uid for r in webhook_rows(loop.session)]
    assert len(uids) == len(set(uids))


def test_a_refused_change_announces_nothing(loop: Loop) -> None:
    subscribe(loop.session, ["*"])
    wish = make_wish(loop.session, station=loop.tree.stations[0], requester=loop.resident)
    loop.post(f"/wishes/{wish.id}/approve", loop.coordinator)
    before = len(webhook_rows(loop.session))
    r = loop.client.post(
        f"{API}/wishes/{wish.id}/approve", headers=auth(loop.coordinator, loop.settings)
    )
    assert r.status_code == 409
    assert len(webhook_rows(loop.session)) == before == 1


def test_events_not_public_are_not_sent(loop: Loop) -> None:
    subscribe(loop.session, ["*"])
    wish = make_wish(loop.session, station=loop.tree.stations[0], requester=loop.resident)
    loop.post(f"/wishes/{wish.id}/escalate", loop.coordinator, {"note": "本站无人可派"})
    assert webhook_rows(loop.session) == []


@pytest.mark.parametrize(
    ("patterns", "unknown"),
    [
        (["*"], []),
        (["wish.*", "record.confirmed"], []),
        (["wish.nope", "x.*"], ["wish.nope", "x.*"]),
    ],
)
def test_patterns(patterns: list[str], unknown: list[str]) -> None:
    assert events.unknown_patterns(patterns) == unknown
    assert events.matches(["wish.*"], "wish.rated") and not events.matches(
        ["wish.*"], "star.awarded"
    )
