"""Activities through the API: publish for 重阳节, sign up past the headcount, the wait-list
moving up on a cancellation, attendance and hours, the no-show timer, the hard constraints."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app import clock
from app.models import Activity, ActivitySignup, HoursEntry, Volunteer
from app.seasons.festivals import festivals
from tests.activities.conftest import Scene, activity_body
from tests.fixtures.builders import consent_to


def _double_ninth(year: int) -> date:
    return next(f.gregorian_date for f in festivals(year=year) if f.code == "double_ninth")


def test_double_ninth_activity_fills_waits_moves_up_attends_and_credits(scene: Scene) -> None:
    activity = scene.publish()
    day = _double_ninth(2027)
    assert clock.local_day(datetime.fromisoformat(activity["starts_at"])) == day
    assert activity["festival"]["code"] == "double_ninth"
    assert activity["festival"]["gregorian_date"] == day.isoformat()
    assert activity["status"] == "published" and activity["signup_open"]
    [sitting] = activity["sessions"]
    people = [scene.volunteer() for _ in range(5)]
    answers = [scene.post(f"/activities/{activity['id']}/signup", user=u) for u, _ in people]
    assert [r.status_code for r in answers] == [200] * 5, [r.text for r in answers]
    assert [r.json()["status"] for r in answers] == ["admitted"] * 3 + ["waiting"] * 2
    assert [r.json()["position"] for r in answers[3:]] == [1, 2]
    again = scene.post(f"/activities/{activity['id']}/signup", user=people[0][0])
    assert again.status_code == 409 and again.json()["error"]["code"] == "ALREADY_SIGNED_UP"
    shown = scene.get(f"/activities/{activity['id']}", people[4][0]).json()
    assert (shown["admitted"], shown["waiting"]) == (3, 2)
    assert shown["my_signup"]["position"] == 2

    # The second admitted cancels: the first in line moves up and is told.
    cancel = f"/activities/{activity['id']}/signup/cancel"
    r = scene.post(cancel, {"reason": "家中有事"}, people[1][0])
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert "activity.promoted" in scene.topics(people[3][0])
    assert "activity.promoted" not in scene.topics(people[4][0])
    roster = scene.get(f"/activities/{activity['id']}/signups").json()["items"]
    statuses = {s["user_id"]: (s["status"], s["position"]) for s in roster}
    assert statuses[people[3][0].id] == ("admitted", None)
    assert statuses[people[4][0].id] == ("waiting", 1)
    scene.session.expire_all()
    assert scene.session.get(Activity, activity["id"]).admitted == 3  # type: ignore[union-attr]
    # Before sign-up closed: notice in time, nothing counted.
    assert scene.session.get(Volunteer, people[1][1].id).withdrawn_count == 0  # type: ignore[union-attr]

    # Sign-up closes at the start; the organisers hear the roster.
    start = datetime.fromisoformat(sitting["starts_at"])
    scene.frozen.at(start + timedelta(minutes=1))
    scene.scheduler.run_due()
    assert "activity.signup_closed" in scene.topics(scene.coordinator)
    late, _ = scene.volunteer()
    r = scene.post(f"/activities/{activity['id']}/signup", user=late)
    assert r.status_code == 409 and r.json()["error"]["code"] == "SIGNUP_CLOSED"

    # Attend: the first checks in on the spot (with consent) and out 2 h later.
    user, volunteer = people[0]
    consent_to(scene.session, user.id)
    point = {"lat": scene.station.lat, "lng": scene.station.lng}
    base = f"/activities/{activity['id']}/sessions/{sitting['id']}"
    scene.frozen.at(start + timedelta(minutes=5))
    r = scene.post(f"{base}/check-in", point, user)
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text
    assert r.json()["kind"] == "activity" and r.json()["activity_session_id"] == sitting["id"]
    scene.frozen.at(start + timedelta(hours=2, minutes=5))
    r = scene.post(f"{base}/check-out", {**point, "summary": "为老人量血压"}, user)
    assert r.status_code == 200 and r.json()["status"] == "checked_out", r.text
    record_id = r.json()["id"]
    # The third is checked in and out by hand by the coordinator.
    manual = {"volunteer_id": people[2][1].id, "reason": "礼堂内无法定位"}
    assert scene.post(f"{base}/check-in", manual).status_code == 200
    assert scene.post(f"{base}/check-out", manual).status_code == 200
    # A volunteer still waiting cannot check in.
    consent_to(scene.session, people[4][0].id)
    r = scene.post(f"{base}/check-in", point, people[4][0])
    assert r.status_code == 403 and r.json()["error"]["code"] == "NOT_ADMITTED"
    attendance = scene.get(f"/activities/{activity['id']}/attendance").json()["items"]
    assert len(attendance) == 2

    # The organiser confirms through the records' own route: hours by the unit's rules.
    assert "record.to_confirm" in scene.topics(scene.coordinator)
    r = scene.post(f"/service-records/{record_id}/confirm", {})
    assert r.status_code == 200 and r.json()["status"] == "credited", r.text
    assert r.json()["credited_hours"] == 2.0
    entry = scene.session.scalars(
        select(HoursEntry).where(HoursEntry.attendance_id == record_id)
    ).one()
    assert (entry.minutes, entry.content) == (120, "为老人量血压")
    assert "record.credited" in scene.topics(user)

    # After the late-upload window the timer marks the one admitted who never came.
    scene.frozen.at(start + timedelta(days=4))
    scene.scheduler.run_due()
    scene.session.expire_all()
    absent = people[3]
    row = scene.session.scalars(
        select(ActivitySignup).where(ActivitySignup.user_id == absent[0].id)
    ).one()
    assert row.status == "no_show"
    assert scene.session.get(Volunteer, absent[1].id).released_count == 1  # type: ignore[union-attr]
    assert scene.session.get(Volunteer, volunteer.id).released_count == 0  # type: ignore[union-attr]
    assert scene.session.get(Volunteer, volunteer.id).completed_count == 1  # type: ignore[union-attr]
    assert "activity.no_show" in scene.topics(absent[0])
    assert "activity.lapsed" in scene.topics(people[4][0])
    assert scene.session.get(Activity, activity["id"]).status == "finished"  # type: ignore[union-attr]
    mine = scene.get("/me/activities", absent[0]).json()["items"]
    assert [m["signup"]["status"] for m in mine] == ["no_show"]


def test_hard_constraints_refuse_with_typed_reasons(scene: Scene) -> None:
    activity = scene.publish(
        needs_insurance=True, min_age=18, max_age=60, skill_codes=["first_aid"]
    )
    user, _ = scene.volunteer(birth_date=date(1950, 1, 1))
    r = scene.post(f"/activities/{activity['id']}/signup", user=user)
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "NOT_ELIGIBLE"
    assert error["details"]["reasons"] == ["SKILL_MISSING", "NEEDS_INSURANCE", "AGE_NOT_SUITABLE"]
    ok, _ = scene.volunteer(
        birth_date=date(1990, 1, 1),
        insured_until=date(2028, 1, 1),
        skills=("first_aid",),
        qualified={"first_aid": date(2028, 1, 1)},
    )
    r = scene.post(f"/activities/{activity['id']}/signup", user=ok)
    assert r.status_code == 200 and r.json()["status"] == "admitted", r.text


def test_a_late_cancellation_counts_as_a_withdrawal(scene: Scene) -> None:
    activity = scene.publish(signup_closes_at=(clock.now() + timedelta(days=1)).isoformat())
    user, volunteer = scene.volunteer()
    assert scene.post(f"/activities/{activity['id']}/signup", user=user).status_code == 200
    scene.frozen.advance(days=2)
    r = scene.post(f"/activities/{activity['id']}/signup/cancel", None, user)
    assert r.status_code == 200, r.text
    scene.session.expire_all()
    assert scene.session.get(Volunteer, volunteer.id).withdrawn_count == 1  # type: ignore[union-attr]
    assert scene.session.get(Activity, activity["id"]).admitted == 0  # type: ignore[union-attr]


def test_drafts_edits_and_cancellation(scene: Scene) -> None:
    draft = scene.publish(publish=False)
    assert draft["status"] == "draft"
    volunteer, _ = scene.volunteer()
    assert scene.get(f"/activities/{draft['id']}", volunteer).status_code == 404
    r = scene.patch(f"/activities/{draft['id']}", {"headcount": 10, "title": "重阳节登高"})
    assert r.status_code == 200 and r.json()["headcount"] == 10, r.text
    r = scene.post(f"/activities/{draft['id']}/publish")
    assert r.status_code == 200 and r.json()["status"] == "published", r.text
    assert scene.post(f"/activities/{draft['id']}/signup", user=volunteer).status_code == 200
    r = scene.patch(f"/activities/{draft['id']}", {"headcount": 5})
    assert r.status_code == 409 and r.json()["error"]["code"] == "ACTIVITY_HAS_SIGNUPS"
    r = scene.post(f"/activities/{draft['id']}/cancel", {"reason": "天气原因"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert "activity.cancelled" in scene.topics(volunteer)
    r = scene.post(f"/activities/{draft['id']}/cancel", {"reason": "再次取消"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "ACTIVITY_STATUS_CONFLICT"


def test_weekly_recurrence_and_browsing(scene: Scene) -> None:
    start = clock.now() + timedelta(days=7)
    weekly = scene.publish(
        festival_code=None,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        recurrence="weekly",
        repeat_until=(start + timedelta(days=28)).isoformat(),
        title="每周环境整治",
    )
    assert len(weekly["sessions"]) == 5
    assert weekly["season_code"] is not None  # from the season calendar on its first day
    festival = scene.publish()
    volunteer, _ = scene.volunteer()
    point = {"lat": scene.station.lat, "lng": scene.station.lng}
    near = scene.get("/activities", volunteer, radius_m=2000, **point).json()["items"]
    assert [a["id"] for a in near] == [festival["id"], weekly["id"]]
    assert near[0]["distance_m"] == 0
    far = scene.tree.stations[3]
    away = scene.get("/activities", volunteer, radius_m=2000, lat=far.lat, lng=far.lng)
    assert away.json()["items"] == []
    by_festival = scene.get("/activities", volunteer, festival="double_ninth").json()["items"]
    assert [a["id"] for a in by_festival] == [festival["id"]]
    page = scene.get("/activities", volunteer, limit=1).json()
    assert len(page["items"]) == 1 and page["next_cursor"]


def test_bad_input_is_a_clear_4xx(scene: Scene) -> None:
    body = {"festival_code": "no_such_day"}
    r = scene.post("/activities", {**_body(scene), **body})
    assert r.status_code == 400 and r.json()["error"]["code"] == "UNKNOWN_CATALOGUE_ENTRY"
    r = scene.post("/activities", {**_body(scene), "start_time": None})
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_ACTIVITY"
    r = scene.post("/activities", {**_body(scene), "min_age": 60, "max_age": 18})
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_ACTIVITY"
    assert scene.get("/activities/999999").status_code == 404


def _body(scene: Scene) -> dict[str, object]:
    return activity_body(scene.station)


def test_a_change_never_empties_a_detail(scene: Scene) -> None:
    draft = scene.publish(publish=False)
    for field in ("title", "place", "headcount", "starts_at"):
        r = scene.patch(f"/activities/{draft['id']}", {field: None})
        assert r.status_code == 400, (field, r.text)
        assert r.json()["error"]["code"] == "INVALID_ACTIVITY"
