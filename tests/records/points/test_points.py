"""The points ledger (积分): earned per credited hour, taken back (never below zero) when hours
are reversed, spent at the 爱心超市, adjusted by coordinators; hours are never touched."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Environment, Settings
from app.db import make_engine, writer
from app.models import HoursEntry, OrgUnit, PointsEntry, RecordRules, User, Volunteer
from app.records.hours.ledger import service_minutes
from app.records.points import service as points
from app.records.points.errors import InsufficientPoints
from app.rules.records import RULES, Rules, rules_for
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import Tree, auth, make_coordinator, make_tree, make_volunteer
from tests.fixtures.databases import fresh_database
from tests.fixtures.server import running_server

API = "/api/v1"
DEFAULT = Rules()


@pytest.fixture(autouse=True)
def _fresh_rules() -> Iterator[None]:
    RULES.forget()
    yield
    RULES.forget()


# ---------------------------------------------------------------- helpers


def service_entry(
    session: Session,
    volunteer: Volunteer,
    unit: OrgUnit,
    minutes: int,
    *,
    category: str = "service",
) -> HoursEntry:
    """A credited hours entry, inserted directly (the ledger takes inserts only)."""
    now = clock.now()
    entry = HoursEntry(
        volunteer_id=volunteer.id,
        category=category,
        unit_id=unit.id,
        content="陪独居老人买菜",
        started_at=now - timedelta(minutes=abs(minutes) + 10),
        ended_at=now,
        minutes=minutes,
        verification="record",
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def reversal_of(session: Session, original: HoursEntry, approver: User | None = None) -> HoursEntry:
    now = clock.now()
    entry = HoursEntry(
        volunteer_id=original.volunteer_id,
        category=original.category,
        unit_id=original.unit_id,
        content=original.content,
        started_at=original.started_at,
        ended_at=original.ended_at,
        minutes=-original.minutes,
        verification="record",
        reverses_id=original.id,
        reason="签到记录有误，冲正",
        approved_by_id=approver.id if approver else None,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def ledger(session: Session, volunteer_id: int) -> list[PointsEntry]:
    session.expire_all()
    return list(
        session.scalars(
            select(PointsEntry)
            .where(PointsEntry.volunteer_id == volunteer_id)
            .order_by(PointsEntry.id)
        )
    )


def entry_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(PointsEntry)) or 0


def give(session: Session, volunteer: Volunteer, unit: OrgUnit, minutes: int) -> PointsEntry:
    """Points earned for `minutes` of service at the default rate."""
    earned = points.earn_for(
        session, service_entry(session, volunteer, unit, minutes), DEFAULT, None
    )
    assert earned is not None
    return earned


@dataclass
class Scene:
    session: Session
    settings: Settings
    tree: Tree
    coordinator: User  # of townships[0]: stations 0 and 1 inside, 2 and 3 outside
    user: User
    volunteer: Volunteer  # at stations[0]

    def headers(self, user: User | None = None) -> dict[str, str]:
        return auth(user or self.coordinator, self.settings)

    @property
    def station(self) -> OrgUnit:
        return self.tree.stations[0]


@pytest.fixture
def scene(session: Session, settings: Settings) -> Scene:
    tree = make_tree(session)
    user, volunteer = make_volunteer(session, tree.stations[0])
    return Scene(
        session=session,
        settings=settings,
        tree=tree,
        coordinator=make_coordinator(session, tree.townships[0]),
        user=user,
        volunteer=volunteer,
    )


def redemptions_url(volunteer: Volunteer) -> str:
    return f"{API}/volunteers/{volunteer.id}/points/redemptions"


def adjustments_url(volunteer: Volunteer) -> str:
    return f"{API}/volunteers/{volunteer.id}/points/adjustments"


def error_code(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])


# ---------------------------------------------------------------- earning


def test_earn_at_the_units_rate(session: Session) -> None:
    tree = make_tree(session)
    # township 0 sets 25 points per hour; its stations inherit it, township 1 keeps the default.
    session.add(RecordRules(org_unit_id=tree.townships[0].id, points_per_hour=25))
    session.flush()
    _, volunteer = make_volunteer(session, tree.stations[0])
    inside = rules_for(session, tree.stations[1])
    assert inside.points_per_hour == 25

    entry = service_entry(session, volunteer, tree.stations[1], 90)
    earned = points.earn_for(session, entry, inside, None)
    assert earned is not None
    assert (earned.kind, earned.points, earned.hours_entry_id) == ("earn", 37, entry.id)  # 90×25/60
    assert earned.unit_id == tree.stations[1].id

    elsewhere = service_entry(session, volunteer, tree.stations[2], 90)
    earned = points.earn_for(session, elsewhere, rules_for(session, tree.stations[2]), None)
    assert earned is not None and earned.points == 15  # the default 10 per hour
    assert points.balance(session, volunteer.id) == 52


def test_earn_writes_nothing_when_there_is_nothing_to_earn(session: Session) -> None:
    tree = make_tree(session)
    _, volunteer = make_volunteer(session, tree.stations[0])
    station = tree.stations[0]
    short = service_entry(session, volunteer, station, 5)  # 5 × 10 / 60 rounds down to 0
    assert points.earn_for(session, short, DEFAULT, None) is None
    unpaid = service_entry(session, volunteer, station, 600)
    assert points.earn_for(session, unpaid, Rules(points_per_hour=0), None) is None
    training = service_entry(session, volunteer, station, 120, category="training")
    assert points.earn_for(session, training, DEFAULT, None) is None
    # An hours entry earns at most once.
    once = service_entry(session, volunteer, station, 60)
    assert points.earn_for(session, once, DEFAULT, None) is not None
    assert points.earn_for(session, once, DEFAULT, None) is None
    assert [(e.kind, e.points) for e in ledger(session, volunteer.id)] == [("earn", 10)]


# ---------------------------------------------------------------- reversing


def test_reverse_takes_back_what_was_earned(scene: Scene) -> None:
    session = scene.session
    original = service_entry(session, scene.volunteer, scene.station, 120)
    points.earn_for(session, original, DEFAULT, None)
    give(session, scene.volunteer, scene.station, 60)  # other service, not reversed
    assert points.balance(session, scene.volunteer.id) == 30

    reversal = reversal_of(session, original, scene.coordinator)
    taken = points.reverse_for(session, reversal, original, scene.coordinator.id)
    assert taken is not None
    assert (taken.kind, taken.points, taken.hours_entry_id) == ("reverse", -20, reversal.id)
    assert taken.created_by_id == scene.coordinator.id
    assert taken.reason is not None and "收回积分 20 分" in taken.reason
    assert "无法收回" not in taken.reason
    assert points.balance(session, scene.volunteer.id) == 10
    # One reversal takes back once.
    assert points.reverse_for(session, reversal, original, None) is None
    assert points.balance(session, scene.volunteer.id) == 10


def test_reverse_clamps_at_zero_when_points_were_spent(scene: Scene) -> None:
    session = scene.session
    original = service_entry(session, scene.volunteer, scene.station, 120)
    points.earn_for(session, original, DEFAULT, None)  # 20
    points.redeem(
        session=session,
        volunteer_id=scene.volunteer.id,
        unit_id=scene.station.id,
        points=15,
        item="大米一袋",
        idempotency_key=None,
        actor_id=scene.coordinator.id,
    )
    taken = points.reverse_for(session, reversal_of(session, original), original, None)
    assert taken is not None and taken.points == -5
    assert taken.reason is not None
    assert "收回积分 5 分" in taken.reason and "另有 15 分已兑换使用，无法收回" in taken.reason
    assert points.balance(session, scene.volunteer.id) == 0


def test_reverse_with_nothing_left_records_the_shortfall(scene: Scene) -> None:
    session = scene.session
    original = service_entry(session, scene.volunteer, scene.station, 60)
    points.earn_for(session, original, DEFAULT, None)  # 10
    points.redeem(
        session=session,
        volunteer_id=scene.volunteer.id,
        unit_id=scene.station.id,
        points=10,
        item="食用油",
        idempotency_key=None,
        actor_id=scene.coordinator.id,
    )
    taken = points.reverse_for(session, reversal_of(session, original), original, None)
    assert taken is not None and taken.points == 0
    assert taken.reason is not None and "另有 10 分已兑换使用" in taken.reason
    assert points.balance(session, scene.volunteer.id) == 0


def test_reverse_of_hours_that_earned_nothing_writes_nothing(scene: Scene) -> None:
    session = scene.session
    original = service_entry(session, scene.volunteer, scene.station, 5)  # 0 points
    points.earn_for(session, original, DEFAULT, None)
    assert points.reverse_for(session, reversal_of(session, original), original, None) is None
    assert ledger(session, scene.volunteer.id) == []


# ---------------------------------------------------------------- redemption over HTTP


def test_redemption_spends_points_and_never_hours(client: TestClient, scene: Scene) -> None:
    session = scene.session
    give(session, scene.volunteer, scene.station, 180)  # 30 points
    minutes_before = service_minutes(session, scene.volunteer.id)
    hours_before = session.scalar(
        select(func.count(), func.sum(HoursEntry.minutes)).where(
            HoursEntry.volunteer_id == scene.volunteer.id
        )
    )

    r = client.post(
        redemptions_url(scene.volunteer),
        json={"points": 20, "item": "洗衣液一瓶"},
        headers=scene.headers(),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["balance"] == 10 and body["replayed"] is False
    entry = body["entry"]
    assert (entry["kind"], entry["points"], entry["item"]) == ("redeem", -20, "洗衣液一瓶")
    assert entry["unit_id"] == scene.station.id
    assert entry["created_by_id"] == scene.coordinator.id

    assert points.balance(session, scene.volunteer.id) == 10
    session.expire_all()
    assert service_minutes(session, scene.volunteer.id) == minutes_before == 180
    hours_after = session.scalar(
        select(func.count(), func.sum(HoursEntry.minutes)).where(
            HoursEntry.volunteer_id == scene.volunteer.id
        )
    )
    assert hours_after == hours_before

    # The volunteer and the coordinator read the same ledger, newest first.
    for path, headers in (
        ("/me/points", scene.headers(scene.user)),
        (f"/volunteers/{scene.volunteer.id}/points", scene.headers()),
    ):
        r = client.get(API + path, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["balance"] == 10
        assert r.json()["volunteer_id"] == scene.volunteer.id
        assert [(e["kind"], e["points"]) for e in r.json()["items"]] == [
            ("redeem", -20),
            ("earn", 30),
        ]


def test_redemption_refused_when_the_balance_is_short(client: TestClient, scene: Scene) -> None:
    give(scene.session, scene.volunteer, scene.station, 60)  # 10 points
    before = entry_count(scene.session)
    r = client.post(
        redemptions_url(scene.volunteer),
        json={"points": 11, "item": "大米一袋"},
        headers=scene.headers(),
    )
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "INSUFFICIENT_POINTS"
    assert error["message"] == "积分余额不足"
    assert error["details"] == {"balance": 10, "requested": 11}
    assert entry_count(scene.session) == before
    assert points.balance(scene.session, scene.volunteer.id) == 10

    # With nothing at all, too.
    _, empty = make_volunteer(scene.session, scene.tree.stations[1])
    r = client.post(
        redemptions_url(empty), json={"points": 1, "item": "毛巾"}, headers=scene.headers()
    )
    assert (r.status_code, error_code(r)) == (409, "INSUFFICIENT_POINTS")
    assert r.json()["error"]["details"]["balance"] == 0
    assert entry_count(scene.session) == before


def test_redemption_with_a_repeated_idempotency_key(client: TestClient, scene: Scene) -> None:
    give(scene.session, scene.volunteer, scene.station, 300)  # 50 points
    body = {"points": 20, "item": "大米一袋", "idempotency_key": "pos-7f3a-0001"}
    first = client.post(redemptions_url(scene.volunteer), json=body, headers=scene.headers())
    assert first.status_code == 201, first.text
    again = client.post(redemptions_url(scene.volunteer), json=body, headers=scene.headers())
    assert again.status_code == 201, again.text
    assert again.json()["replayed"] is True
    assert again.json()["entry"] == first.json()["entry"]
    assert first.json()["entry"]["reason"] is None  # the key is not shown as a reason
    assert points.balance(scene.session, scene.volunteer.id) == 30
    assert [e.kind for e in ledger(scene.session, scene.volunteer.id)] == ["earn", "redeem"]

    # The same key for something else is refused; a new key spends again.
    other = {**body, "points": 5}
    r = client.post(redemptions_url(scene.volunteer), json=other, headers=scene.headers())
    assert (r.status_code, error_code(r)) == (422, "IDEMPOTENCY_KEY_REUSED")
    fresh = {**body, "idempotency_key": "pos-7f3a-0002"}
    r = client.post(redemptions_url(scene.volunteer), json=fresh, headers=scene.headers())
    assert r.status_code == 201 and r.json()["balance"] == 10
    assert points.balance(scene.session, scene.volunteer.id) == 10


def test_points_pages_newest_first(client: TestClient, scene: Scene) -> None:
    ids = [give(scene.session, scene.volunteer, scene.station, 60).id for _ in range(5)]
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"{API}/me/points", params=params, headers=scene.headers(scene.user))
        assert r.status_code == 200, r.text
        assert r.json()["balance"] == 50
        seen += [e["id"] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)


def test_me_points_needs_a_volunteer(client: TestClient, scene: Scene) -> None:
    r = client.get(f"{API}/me/points", headers=scene.headers())
    assert (r.status_code, error_code(r)) == (403, "NOT_A_VOLUNTEER")


# ---------------------------------------------------------------- adjustments


def test_adjustments_with_a_reason_and_no_overdraft(client: TestClient, scene: Scene) -> None:
    url = adjustments_url(scene.volunteer)
    r = client.post(url, json={"points": 50, "reason": "重阳节活动奖励"}, headers=scene.headers())
    assert r.status_code == 201, r.text
    assert r.json()["balance"] == 50
    assert (r.json()["entry"]["kind"], r.json()["entry"]["reason"]) == ("adjust", "重阳节活动奖励")

    r = client.post(url, json={"points": -30, "reason": "重复发放，扣回"}, headers=scene.headers())
    assert r.status_code == 201, r.text
    assert r.json()["balance"] == 20

    before = entry_count(scene.session)
    r = client.post(url, json={"points": -21, "reason": "扣回"}, headers=scene.headers())
    assert (r.status_code, error_code(r)) == (409, "INSUFFICIENT_POINTS")
    assert r.json()["error"]["details"] == {"balance": 20, "requested": 21}
    assert entry_count(scene.session) == before
    assert points.balance(scene.session, scene.volunteer.id) == 20


def test_nobody_adjusts_their_own_points(client: TestClient, scene: Scene) -> None:
    # A coordinator of the township who is also a volunteer at one of its stations.
    coordinator_volunteer, volunteer = make_volunteer(
        scene.session, scene.station, user=make_coordinator(scene.session, scene.tree.townships[0])
    )
    before = entry_count(scene.session)
    r = client.post(
        adjustments_url(volunteer),
        json={"points": 100, "reason": "奖励"},
        headers=scene.headers(coordinator_volunteer),
    )
    assert (r.status_code, error_code(r)) == (403, "SELF_APPROVAL")
    assert entry_count(scene.session) == before


# ---------------------------------------------------------------- bad input

REDEEM_BAD: list[tuple[str, dict[str, Any]]] = [
    ("zero", {"points": 0, "item": "大米"}),
    ("negative", {"points": -5, "item": "大米"}),
    ("huge", {"points": 10**9 + 1, "item": "大米"}),
    ("over the maximum", {"points": points.MAX_POINTS + 1, "item": "大米"}),
    ("beyond int64", {"points": 2**70, "item": "大米"}),
    ("a string", {"points": "10", "item": "大米"}),
    ("a boolean", {"points": True, "item": "大米"}),
    ("a fraction", {"points": 1.5, "item": "大米"}),
    ("missing item", {"points": 10}),
    ("blank item", {"points": 10, "item": "   "}),
    ("item too long", {"points": 10, "item": "米" * 101}),
    ("control character", {"points": 10, "item": "大米\x00"}),
    ("bad idempotency key", {"points": 10, "item": "大米", "idempotency_key": "有 空格"}),
    ("unknown field", {"points": 10, "item": "大米", "hours": 5}),
]

ADJUST_BAD: list[tuple[str, dict[str, Any]]] = [
    ("zero", {"points": 0, "reason": "奖励"}),
    ("huge", {"points": 10**9 + 1, "reason": "奖励"}),
    ("huge negative", {"points": -(10**9) - 1, "reason": "扣回"}),
    ("missing reason", {"points": 10}),
    ("blank reason", {"points": 10, "reason": ""}),
    ("reason too long", {"points": 10, "reason": "因" * 201}),
]


@pytest.mark.parametrize(
    ("url", "body"),
    [pytest.param(redemptions_url, b, id=f"redeem {name}") for name, b in REDEEM_BAD]
    + [pytest.param(adjustments_url, b, id=f"adjust {name}") for name, b in ADJUST_BAD],
)
def test_bad_input_is_refused_and_writes_nothing(
    client: TestClient, scene: Scene, url: Any, body: dict[str, Any]
) -> None:
    give(scene.session, scene.volunteer, scene.station, 600)  # 100 points
    before = entry_count(scene.session)
    r = client.post(url(scene.volunteer), json=body, headers=scene.headers())
    assert r.status_code == 422, r.text
    assert error_code(r) == "VALIDATION_ERROR"
    assert entry_count(scene.session) == before
    assert points.balance(scene.session, scene.volunteer.id) == 100


def test_malformed_json_and_bad_paths(client: TestClient, scene: Scene) -> None:
    before = entry_count(scene.session)
    r = client.post(
        redemptions_url(scene.volunteer),
        content=b'{"points": 10, "item": ',
        headers={**scene.headers(), "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422), r.text
    for path in ("/volunteers/0/points", "/volunteers/99999999999/points"):
        r = client.get(API + path, headers=scene.headers())
        assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    r = client.get(
        f"{API}/me/points", params={"cursor": "not-a-cursor"}, headers=scene.headers(scene.user)
    )
    assert (r.status_code, error_code(r)) == (400, "INVALID_CURSOR")
    assert entry_count(scene.session) == before


# ---------------------------------------------------------------- scope


def test_points_routes_scope(client: TestClient, scene: Scene) -> None:
    """Coordinators read and move points only of volunteers whose home station is in their
    subtree; outside it the volunteer does not exist for them (404) and nothing is written.
    Volunteers read only their own ledger and move nothing."""
    session = scene.session
    inside_user, inside = make_volunteer(session, scene.tree.stations[1])
    _, outside = make_volunteer(session, scene.tree.stations[2])
    for volunteer in (inside, outside):
        give(session, volunteer, session.get(OrgUnit, volunteer.home_station_id), 600)  # type: ignore[arg-type]
    redeem_body = {"points": 10, "item": "大米一袋"}
    adjust_body = {"points": -10, "reason": "扣回"}

    before = entry_count(session)
    for method, url, body in (
        ("GET", f"{API}/volunteers/{outside.id}/points", None),
        ("POST", redemptions_url(outside), redeem_body),
        ("POST", adjustments_url(outside), adjust_body),
        ("POST", adjustments_url(outside), {"points": 10, "reason": "奖励"}),
        ("GET", f"{API}/volunteers/999999/points", None),
        ("POST", redemptions_url(Volunteer(id=999999)), redeem_body),
    ):
        r = client.request(method, url, json=body, headers=scene.headers())
        assert (r.status_code, error_code(r)) == (404, "VOLUNTEER_NOT_FOUND"), url
    # A station coordinator of the sibling station is outside too.
    sibling = make_coordinator(session, scene.tree.stations[0])
    r = client.post(redemptions_url(inside), json=redeem_body, headers=scene.headers(sibling))
    assert (r.status_code, error_code(r)) == (404, "VOLUNTEER_NOT_FOUND")
    # A volunteer cannot read another's points, nor redeem or adjust anything (their own neither).
    volunteer_headers = scene.headers(scene.user)
    r = client.get(f"{API}/volunteers/{inside.id}/points", headers=volunteer_headers)
    assert (r.status_code, error_code(r)) == (404, "VOLUNTEER_NOT_FOUND")
    for url, body in (
        (redemptions_url(scene.volunteer), redeem_body),
        (adjustments_url(scene.volunteer), {"points": 100, "reason": "奖励"}),
    ):
        r = client.post(url, json=body, headers=volunteer_headers)
        assert (r.status_code, error_code(r)) == (403, "STAFF_ONLY")
    r = client.get(f"{API}/volunteers/{inside.id}/points")
    assert (r.status_code, error_code(r)) == (401, "UNAUTHORIZED")
    assert entry_count(session) == before
    assert points.balance(session, outside.id) == 100

    # Inside the subtree, all of it works; the volunteer reads their own ledger by id too.
    r = client.get(f"{API}/volunteers/{inside.id}/points", headers=scene.headers())
    assert r.status_code == 200 and r.json()["balance"] == 100
    r = client.post(redemptions_url(inside), json=redeem_body, headers=scene.headers())
    assert r.status_code == 201, r.text
    r = client.post(adjustments_url(inside), json=adjust_body, headers=scene.headers())
    assert r.status_code == 201 and r.json()["balance"] == 80
    r = client.get(f"{API}/volunteers/{inside.id}/points", headers=scene.headers(inside_user))
    assert r.status_code == 200 and r.json()["balance"] == 80


# ---------------------------------------------------------------- the ledger's invariant

Op = tuple[str, int]

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(min_value=-30, max_value=600)),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("redeem"), st.integers(min_value=1, max_value=120)),
        st.tuples(st.just("adjust"), st.integers(min_value=-120, max_value=120).filter(bool)),
    ),
    max_size=15,
)


def test_balance_is_the_ledger_sum_and_never_negative(scene: Scene) -> None:
    """For any sequence of earn / reverse / redeem / adjust through the service functions, the
    balance equals the sum of the ledger, matches a model of what each step should do, and no
    prefix of the ledger (in the order it was written) is ever negative. Each example runs in a
    savepoint that is rolled back."""
    session = scene.session
    volunteer, station, actor = scene.volunteer, scene.station, scene.coordinator.id

    @hypothesis_settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(ops=OPERATIONS, rate=st.sampled_from([0, 1, 7, 10, 25]))
    def run(ops: list[Op], rate: int) -> None:
        savepoint = session.begin_nested()
        try:
            check(ops, Rules(points_per_hour=rate))
        finally:
            savepoint.rollback()

    def check(ops: list[Op], rules: Rules) -> None:
        expected = 0
        earned: list[tuple[HoursEntry, int]] = []  # hours entries that earned, not reversed
        for kind, amount in ops:
            if kind == "earn":
                entry = service_entry(session, volunteer, station, amount)
                written = points.earn_for(session, entry, rules, None)
                gain = max(amount, 0) * rules.points_per_hour // 60
                assert (written.points if written else 0) == gain
                if written is not None:
                    earned.append((entry, gain))
                expected += gain
            elif kind == "reverse" and earned:
                original, gain = earned.pop(amount % len(earned))
                taken = points.reverse_for(session, reversal_of(session, original), original, None)
                assert taken is not None
                assert taken.points == -min(gain, expected)
                expected += taken.points
            elif kind == "redeem":
                try:
                    points.redeem(
                        session=session,
                        volunteer_id=volunteer.id,
                        unit_id=station.id,
                        points=amount,
                        item="兑换",
                        idempotency_key=None,
                        actor_id=actor,
                    )
                    assert amount <= expected
                    expected -= amount
                except InsufficientPoints:
                    assert amount > expected
            elif kind == "adjust":
                try:
                    points.adjust(
                        session=session,
                        volunteer_id=volunteer.id,
                        unit_id=station.id,
                        points=amount,
                        reason="调整",
                        actor_id=actor,
                    )
                    assert expected + amount >= 0
                    expected += amount
                except InsufficientPoints:
                    assert expected + amount < 0
            balance = points.balance(session, volunteer.id)
            rows = ledger(session, volunteer.id)
            assert balance == sum(e.points for e in rows) == expected >= 0
            running = 0
            for e in rows:
                running += e.points
                assert running >= 0

    run()


# ---------------------------------------------------------------- concurrency over HTTP


@dataclass
class Live:
    engine: Engine
    settings: Settings
    base_url: str


@pytest.fixture(scope="module")
def live(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("points-race")
    with fresh_database(engine_name, tmp) as url:
        settings = Settings(env=Environment.TEST, database_url=url, secret_key=TEST_SECRET)
        engine = make_engine(url, settings)
        try:
            with running_server(url, TEST_SECRET, log_path=Path(tmp) / "server.log") as base:
                yield Live(engine=engine, settings=settings, base_url=base)
        finally:
            engine.dispose()


def _at_once(live: Live, requests: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[Any]:
    barrier = threading.Barrier(len(requests))
    responses: list[Any] = [None] * len(requests)

    def send(i: int) -> None:
        url, body, headers = requests[i]
        with httpx2.Client(base_url=live.base_url, timeout=60) as http:
            http.get("/healthz")  # connect before the start line
            barrier.wait()
            responses[i] = http.post(url, json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None for r in responses)
    return responses


def _funded_volunteer(live: Live, points_earned_minutes: int) -> tuple[int, dict[str, str]]:
    with Session(writer(live.engine), expire_on_commit=False) as session, session.begin():
        tree = make_tree(session)
        coordinator = make_coordinator(session, tree.townships[0])
        _, volunteer = make_volunteer(session, tree.stations[0])
        give(session, volunteer, tree.stations[0], points_earned_minutes)
    return volunteer.id, auth(coordinator, live.settings)


@pytest.mark.server
def test_concurrent_redemptions_never_overdraw(live: Live) -> None:
    """Two coordinators redeem the last 10 points at the same moment: exactly one succeeds,
    the other gets a clean 409; then eight redeem 10 each from 50: exactly five succeed."""
    for start_minutes, contenders in ((60, 2), (300, 8)):
        volunteer_id, headers = _funded_volunteer(live, start_minutes)
        url = f"{API}/volunteers/{volunteer_id}/points/redemptions"
        body = {"points": 10, "item": "大米一袋"}
        responses = _at_once(live, [(url, body, headers)] * contenders)
        winners = start_minutes // 60
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * winners + [409] * (contenders - winners), [
            r.text for r in responses
        ]
        assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
            "INSUFFICIENT_POINTS"
        }
        with Session(live.engine) as session:
            assert points.balance(session, volunteer_id) == 0
            redeemed = session.scalar(
                select(func.count())
                .select_from(PointsEntry)
                .where(PointsEntry.volunteer_id == volunteer_id, PointsEntry.kind == "redeem")
            )
            assert redeemed == winners


@pytest.mark.server
def test_concurrent_retries_with_one_idempotency_key_spend_once(live: Live) -> None:
    volunteer_id, headers = _funded_volunteer(live, 300)  # 50 points
    url = f"{API}/volunteers/{volunteer_id}/points/redemptions"
    body = {"points": 20, "item": "食用油", "idempotency_key": "retry-1"}
    responses = _at_once(live, [(url, body, headers)] * 4)
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    assert len({r.json()["entry"]["id"] for r in responses}) == 1
    assert sorted(r.json()["replayed"] for r in responses) == [False, True, True, True]
    with Session(live.engine) as session:
        assert points.balance(session, volunteer_id) == 30
