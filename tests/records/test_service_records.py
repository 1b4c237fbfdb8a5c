"""Check-in, check-out, confirmation and the hours ledger, through the API.

The clock is frozen at a Tuesday 10:00 in the city; each wish's window starts then and lasts two
hours; the wish's place is the station's.
"""

from __future__ import annotations

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
from app.models import Attendance, HoursEntry, OrgUnit, RecordRules, User, Volunteer, Wish
from app.models.enums import WishStatus
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    KM_LNG,
    Tree,
    auth,
    consent_to,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"
START = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai


@pytest.fixture
def frozen() -> Iterator[Clock]:
    fake = Clock(START)
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)


@dataclass
class Scene:
    client: TestClient
    session: Session
    settings: Settings
    frozen: Clock
    tree: Tree
    station: OrgUnit
    coordinator: User
    requester: User
    user: User
    volunteer: Volunteer
    wish: Wish

    def h(self, user: User | None = None) -> dict[str, str]:
        return auth(user or self.user, self.settings)

    @property
    def place(self) -> dict[str, float]:
        assert self.wish.lat is not None and self.wish.lng is not None
        return {"lat": self.wish.lat, "lng": self.wish.lng}

    def post(self, path: str, body: Any = None, user: User | None = None) -> Any:
        return self.client.post(f"{API}{path}", json=body, headers=self.h(user))

    def get(self, path: str, user: User | None = None, **params: Any) -> Any:
        return self.client.get(f"{API}{path}", params=params, headers=self.h(user))

    def records(self) -> list[dict[str, Any]]:
        r = self.get(f"/wishes/{self.wish.id}/service-records", self.coordinator)
        assert r.status_code == 200, r.text
        return list(r.json())

    def serve(self, minutes: int, user: User | None = None, **extra: Any) -> int:
        """Check in now, check out `minutes` later; the record's id."""
        r = self.post(f"/wishes/{self.wish.id}/check-in", {**self.place, **extra}, user)
        assert r.status_code == 200, r.text
        self.frozen.advance(minutes=minutes)
        r = self.post(f"/wishes/{self.wish.id}/check-out", {**self.place, "summary": "陪老人买菜"},
                      user)  # fmt: skip
        assert r.status_code == 200, r.text
        volunteer_id = self.volunteer.id if user is None else _volunteer_of(self.session, user)
        [record] = [x for x in self.records() if x["volunteer_id"] == volunteer_id]
        return int(record["id"])

    def confirm(self, record_id: int, user: User | None = None) -> Any:
        return self.post(f"/service-records/{record_id}/confirm", None, user or self.coordinator)

    def counts(self) -> tuple[int, int, int]:
        self.session.expire_all()
        return (
            self.session.scalar(select(func.count()).select_from(Attendance)) or 0,
            self.session.scalar(select(func.count()).select_from(HoursEntry)) or 0,
            self.session.scalar(select(Wish.version).where(Wish.id == self.wish.id)) or 0,
        )


def _volunteer_of(session: Session, user: User) -> int:
    found = session.scalar(select(Volunteer.id).where(Volunteer.user_id == user.id))
    assert found is not None
    return found


@pytest.fixture
def scene(client: TestClient, session: Session, settings: Settings, frozen: Clock) -> Scene:
    tree = make_tree(session)
    station = tree.stations[0]
    requester = make_resident(session)
    user, volunteer = make_volunteer(session, station)
    wish = make_wish(session, station=station, requester=requester, status=WishStatus.ACCEPTED,
                     assignee=volunteer)  # fmt: skip
    wish.wanted_start_at = START
    wish.wanted_end_at = START + timedelta(hours=2)
    session.flush()
    consent_to(session, user.id, at=START - timedelta(days=1))
    return Scene(client, session, settings, frozen, tree, station,
                 make_coordinator(session, station), requester, user, volunteer, wish)  # fmt: skip


def error(r: Any) -> str:
    return str(r.json()["error"]["code"])


# ---------------------------------------------------------------- check-in and check-out


def test_served_confirmed_and_credited_by_the_rules(scene: Scene) -> None:
    record_id = scene.serve(100)
    [record] = scene.records()
    assert record["status"] == "checked_out" and record["attended_hours"] == 1.67
    assert record["credited_hours"] is None
    assert scene.get("/me/hours").json()["service_hours"] == 0  # not until confirmed
    r = scene.confirm(record_id)
    assert r.status_code == 200, r.text
    # 100 minutes, rounded down to the half hour: 1.5 hours.
    assert r.json()["status"] == "credited" and r.json()["credited_hours"] == 1.5
    mine = scene.get("/me/hours").json()
    assert mine["service_hours"] == 1.5
    [entry] = mine["entries"]
    assert entry["verification"] == "gps" and entry["content"] == "陪老人买菜"
    assert entry["started_at"].startswith("2027-03-02T02:00")
    # Confirming again credits nothing more.
    before = scene.counts()
    r = scene.confirm(record_id)
    assert r.status_code == 409 and error(r) == "RECORD_ALREADY_CONFIRMED"
    assert scene.counts() == before


@pytest.mark.parametrize(
    ("rules", "minutes", "credited"),
    [
        ({}, 130, 2.0),  # 2 h 10 min → 2 h
        ({"rounding_minutes": 15}, 135, 2.25),  # 2 h 15 min: 2.25 h to the quarter (2 h by default)
        ({"cap_minutes": 60}, 130, 1.0),  # capped per activity
        ({}, 71, 0.0),  # under 60 % of the planned two hours: nothing
        ({"min_attendance_pct": 50}, 71, 1.0),
    ],
)
def test_crediting_rules_are_the_units_data(
    scene: Scene, rules: dict[str, int], minutes: int, credited: float
) -> None:
    if rules:
        scene.session.add(RecordRules(org_unit_id=scene.tree.county.id, **rules))
        scene.session.flush()
    r = scene.confirm(scene.serve(minutes))
    assert r.status_code == 200, r.text
    assert r.json()["credited_hours"] == credited
    if credited == 0:
        [entry] = scene.get("/me/hours").json()["entries"]
        assert "60%" in entry["reason"]


def test_outside_the_fence_or_the_window_is_refused_and_writes_nothing(scene: Scene) -> None:
    before = scene.counts()
    far = {"lat": scene.place["lat"], "lng": scene.place["lng"] + 0.6 * KM_LNG}
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", far)
    assert r.status_code == 400 and error(r) == "OUTSIDE_FENCE"
    assert r.json()["error"]["details"]["fence_m"] == 500
    assert 580 <= r.json()["error"]["details"]["distance_m"] <= 620
    scene.frozen.advance(hours=-2)  # two hours early
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", scene.place)
    assert r.status_code == 400 and error(r) == "OUTSIDE_SERVICE_WINDOW"
    for bad in ({"lat": 91, "lng": 0}, {"lat": 30.0}, {"lat": "北纬", "lng": 119}):
        r = scene.post(f"/wishes/{scene.wish.id}/check-in", bad)
        assert r.status_code == 422, r.text
    assert scene.counts() == before
    # A wider fence for the unit lets the same phone in.
    scene.frozen.advance(hours=2)
    r = scene.client.put(f"{API}/org-units/{scene.station.id}/record-rules",
                         json={"fence_m": 800}, headers=scene.h(scene.coordinator))  # fmt: skip
    assert r.status_code == 200 and r.json()["effective"]["fence_m"] == 800, r.text
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", far)
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text


def test_without_consent_a_coordinator_checks_in_and_the_record_is_flagged(scene: Scene) -> None:
    r = scene.client.put(f"{API}/me/consents/location", json={"granted": False},
                         headers=scene.h())  # fmt: skip
    assert r.status_code == 200 and r.json()["granted"] is False
    before = scene.counts()
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", scene.place)
    assert r.status_code == 409 and error(r) == "LOCATION_CONSENT_REQUIRED"
    # The coordinator must say why.
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", {}, scene.coordinator)
    assert r.status_code == 400 and error(r) == "REASON_REQUIRED"
    assert scene.counts() == before
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", {"reason": "志愿者未授权定位，现场核实"},
                   scene.coordinator)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text
    [record] = scene.records()
    assert record["manual"] is True and record["check_in_method"] == "manual"
    row = scene.session.get(Attendance, record["id"])
    assert row is not None and row.check_in_fix is None  # no location kept
    flags = scene.get(f"/org-units/{scene.station.id}/record-flags", scene.coordinator).json()
    assert flags == []  # flagged once checked out, when it awaits confirmation
    scene.frozen.advance(minutes=90)
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", {"reason": "现场核实"}, scene.coordinator)
    assert r.status_code == 200, r.text
    flags = scene.get(f"/org-units/{scene.station.id}/record-flags", scene.coordinator).json()
    assert [(f["kind"], f["attendance_ids"]) for f in flags] == [("MANUAL", [record["id"]])]
    r = scene.confirm(record["id"])
    assert r.status_code == 200
    [entry] = scene.get("/me/hours").json()["entries"]
    assert entry["verification"] == "manual"


def test_late_sync_is_accepted_in_the_window_flagged_and_idempotent(scene: Scene) -> None:
    # Checked in offline at 10:05, uploaded at 13:00 with the phone's time and a nonce.
    scene.frozen.advance(hours=3)
    check = {**scene.place, "client_time": (START + timedelta(minutes=5)).isoformat(),
             "nonce": "offline-0001"}  # fmt: skip
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", check)
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text
    before = scene.counts()
    again = scene.post(f"/wishes/{scene.wish.id}/check-in", check)
    assert again.status_code == 200 and again.json()["status"] == "in_service"
    assert scene.counts() == before
    [record] = scene.records()
    assert record["late_sync"] is True
    assert record["checked_in_at"].startswith("2027-03-02T02:05")
    # Beyond the unit's late-sync window (72 h by default), or in the future: refused.
    out = {**scene.place, "client_time": (START - timedelta(days=4)).isoformat()}
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", out)
    assert r.status_code == 400 and error(r) == "LATE_SYNC_EXPIRED"
    ahead = {**scene.place, "client_time": (scene.frozen.now + timedelta(hours=1)).isoformat()}
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", ahead)
    assert r.status_code == 400 and error(r) == "CLIENT_TIME_IN_FUTURE"
    earlier = {**scene.place, "client_time": START.isoformat()}
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", earlier)
    assert r.status_code == 400 and error(r) == "CHECK_OUT_BEFORE_CHECK_IN"
    assert scene.counts() == before
    for bad in ({"nonce": "短"}, {"client_time": "昨天"}, {"nonce": "x" * 65}):
        r = scene.post(f"/wishes/{scene.wish.id}/check-out", {**scene.place, **bad})
        assert r.status_code == 422, r.text
    assert scene.counts() == before


def test_a_nonce_is_one_check_of_one_wish(scene: Scene) -> None:
    """The same nonce again on the same wish is the same check (even when a coordinator sends
    it for the lead); on another wish of the same volunteer it is refused and changes nothing."""
    check = {**scene.place, "nonce": "offline-0002"}
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", check)
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text
    before = scene.counts()
    again = scene.post(f"/wishes/{scene.wish.id}/check-in", {**check, "reason": "补传"},
                       scene.coordinator)  # fmt: skip
    assert again.status_code == 200 and again.json()["status"] == "in_service", again.text
    assert scene.counts() == before
    other = make_wish(scene.session, station=scene.station, requester=scene.requester,
                      status=WishStatus.ACCEPTED, assignee=scene.volunteer)  # fmt: skip
    other.wanted_start_at, other.wanted_end_at = START, START + timedelta(hours=2)
    scene.session.flush()
    r = scene.post(f"/wishes/{other.id}/check-in", check)
    assert r.status_code == 409 and error(r) == "CHECK_NONCE_REUSED", r.text
    scene.session.expire_all()
    assert scene.session.get(Wish, other.id).status == WishStatus.ACCEPTED  # type: ignore[union-attr]
    assert scene.counts() == before


def test_each_team_member_gets_their_own_record(scene: Scene) -> None:
    member_user, member = make_volunteer(scene.session, scene.station)
    consent_to(scene.session, member_user.id, at=START)
    outsider_user, _ = make_volunteer(scene.session, scene.station)
    # The lead adds a team member; an outsider cannot add anyone, nor see the wish.
    r = scene.post(f"/wishes/{scene.wish.id}/team", {"volunteer_id": member.id}, outsider_user)
    assert r.status_code == 404, r.text
    r = scene.post(f"/wishes/{scene.wish.id}/team", {"volunteer_id": member.id})
    assert r.status_code == 201 and r.json()["status"] == "assigned", r.text
    r = scene.post(f"/wishes/{scene.wish.id}/team", {"volunteer_id": member.id})
    assert r.status_code == 409 and error(r) == "ALREADY_ON_TEAM"
    # The member sees the wish in full and checks in before the lead: the wish waits for the lead.
    r = scene.get(f"/wishes/{scene.wish.id}", member_user)
    assert r.status_code == 200 and r.json()["redacted"] is False
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", scene.place, member_user)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    lead = scene.serve(120)
    scene.frozen.advance(minutes=-30)
    scene.frozen.advance(minutes=30)
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", scene.place, member_user)
    assert r.status_code == 200 and r.json()["status"] == "completed", r.text
    records = {x["volunteer_id"]: x for x in scene.records()}
    assert set(records) == {scene.volunteer.id, member.id}
    assert records[member.id]["status"] == "checked_out" and records[member.id]["is_lead"] is False
    for record_id in (lead, records[member.id]["id"]):
        assert scene.confirm(record_id).status_code == 200
    assert scene.get("/me/hours").json()["service_hours"] == 2.0
    assert scene.get("/me/hours", member_user).json()["service_hours"] == 2.0


# ---------------------------------------------------------------- who confirms


def test_requester_confirms_when_the_unit_says_so(scene: Scene) -> None:
    scene.session.add(RecordRules(org_unit_id=scene.station.id, confirm_by="requester"))
    scene.session.flush()
    record_id = scene.serve(120)
    before = scene.counts()
    r = scene.confirm(record_id, scene.coordinator)
    assert r.status_code == 403 and error(r) == "CONFIRMER_NOT_ALLOWED"
    stranger = make_resident(scene.session)
    r = scene.confirm(record_id, stranger)
    assert r.status_code == 404 and error(r) == "SERVICE_RECORD_NOT_FOUND"
    r = scene.confirm(record_id, scene.user)  # the volunteer cannot confirm their own hours
    assert r.status_code == 403
    assert scene.counts() == before
    r = scene.confirm(record_id, scene.requester)
    assert r.status_code == 200 and r.json()["credited_hours"] == 2.0


def test_rejected_record_credits_nothing(scene: Scene) -> None:
    record_id = scene.serve(120)
    r = scene.post(f"/service-records/{record_id}/reject", {"reason": "现场核实未到"},
                   scene.coordinator)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    assert scene.confirm(record_id).status_code == 409
    assert scene.get("/me/hours").json()["service_hours"] == 0


# ---------------------------------------------------------------- corrections and other records


def test_corrections_reverse_and_replace_never_edit(scene: Scene) -> None:
    assert scene.confirm(scene.serve(120)).status_code == 200
    [entry] = scene.get("/me/hours").json()["entries"]
    path = f"/hours-entries/{entry['id']}/corrections"
    before = scene.counts()
    for bad, status, code in (
        ({"reason": "多记", "hours": 9}, 400, "HOURS_OVER_CAP"),
        ({"reason": "多记", "hours": -1}, 422, None),
        ({"hours": 1}, 422, None),
        ({"reason": "", "hours": 1}, 422, None),
    ):
        r = scene.post(path, bad, scene.coordinator)
        assert r.status_code == status, r.text
        if code:
            assert error(r) == code
    r = scene.post(path, {"reason": "实际只服务一小时"}, scene.user)
    assert r.status_code == 403
    assert scene.counts() == before
    r = scene.post(path, {"reason": "实际只服务一小时", "hours": 1}, scene.coordinator)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["reversal"]["hours"] == -2.0 and body["reversal"]["reverses_id"] == entry["id"]
    assert body["replacement"]["hours"] == 1.0 and body["service_hours"] == 1.0
    assert body["reversal"]["approved_by_id"] == scene.coordinator.id
    r = scene.post(path, {"reason": "再冲一次"}, scene.coordinator)
    assert r.status_code == 409 and error(r) == "ENTRY_ALREADY_REVERSED"
    r = scene.post(f"/hours-entries/{body['reversal']['id']}/corrections", {"reason": "冲销冲销"},
                   scene.coordinator)  # fmt: skip
    assert r.status_code == 409 and error(r) == "REVERSAL_NOT_REVERSIBLE"
    mine = scene.get("/me/hours").json()
    assert mine["service_hours"] == sum(e["hours"] for e in mine["entries"]) == 1.0
    # The original entry is untouched; the database itself refuses edits.
    original = scene.session.get(HoursEntry, entry["id"])
    assert original is not None and original.minutes == 120
    with pytest.raises(Exception, match="append-only"), scene.session.begin_nested():
        scene.session.execute(
            HoursEntry.__table__.update().where(HoursEntry.id == entry["id"]).values(minutes=1)
        )


def test_training_award_and_evaluation_records(scene: Scene) -> None:
    path = f"/volunteers/{scene.volunteer.id}/record-entries"
    day = START.isoformat()
    r = scene.post(path, {"category": "training", "content": "急救培训", "started_at": day,
                          "ended_at": (START + timedelta(hours=3)).isoformat(), "hours": 3},
                   scene.coordinator)  # fmt: skip
    assert r.status_code == 201 and r.json()["hours"] == 3.0, r.text
    r = scene.post(path, {"category": "award", "content": "优秀志愿者", "started_at": day},
                   scene.coordinator)  # fmt: skip
    assert r.status_code == 201, r.text
    before = scene.counts()
    for bad in (
        {"category": "training", "content": "x", "started_at": day,
         "ended_at": (START - timedelta(hours=1)).isoformat()},  # end before start
        {"category": "award", "content": "x", "started_at": day, "hours": 2},
        {"category": "service", "content": "x", "started_at": day},
        {"category": "training", "content": "x", "started_at": day, "hours": 25},
    ):  # fmt: skip
        r = scene.post(path, bad, scene.coordinator)
        assert r.status_code == 422, r.text
    r = scene.post(path, {"category": "training", "content": "x", "started_at": day, "hours": 9},
                   scene.coordinator)  # fmt: skip
    assert r.status_code == 400 and error(r) == "HOURS_OVER_CAP"
    assert scene.counts() == before
    mine = scene.get("/me/hours").json()
    assert mine["training_hours"] == 3.0 and mine["service_hours"] == 0


def test_export_json_and_csv(scene: Scene) -> None:
    assert scene.confirm(scene.serve(120)).status_code == 200
    r = scene.get("/me/record-export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    data = r.json()
    assert data["format"] == "wenming-volunteer-record/1"
    assert data["basic"]["volunteer_id"] == scene.volunteer.id
    assert set(data) >= {"basic", "service", "training", "awards", "evaluations", "totals"}
    assert data["totals"]["service_hours"] == 2.0
    [service] = data["service"]
    assert service["recording_unit_code"] == scene.station.code
    assert service["started_at"] == "2027-03-02T10:00+08:00"
    r = scene.get(f"/volunteers/{scene.volunteer.id}/record-export", scene.coordinator,
                  format="csv")  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("record_kind,entry_id,started_at")
    assert lines[1].startswith("service,") and ",2.0," in lines[1]
    r = scene.get("/me/record-export", format="xml")
    assert r.status_code == 422


# ---------------------------------------------------------------- 评单


def test_rating_once_by_the_requester_feeds_the_volunteer_not_the_hours(scene: Scene) -> None:
    record_id = scene.serve(120)
    assert scene.confirm(record_id).status_code == 200
    other = make_resident(scene.session)
    r = scene.post(f"/wishes/{scene.wish.id}/rate", {"score": 5}, other)
    assert r.status_code == 404 and error(r) == "WISH_NOT_FOUND"
    r = scene.post(f"/wishes/{scene.wish.id}/rate", {"score": 6}, scene.requester)
    assert r.status_code == 422
    r = scene.post(f"/wishes/{scene.wish.id}/rate", {"score": 4, "comment": "很耐心"},
                   scene.requester)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "rated", r.text
    r = scene.post(f"/wishes/{scene.wish.id}/rate", {"score": 1}, scene.requester)
    assert r.status_code == 409
    scene.session.expire_all()
    volunteer = scene.session.get(Volunteer, scene.volunteer.id)
    assert volunteer is not None and (volunteer.rating_sum, volunteer.rating_count) == (4, 1)
    assert scene.get("/me/hours").json()["service_hours"] == 2.0
    # The volunteer rates the experience back, once.
    r = scene.post(f"/wishes/{scene.wish.id}/feedback", {"score": 5, "comment": "老人很热情"})
    assert r.status_code == 200 and r.json()["feedback_score"] == 5, r.text
    r = scene.post(f"/wishes/{scene.wish.id}/feedback", {"score": 3})
    assert r.status_code == 409 and error(r) == "ALREADY_RATED"


def test_suspicious_patterns_are_flagged(scene: Scene) -> None:
    session = scene.session
    # The same requester rates the same volunteer 5 within minutes of check-out, three times.
    for i in range(3):
        wish = make_wish(session, station=scene.station, requester=scene.requester,
                         status=WishStatus.RATED, assignee=scene.volunteer)  # fmt: skip
        wish.rated_at = START + timedelta(days=i, minutes=63)
        session.add(Attendance(wish_id=wish.id, volunteer_id=scene.volunteer.id,
                               unit_id=scene.station.id, is_lead=True, status="credited",
                               checked_in_at=START + timedelta(days=i),
                               checked_out_at=START + timedelta(days=i, minutes=60)))  # fmt: skip
    # Three volunteers check in at the same second elsewhere.
    burst = START + timedelta(days=5, seconds=7)
    for i in range(3):
        _, v = make_volunteer(session, scene.station)
        wish = make_wish(session, station=scene.station, requester=scene.requester,
                         status=WishStatus.IN_SERVICE, assignee=v)  # fmt: skip
        session.add(Attendance(wish_id=wish.id, volunteer_id=v.id, unit_id=scene.station.id,
                               is_lead=True, status="in_service",
                               checked_in_at=burst + timedelta(microseconds=i * 1000)))  # fmt: skip
    session.flush()
    scene.frozen.advance(days=6)
    flags = scene.get(f"/org-units/{scene.tree.county.id}/record-flags", scene.coordinator)
    assert flags.status_code == 404  # a station's coordinator does not see the county
    flags = scene.get(f"/org-units/{scene.station.id}/record-flags", scene.coordinator).json()
    kinds = {f["kind"]: f for f in flags}
    assert set(kinds) == {"QUICK_FIVE_STAR", "SAME_SECOND_CHECKINS"}
    assert kinds["QUICK_FIVE_STAR"]["volunteer_ids"] == [scene.volunteer.id]
    assert kinds["QUICK_FIVE_STAR"]["requester_id"] == scene.requester.id
    assert len(kinds["SAME_SECOND_CHECKINS"]["attendance_ids"]) == 3


# ---------------------------------------------------------------- scope


def test_record_routes_scope(scene: Scene) -> None:
    """A coordinator of another township sees none of this station's records: 404 on every
    route, and nothing changes."""
    outsider = make_coordinator(scene.session, scene.tree.stations[2])
    member_user, member = make_volunteer(scene.session, scene.station)
    record_id = scene.serve(120)
    assert scene.confirm(record_id).status_code == 200
    [entry] = scene.get("/me/hours").json()["entries"]
    scene.frozen.advance(minutes=-120)
    second = make_wish(scene.session, station=scene.station, requester=scene.requester,
                       status=WishStatus.ACCEPTED, assignee=scene.volunteer)  # fmt: skip
    second.wanted_start_at, second.wanted_end_at = START, START + timedelta(hours=2)
    scene.session.flush()
    scene.wish = second
    pending = scene.serve(120)
    volunteer, station, wish = scene.volunteer.id, scene.station.id, scene.wish.id
    calls: list[tuple[str, str, Any]] = [
        ("POST", f"/wishes/{wish}/team", {"volunteer_id": member.id}),
        ("GET", f"/wishes/{wish}/service-records", None),
        ("POST", f"/service-records/{pending}/confirm", None),
        ("POST", f"/service-records/{pending}/reject", {"reason": "核实"}),
        ("GET", f"/org-units/{station}/service-records", None),
        ("GET", f"/org-units/{station}/record-flags", None),
        ("GET", f"/org-units/{station}/record-rules", None),
        ("PUT", f"/org-units/{station}/record-rules", {"fence_m": 900}),
        ("GET", f"/volunteers/{volunteer}/hours", None),
        ("POST", f"/volunteers/{volunteer}/record-entries",
         {"category": "award", "content": "表彰", "started_at": START.isoformat()}),
        ("POST", f"/hours-entries/{entry['id']}/corrections", {"reason": "更正"}),
        ("GET", f"/volunteers/{volunteer}/record-export", None),
    ]  # fmt: skip
    before = scene.counts()
    for method, path, body in calls:
        r = scene.client.request(method, f"{API}{path}", json=body, headers=scene.h(outsider))
        assert r.status_code == 404, (method, path, r.text)
    # Only the volunteer who served rates back; a team outsider gets 404, a coordinator 403.
    r = scene.post(f"/wishes/{wish}/feedback", {"score": 5}, member_user)
    assert r.status_code == 404, r.text
    r = scene.post(f"/wishes/{wish}/feedback", {"score": 5}, outsider)
    assert r.status_code == 403, r.text
    assert scene.counts() == before
    assert scene.session.scalar(select(func.count()).select_from(RecordRules)) == 0
    # Inside, the coordinator sees and acts on the same things.
    inside = scene.coordinator
    listed = scene.get(f"/org-units/{station}/service-records", inside).json()
    assert [x["id"] for x in listed["items"]] == [pending]
    assert scene.get(f"/volunteers/{volunteer}/hours", inside).json()["service_hours"] == 2.0
    assert scene.get(f"/org-units/{station}/record-flags", inside).json() == []
    assert (
        scene.get(f"/org-units/{station}/record-rules", inside).json()["effective"]["fence_m"]
        == 500
    )
    r = scene.client.put(f"{API}/org-units/{station}/record-rules", json={"fence_m": 900},
                         headers=scene.h(inside))  # fmt: skip
    assert r.status_code == 200 and r.json()["own"]["fence_m"] == 900, r.text


def test_a_wgs84_fix_at_the_door_passes_the_fence_once_converted(scene: Scene) -> None:
    """`wx.getLocation` gives WGS-84 by default: some 540 m from the GCJ-02 map point around
    安吉, more than the 500 m fence. Named as WGS-84 it is converted and passes; taken for
    GCJ-02 it would fail."""
    import geocoordinates_ffi

    from app.geo import distance_m

    door = geocoordinates_ffi.gcj02_to_wgs84_refined(
        geocoordinates_ffi.Gcj02(lat=scene.place["lat"], lon=scene.place["lng"])
    )
    fix = {"lat": door.lat, "lng": door.lon}
    assert distance_m(door.lat, door.lon, scene.place["lat"], scene.place["lng"]) > 500
    before = scene.counts()
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", fix)
    assert r.status_code == 400 and error(r) == "OUTSIDE_FENCE", r.text
    assert scene.counts() == before
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", {**fix, "coord_system": "wgs84"})
    assert r.status_code == 200, r.text
    row = scene.session.scalars(select(Attendance).where(Attendance.wish_id == scene.wish.id)).one()
    scene.session.refresh(row)
    # The fix is stored in GCJ-02, within a metre of the door on the map.
    assert row.check_in_fix is not None
    assert distance_m(*row.check_in_fix, *scene.place.values()) < 1.0
