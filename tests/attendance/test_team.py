"""A wish's team: the lead adds members, each checks in and out and gets their own record."""

from __future__ import annotations

from tests.fixtures.builders import consent_to, make_volunteer
from tests.fixtures.service import START, Scene, error


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
