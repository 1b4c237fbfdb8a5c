"""A weekly pairing over HTTP: the household registered masked and revealed with a log, a visit
checked in at the door with consent and out, a manual visit with a reason, both credited
through the records route, the needs turned into a wish, a missed visit reminding the helper
and then telling the station, and the health list showing it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    AccessLog,
    Attendance,
    HoursEntry,
    Household,
    OutboxMessage,
    Pairing,
    PairingVisit,
    Wish,
)
from app.models.enums import AttendanceStatus, WishStatus
from app.pairings.state import ESCALATE_AFTER, REMIND_AFTER
from tests.fixtures.builders import PROXY_CONSENT
from tests.fixtures.service import START
from tests.pairings.conftest import World


def topics_to(session: Session, user_id: int) -> list[str]:
    return list(
        session.scalars(select(OutboxMessage.topic).where(OutboxMessage.recipient_id == user_id))
    )


def _error(r: object) -> str:
    return str(r.json()["error"]["code"])  # type: ignore[attr-defined]


def test_household_is_masked_in_lists_and_its_reveal_is_logged(world: World) -> None:
    home = world.household()
    assert (home["head_name"], home["phone"]) == ("潘*英", "138****0201")
    assert home["category_names"] == ["独居老人"] and home["located"] is True
    listed = world.get(f"/org-units/{world.station.id}/households")
    assert listed.status_code == 200, listed.text
    assert "潘桂英" not in listed.text and "18 号" not in listed.text
    assert [h["id"] for h in listed.json()["items"]] == [home["id"]]

    r = world.post(f"/households/{home['id']}/reveal", {"reason": "上门前核对地址"})
    assert r.status_code == 200, r.text
    assert (r.json()["head_name"], r.json()["full_address"]) == ("潘桂英", "余村 3 组 18 号")
    [logged] = world.session.scalars(
        select(AccessLog).where(AccessLog.actor_id == world.coordinator.id)
    ).all()
    assert (logged.purpose, logged.reason) == ("coordinate", "上门前核对地址")
    assert set(logged.fields.split(",")) == {"name", "phone", "full_address", "location"}

    # A volunteer with no pairing with the household sees nothing of it.
    r = world.post(f"/households/{home['id']}/reveal", {"reason": "看看"}, world.helper)
    assert (r.status_code, _error(r)) == (404, "HOUSEHOLD_NOT_FOUND")
    # Once paired, the helper may, and the log says why.
    world.pairing(home["id"])
    r = world.post(f"/households/{home['id']}/reveal", {"reason": "第一次上门"}, world.helper)
    assert r.status_code == 200, r.text
    purposes = world.session.scalars(
        select(AccessLog.purpose).where(AccessLog.actor_id == world.helper.id)
    ).all()
    assert purposes == ["visit_household"]


def test_weekly_pairing_visits_are_credited_and_needs_become_a_wish(world: World) -> None:
    home = world.household()
    pairing = world.pairing(home["id"], visit_minutes=60)
    assert pairing["health"] == "healthy"
    assert pairing["helper_name"].endswith("*") or "*" in pairing["helper_name"]

    # A visit: check in at the door with the phone's fix, an hour, check out with the needs.
    r = world.post(f"/pairings/{pairing['id']}/visits/check-in", world.door, world.helper)
    assert r.status_code == 201, r.text
    visit = r.json()
    assert (visit["method"], visit["record_status"]) == ("gps", "in_service")
    world.frozen.advance(minutes=60)
    r = world.post(
        f"/pairing-visits/{visit['id']}/check-out",
        {**world.door, "summary": "陪老人聊天", "needs": "家里缺一床厚棉被"},
        world.helper,
    )
    assert r.status_code == 200, r.text
    assert r.json()["record_status"] == "checked_out"
    # The station confirms the hours through the records route.
    r = world.post(f"/service-records/{visit['record_id']}/confirm")
    assert r.status_code == 200, r.text
    entry = world.session.scalar(
        select(HoursEntry).where(HoursEntry.attendance_id == visit["record_id"])
    )
    assert entry is not None and entry.minutes == 60
    assert entry.category_code == "elderly_orphan_care"
    assert entry.content == "陪老人聊天"

    # The needs become a wish in one step, ordered for the household by the station.
    r = world.post(
        f"/pairing-visits/{visit['id']}/wish", {"title": "添置一床厚棉被", "consent": PROXY_CONSENT}
    )
    assert r.status_code == 201, r.text
    wish = world.session.get(Wish, r.json()["wish_id"])
    assert wish is not None and wish.status == WishStatus.SUBMITTED
    assert (wish.description, wish.proxy_id, wish.programme_code) == (
        "家里缺一床厚棉被",
        world.coordinator.id,
        "household_pairs",
    )
    household = world.session.get(Household, home["id"])
    assert household is not None and wish.requester_id == household.resident_id
    r = world.post(
        f"/pairing-visits/{visit['id']}/wish", {"title": "再来一次", "consent": PROXY_CONSENT}
    )
    assert (r.status_code, _error(r)) == (409, "VISIT_WISH_EXISTS")

    # The next week: indoors without a fix, the coordinator records the visit with a reason.
    world.frozen.advance(days=7)
    now = world.frozen.now
    manual = {
        "started_at": (now - timedelta(hours=2)).isoformat(),
        "ended_at": (now - timedelta(hours=1)).isoformat(),
        "summary": "陪老人去卫生院量血压",
    }
    r = world.post(f"/pairings/{pairing['id']}/visits/manual", manual)
    assert r.status_code == 422, r.text  # the reason is required
    r = world.post(
        f"/pairings/{pairing['id']}/visits/manual", {**manual, "reason": "卫生院内无法定位"}
    )
    assert r.status_code == 201, r.text
    second = r.json()
    assert (second["method"], second["volunteer_id"]) == ("manual", world.volunteer.id)
    row = world.session.get(Attendance, second["record_id"])
    assert row is not None and row.manual and row.manual_reason == "卫生院内无法定位"
    assert row.status == AttendanceStatus.CHECKED_OUT and row.check_in_fix is None
    r = world.post(f"/service-records/{second['record_id']}/confirm")
    assert r.status_code == 200, r.text

    detail = world.get(f"/pairings/{pairing['id']}")
    assert detail.status_code == 200, detail.text
    assert [v["id"] for v in detail.json()["visits"]] == [second["id"], visit["id"]]
    assert detail.json()["health"] == "healthy"
    assert detail.json()["visit_count"] == 2
    mine = world.get("/me/pairings", world.helper)
    assert [p["id"] for p in mine.json()["items"]] == [pairing["id"]]


def test_the_helper_checks_in_only_at_the_door_and_with_consent(world: World) -> None:
    home = world.household()
    pairing = world.pairing(home["id"])
    far = {"lat": world.door["lat"] + 0.02, "lng": world.door["lng"]}
    r = world.post(f"/pairings/{pairing['id']}/visits/check-in", far, world.helper)
    assert (r.status_code, _error(r)) == (400, "OUTSIDE_FENCE")
    # The coordinator is not the helper: they record by hand instead.
    r = world.post(f"/pairings/{pairing['id']}/visits/check-in", world.door)
    assert r.status_code == 403, r.text
    assert world.session.scalar(select(PairingVisit.id)) is None


def test_a_missed_visit_reminds_the_helper_then_tells_the_station(world: World) -> None:
    home = world.household()
    pairing = world.pairing(home["id"])
    stored = world.session.get(Pairing, pairing["id"])
    assert stored is not None
    due = stored.next_due_at
    # The first week's visit is due by the end of its seventh day (Monday, midnight).
    assert due == START.replace(hour=16) + timedelta(days=6)

    assert world.run_timers(due + REMIND_AFTER - timedelta(minutes=1)) == 0
    # Daytime instants (quiet hours defer pushes at night).
    reminded_at = due + REMIND_AFTER + timedelta(hours=2)
    assert world.run_timers(reminded_at) == 1
    assert topics_to(world.session, world.helper.id).count("pairing.visit_reminder") == 1
    listed = world.get(f"/org-units/{world.station.id}/pairings", health="overdue")
    assert [p["id"] for p in listed.json()["items"]] == [pairing["id"]]
    assert listed.json()["items"][0]["missed_count"] == 1
    assert world.run_timers(reminded_at + timedelta(hours=1)) == 0

    escalated_at = due + ESCALATE_AFTER + timedelta(hours=2)
    assert world.run_timers(escalated_at) == 1
    assert topics_to(world.session, world.coordinator.id).count("pairing.lapsing") == 1
    assert world.run_timers(escalated_at + timedelta(days=5)) == 0
    assert topics_to(world.session, world.helper.id).count("pairing.visit_reminder") == 1
    for health, expected in (("lapsing", [pairing["id"]]), ("healthy", []), ("overdue", [])):
        listed = world.get(f"/org-units/{world.station.id}/pairings", health=health)
        assert listed.status_code == 200, listed.text
        assert [p["id"] for p in listed.json()["items"]] == expected, health

    # A visit brings it back: healthy, the steps cleared, the timer set a week on.
    r = world.post(f"/pairings/{pairing['id']}/visits/check-in", world.door, world.helper)
    assert r.status_code == 201, r.text
    listed = world.get(f"/org-units/{world.station.id}/pairings", health="healthy")
    assert [p["id"] for p in listed.json()["items"]] == [pairing["id"]]


def test_pause_stops_the_timer_and_end_tells_the_station(world: World) -> None:
    home = world.household()
    pairing = world.pairing(home["id"])
    r = world.post(f"/pairings/{pairing['id']}/pause", {"reason": "老人住院"})
    assert r.status_code == 200, r.text
    assert r.json()["health"] == "paused"
    stored = world.session.get(Pairing, pairing["id"])
    assert stored is not None
    assert world.run_timers(stored.next_due_at + timedelta(days=10)) == 0
    r = world.post(f"/pairings/{pairing['id']}/visits/check-in", world.door, world.helper)
    assert (r.status_code, _error(r)) == (409, "PAIRING_NOT_ACTIVE")
    r = world.post(f"/pairings/{pairing['id']}/pause", {"reason": "再停"})
    assert (r.status_code, _error(r)) == (409, "PAIRING_TRANSITION_NOT_ALLOWED")
    # The helper cannot resume, but may end with notice to the station.
    r = world.post(f"/pairings/{pairing['id']}/resume", {"reason": "出院了"}, world.helper)
    assert r.status_code == 403, r.text
    r = world.post(f"/pairings/{pairing['id']}/end", {"reason": "搬去外地工作"}, world.helper)
    assert r.status_code == 200, r.text
    assert r.json()["health"] == "ended"
    assert topics_to(world.session, world.coordinator.id).count("pairing.ended") == 1


def test_a_team_visits_through_its_active_members(world: World) -> None:
    from app.models import Team, TeamMember
    from tests.fixtures.builders import consent_to, make_volunteer

    team = Team(unit_id=world.station.id, kind="team", name="余村党员志愿服务队", status="verified")
    world.session.add(team)
    world.session.flush()
    member_user, member = make_volunteer(world.session, world.station)
    consent_to(world.session, member_user.id, at=START - timedelta(days=1))
    outsider_user, _ = make_volunteer(world.session, world.station)
    consent_to(world.session, outsider_user.id, at=START - timedelta(days=1))
    world.session.add(TeamMember(team_id=team.id, volunteer_id=member.id, role="lead",
                                 status="active"))  # fmt: skip
    world.session.flush()
    home = world.household()
    pairing = world.pairing(home["id"], helper={"kind": "team", "team_id": team.id})
    assert pairing["helper_name"] == "余村党员志愿服务队"

    r = world.post(f"/pairings/{pairing['id']}/visits/check-in", world.door, outsider_user)
    assert (r.status_code, _error(r)) == (404, "PAIRING_NOT_FOUND")
    r = world.post(f"/pairings/{pairing['id']}/visits/check-in", world.door, member_user)
    assert r.status_code == 201, r.text
    assert r.json()["volunteer_id"] == member.id
    # By hand, the coordinator names which member visited.
    now = world.frozen.now
    manual = {"started_at": (now - timedelta(hours=3)).isoformat(),
              "ended_at": (now - timedelta(hours=2)).isoformat(), "reason": "无信号"}  # fmt: skip
    r = world.post(f"/pairings/{pairing['id']}/visits/manual", manual)
    assert (r.status_code, _error(r)) == (400, "VISIT_VOLUNTEER_REQUIRED")
    r = world.post(
        f"/pairings/{pairing['id']}/visits/manual", {**manual, "volunteer_id": member.id}
    )
    assert r.status_code == 201, r.text
    # The reminder of a missed visit goes to the team's lead.
    stored = world.session.get(Pairing, pairing["id"])
    assert stored is not None
    world.run_timers(stored.next_due_at + REMIND_AFTER + timedelta(hours=2))
    assert topics_to(world.session, member_user.id) == ["pairing.visit_reminder"]


def test_a_neighbour_household_s_visit_is_logged_without_hours(world: World) -> None:
    home = world.household()
    neighbour = world.household(
        head_name="汪建国", phone="13800000202", category_codes=["hardship"]
    )
    pairing = world.pairing(
        home["id"], helper={"kind": "household", "household_id": neighbour["id"]}
    )
    assert pairing["helper_name"] == "汪*国家"
    now = world.frozen.now
    r = world.post(
        f"/pairings/{pairing['id']}/visits/manual",
        {"started_at": (now - timedelta(hours=3)).isoformat(),
         "ended_at": (now - timedelta(hours=2)).isoformat(), "reason": "邻居电话告知已上门"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert (r.json()["volunteer_id"], r.json()["record_id"]) == (None, None)
    assert world.session.scalar(select(Attendance.id)) is None
    detail = world.get(f"/pairings/{pairing['id']}").json()
    assert detail["last_visit_at"] is not None and detail["health"] == "healthy"
