"""An enterprise over HTTP: it registers, the centre verifies it, members join with approval,
it takes a wish as a team with members accepting for themselves, its hours are its members'
credited hours, and its record, honour list, export and 万企帮万户 help follow."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from app.models import Attendance, TeamCallup, Wish
from tests.teams.conftest import CREDIT_CODE, World, error


def test_an_enterprise_registers_is_verified_and_members_join(world: World) -> None:
    boss_user, boss = world.volunteer()
    body = {
        "kind": "enterprise",
        "name": "安吉竹海生态科技有限公司",
        "unit_id": world.tree.county.id,
        "credit_code": CREDIT_CODE,
        "contact_name": "王经理",
        "contact_phone": "13900001234",
    }
    r = world.post("/teams", body, boss_user)
    assert r.status_code == 201, r.text
    team = r.json()
    assert (team["status"], team["lead_volunteer_id"], team["i_lead"]) == ("pending", boss.id, True)
    assert team["contact_phone"] == "139****1234"
    assert team["member_count"] == 1
    # Pending: hidden from others; nobody may join yet.
    stranger_user, _ = world.volunteer()
    assert world.get(f"/teams/{team['id']}", stranger_user).status_code == 404
    # The same credit code again is refused.
    r = world.post("/teams", {**body, "name": "另一家"}, stranger_user)
    assert (r.status_code, error(r)) == (409, "CREDIT_CODE_TAKEN")
    # An organisation is verified by a county centre, not a station.
    r = world.post("/teams", {**body, "credit_code": None, "unit_id": world.station.id}, boss_user)
    assert (r.status_code, error(r)) == (400, "NOT_A_CENTRE")
    # The station's coordinator is below the centre: the centre's coordinator verifies.
    r = world.post(f"/teams/{team['id']}/verify", None, world.coordinator)
    assert (r.status_code, error(r)) == (404, "TEAM_NOT_FOUND")
    r = world.post(f"/teams/{team['id']}/verify", {"reason": "资料齐全"}, world.centre)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "verified" and r.json()["verified_at"] is not None
    r = world.post(f"/teams/{team['id']}/verify", None, world.centre)
    assert (r.status_code, error(r)) == (409, "TEAM_STATUS_CONFLICT")
    public = world.get(f"/teams/{team['id']}", stranger_user).json()
    assert (public["status"], public["contact_name"], public["contact_phone"]) == (
        "verified",
        "王*理",
        "139****1234",
    )
    assert world.get(f"/teams/{team['id']}", world.centre).json()["contact_name"] == "王经理"
    # A volunteer applies; the lead approves. Another applies and is refused.
    r = world.post(f"/teams/{team['id']}/members", {"note": "我是公司员工"}, stranger_user)
    assert r.status_code == 201 and r.json()["status"] == "applied", r.text
    member_id = r.json()["id"]
    r = world.post(f"/teams/{team['id']}/members", None, stranger_user)
    assert (r.status_code, error(r)) == (409, "ALREADY_TEAM_MEMBER")
    other_user, _ = world.volunteer()
    r = world.post(f"/teams/{team['id']}/members", None, other_user)
    other_id = r.json()["id"]
    # A member cannot approve an application (not the lead); the applicant cannot either.
    r = world.post(f"/team-members/{other_id}/approve", None, stranger_user)
    assert r.status_code == 404, r.text
    r = world.post(f"/team-members/{member_id}/approve", None, boss_user)
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    r = world.post(f"/team-members/{other_id}/refuse", {"reason": "非本公司员工"}, boss_user)
    assert r.status_code == 200 and r.json()["status"] == "refused", r.text
    listed = world.get(f"/teams/{team['id']}/members", boss_user).json()
    assert [(m["role"], m["status"]) for m in listed] == [
        ("lead", "active"),
        ("member", "active"),
        ("member", "refused"),
    ]
    # Others see the active members only, names masked.
    seen = world.get(f"/teams/{team['id']}/members", other_user).json()
    assert [m["status"] for m in seen] == ["active", "active"]
    assert all("*" in m["name"] for m in seen)
    # Leaving: the member may; the lead may not.
    r = world.post(f"/team-members/{member_id}/leave", None, stranger_user)
    assert r.status_code == 200 and r.json()["status"] == "left"
    lead_row = listed[0]["id"]
    r = world.post(f"/team-members/{lead_row}/leave", None, boss_user)
    assert (r.status_code, error(r)) == (409, "TEAM_LEAD_CANNOT_LEAVE")
    assert world.get(f"/teams/{team['id']}", boss_user).json()["member_count"] == 1


def test_a_rejected_organisation_hears_why(world: World) -> None:
    user, _ = world.volunteer()
    r = world.post(
        "/teams", {"kind": "school", "name": "孝丰镇中学", "unit_id": world.tree.county.id}, user
    )
    team_id = r.json()["id"]
    r = world.post(f"/teams/{team_id}/reject", {"reason": "请补充学校证明"}, world.centre)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision_reason"]) == ("rejected", "请补充学校证明")
    r = world.post(f"/teams/{team_id}/members", None, world.volunteer()[0])
    assert r.status_code == 404  # not verified: still hidden from others


def test_a_units_team_is_verified_at_once(world: World) -> None:
    _, lead = world.volunteer()
    body = {"kind": "team", "name": "余村助老服务队", "unit_id": world.station.id,
            "lead_volunteer_id": lead.id}  # fmt: skip
    r = world.post("/teams", body, world.coordinator)
    assert r.status_code == 201 and r.json()["status"] == "verified", r.text
    # A volunteer cannot set up a unit's team; a coordinator elsewhere does not see the unit.
    r = world.post("/teams", body, world.volunteer()[0])
    assert (r.status_code, error(r)) == (403, "TEAM_NEEDS_COORDINATOR")
    outside = world.tree.stations[3]
    r = world.post("/teams", {**body, "unit_id": outside.id}, world.coordinator)
    assert (r.status_code, error(r)) == (404, "ORG_UNIT_NOT_FOUND")
    # A non-volunteer registering an organisation must name its lead.
    body = {"kind": "department", "name": "县民政局", "unit_id": world.tree.county.id}
    r = world.post("/teams", body, world.requester)
    assert (r.status_code, error(r)) == (400, "TEAM_LEAD_REQUIRED")


def test_an_enterprise_takes_a_wish_as_a_team(world: World) -> None:
    boss_user, boss = world.volunteer()
    team_id = world.enterprise(boss_user)
    members = [world.volunteer() for _ in range(3)]
    for user, _ in members:
        world.join(team_id, user, boss_user)
    (a_user, a), (b_user, b), (c_user, c) = members
    wish = world.offered_wish(boss)
    # Only the lead accepts for the team; a member cannot.
    body = {"team_id": team_id, "member_ids": [a.id, b.id, c.id]}
    r = world.post(f"/wishes/{wish.id}/accept-as-team", body, a_user)
    assert r.status_code == 403 and error(r) == "NOT_TEAM_LEAD", r.text
    r = world.post(f"/wishes/{wish.id}/accept-as-team", body, boss_user)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    callups = {x["volunteer_id"]: x for x in r.json()["callups"]}
    assert {x["status"] for x in callups.values()} == {"named"}
    world.session.expire_all()
    row = world.session.get(Wish, wish.id)
    assert row is not None and (row.assignee_id, row.team_id) == (boss.id, team_id)
    # Named is not serving: nobody is on the service team yet.
    assert (
        world.session.scalars(select(Attendance).where(Attendance.wish_id == wish.id)).all() == []
    )
    # One taker: accepting again (as anyone) is refused.
    r = world.post(f"/wishes/{wish.id}/accept-as-team", body, boss_user)
    assert r.status_code == 409, r.text
    # A callup is answered by the member named, nobody else.
    r = world.post(f"/team-callups/{callups[a.id]['id']}/accept", None, b_user)
    assert (r.status_code, error(r)) == (404, "TEAM_CALLUP_NOT_FOUND")
    mine = world.get("/me/team-callups", c_user).json()
    assert [(x["wish_id"], x["status"]) for x in mine] == [(wish.id, "named")]
    # One declines: nothing changes for the others.
    r = world.post(f"/team-callups/{callups[c.id]['id']}/decline", None, c_user)
    assert r.status_code == 200 and r.json()["status"] == "declined", r.text
    states = dict(
        world.session.execute(
            select(TeamCallup.volunteer_id, TeamCallup.status).where(TeamCallup.wish_id == wish.id)
        ).all()
    )
    assert states == {a.id: "named", b.id: "named", c.id: "declined"}
    r = world.post(f"/team-callups/{callups[c.id]['id']}/accept", None, c_user)
    assert (r.status_code, error(r)) == (409, "TEAM_CALLUP_CLOSED")
    for user, volunteer in ((a_user, a), (b_user, b)):
        r = world.post(f"/team-callups/{callups[volunteer.id]['id']}/accept", None, user)
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    team = world.get(f"/wishes/{wish.id}/service-records", world.coordinator).json()
    assert {x["volunteer_id"] for x in team} == {a.id, b.id}  # the lead's record comes at check-in
    # Everyone serves: the lead and a 120 minutes, b 90; the station confirms each record.
    place = {"lat": wish.lat, "lng": wish.lng}
    for user in (boss_user, a_user, b_user):
        r = world.post(f"/wishes/{wish.id}/check-in", place, user)
        assert r.status_code == 200, r.text
    world.frozen.advance(minutes=90)
    assert world.post(f"/wishes/{wish.id}/check-out", place, b_user).status_code == 200
    world.frozen.advance(minutes=30)
    assert world.post(f"/wishes/{wish.id}/check-out", place, a_user).status_code == 200
    r = world.post(f"/wishes/{wish.id}/check-out", place, boss_user)
    assert r.status_code == 200 and r.json()["status"] == "completed", r.text
    for record in world.get(f"/wishes/{wish.id}/service-records", world.coordinator).json():
        r = world.post(f"/service-records/{record['id']}/confirm", None, world.coordinator)
        assert r.status_code == 200, r.text
    # Team hours are the members' credited hours; the one who declined has none.
    period = {"from": "2027-01-01", "to": "2027-12-31"}
    r = world.get(f"/teams/{team_id}/hours", boss_user, **period)
    assert r.status_code == 200, r.text
    hours = {m["volunteer_id"]: m["hours"] for m in r.json()["members"]}
    assert hours == {boss.id: 2.0, a.id: 2.0, b.id: 1.5, c.id: 0.0}
    assert r.json()["hours"] == 5.5
    for user in (boss_user, a_user, b_user):
        own = world.get("/me/hours", user).json()["service_hours"]
        assert own == hours[{boss_user.id: boss.id, a_user.id: a.id, b_user.id: b.id}[user.id]]
    # The record, the honour list and the export.
    record = world.get(f"/teams/{team_id}/record", boss_user, **period).json()
    assert (record["wishes_taken"], record["wishes_completed"], record["hours"]) == (1, 1, 5.5)
    assert record["wishes"][0]["members_accepted"] == 2
    honour = world.get(f"/teams/{team_id}/honour-list", c_user, period="year", date="2027-03-02")
    assert honour.status_code == 200, honour.text
    assert [(x["rank"], x["volunteer_id"]) for x in honour.json()["items"]] == [
        (1, boss.id),
        (1, a.id),
        (3, b.id),
    ]
    r = world.get(f"/teams/{team_id}/export", boss_user, **period)
    assert r.status_code == 200, r.text
    book = load_workbook(BytesIO(r.content))
    assert book.sheetnames == ["成员时长", "团队接单", "汇总"]
    values = [row for row in book["成员时长"].iter_rows(values_only=True) if row[0] in (1, 2, 3)]
    assert [(row[0], row[2]) for row in values] == [(1, 2.0), (1, 2.0), (3, 1.5)]
    r = world.get(f"/teams/{team_id}/export", boss_user, format="csv", **period)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    # A member (not the lead) reads the figures but does not download the file.
    assert world.get(f"/teams/{team_id}/export", a_user).status_code == 403
    # 万企帮万户: the station adopts the enterprise's help for its village; counted per enterprise.
    r = world.post(
        f"/teams/{team_id}/adoptions", {"village_id": world.station.id}, world.coordinator
    )
    assert r.status_code == 201, r.text
    adoption = r.json()
    r = world.post(
        f"/teams/{team_id}/adoptions", {"village_id": world.station.id}, world.coordinator
    )
    assert (r.status_code, error(r)) == (409, "ALREADY_ADOPTED")
    help_ = world.get(f"/teams/{team_id}/help", a_user, **period).json()
    assert (help_["wishes_served"], help_["hours"], help_["villages_adopted"]) == (1, 5.5, 1)
    assert help_["households_adopted"] == 0 and help_["activities_joined"] == 0
    r = world.post(f"/team-adoptions/{adoption['id']}/end", None, world.coordinator)
    assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    r = world.post(f"/team-adoptions/{adoption['id']}/end", None, world.coordinator)
    assert (r.status_code, error(r)) == (409, "ADOPTION_ENDED")


def test_hours_before_joining_are_the_members_own(world: World) -> None:
    """A member's hours count for the team from the moment they joined; a wish taken alone is
    not the team's, though its hours count for a member."""
    boss_user, boss = world.volunteer()
    x_user, x = world.volunteer()
    team_id = world.enterprise(boss_user)
    served = []
    for user, volunteer in ((x_user, x), (boss_user, boss)):
        wish = world.offered_wish(volunteer)
        assert world.post(f"/wishes/{wish.id}/accept", None, user).status_code == 200
        place = {"lat": wish.lat, "lng": wish.lng}
        assert world.post(f"/wishes/{wish.id}/check-in", place, user).status_code == 200
        world.frozen.advance(minutes=90)
        assert world.post(f"/wishes/{wish.id}/check-out", place, user).status_code == 200
        [record] = world.get(f"/wishes/{wish.id}/service-records", world.coordinator).json()
        r = world.post(f"/service-records/{record['id']}/confirm", None, world.coordinator)
        assert r.status_code == 200, r.text
        world.frozen.advance(minutes=-90)
        served.append(wish.id)
    world.frozen.advance(days=1)
    world.join(team_id, x_user, boss_user)  # after serving
    r = world.get(f"/teams/{team_id}/hours", boss_user, **{"from": "2027-01-01"})
    assert {m["volunteer_id"]: m["hours"] for m in r.json()["members"]} == {boss.id: 1.5, x.id: 0}
    assert r.json()["hours"] == 1.5
    assert world.get("/me/hours", x_user).json()["service_hours"] == 1.5
    record = world.get(f"/teams/{team_id}/record", boss_user, **{"from": "2027-01-01"}).json()
    assert record["wishes_taken"] == 0 and record["active_members"] == 2
