"""Confirmation and the hours ledger, through the API (check-in and check-out are in
tests/attendance)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Attendance, HoursEntry, RecordRules, Volunteer
from app.models.enums import WishStatus
from tests.fixtures.builders import make_coordinator, make_resident, make_volunteer, make_wish
from tests.fixtures.service import API, START, Scene, error

# ---------------------------------------------------------------- confirmation and crediting


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
