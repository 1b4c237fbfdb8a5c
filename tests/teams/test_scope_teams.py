"""Teams and organisations seen from a coordinator of townships[0] (stations 0 and 1): what
lies outside their subtree is not found, and asking changes nothing. A verified team is public
(its page, members, figures and honour list), as published honour lists are; deciding on it,
its members' applications and its adoptions stay with the coordinators of its unit."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Team, TeamAdoption, TeamCallup, TeamMember, Wish
from app.models.enums import WishStatus
from tests.fixtures.builders import (
    auth,
    make_coordinator,
    make_resident,
    make_team,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"

# Every route of the domain, with the test below that checks it.
ROUTES = {
    ("POST", "/teams"),
    ("GET", "/teams"),
    ("GET", "/teams/{team_id}"),
    ("POST", "/teams/{team_id}/verify"),
    ("POST", "/teams/{team_id}/reject"),
    ("GET", "/teams/{team_id}/members"),
    ("POST", "/teams/{team_id}/members"),
    ("POST", "/team-members/{member_id}/approve"),
    ("POST", "/team-members/{member_id}/refuse"),
    ("POST", "/team-members/{member_id}/leave"),
    ("POST", "/wishes/{wish_id}/accept-as-team"),
    ("GET", "/wishes/{wish_id}/team-callups"),
    ("GET", "/me/team-callups"),
    ("POST", "/team-callups/{callup_id}/accept"),
    ("POST", "/team-callups/{callup_id}/decline"),
    ("GET", "/teams/{team_id}/hours"),
    ("GET", "/teams/{team_id}/record"),
    ("GET", "/teams/{team_id}/honour-list"),
    ("GET", "/teams/{team_id}/export"),
    ("POST", "/teams/{team_id}/adoptions"),
    ("GET", "/teams/{team_id}/adoptions"),
    ("POST", "/team-adoptions/{adoption_id}/end"),
    ("GET", "/teams/{team_id}/help"),
}


def _counts(session: Session) -> tuple[Any, ...]:
    session.expire_all()
    tables = (Team, TeamMember, TeamCallup, TeamAdoption)
    counts = tuple(session.scalar(select(func.count()).select_from(t)) for t in tables)
    states = tuple(session.execute(select(Team.id, Team.status).order_by(Team.id)))
    members = tuple(
        session.execute(select(TeamMember.id, TeamMember.status).order_by(TeamMember.id))
    )
    callups = tuple(
        session.execute(select(TeamCallup.id, TeamCallup.status).order_by(TeamCallup.id))
    )
    adoptions = tuple(session.execute(select(TeamAdoption.id, TeamAdoption.status)))
    wishes = tuple(session.execute(select(Wish.id, Wish.status, Wish.team_id).order_by(Wish.id)))
    return counts, states, members, callups, adoptions, wishes


def test_team_routes_scope(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    coordinator = make_coordinator(session, tree.townships[0])
    me = auth(coordinator, settings)
    outside = tree.stations[2]
    lead_user, lead = make_volunteer(session, outside)
    _, applicant = make_volunteer(session, outside)
    _, member = make_volunteer(session, outside)
    pending = make_team(session, tree.county, lead=lead, kind="enterprise", status="pending")
    # The county's team is outside a township's coordinator's subtree, like the station's.
    verified = make_team(session, outside, lead=lead, members=(member,), applicants=(applicant,))
    application = session.scalar(
        select(TeamMember.id).where(TeamMember.volunteer_id == applicant.id)
    )
    adoption = TeamAdoption(team_id=verified.id, village_id=outside.id, status="active",
                            start_date=tree.county.created_at.date())  # fmt: skip
    session.add(adoption)
    wish = make_wish(session, station=outside, requester=make_resident(session),
                     status=WishStatus.ACCEPTED, assignee=lead)  # fmt: skip
    wish.team_id = verified.id
    callup = TeamCallup(team_id=verified.id, wish_id=wish.id, volunteer_id=member.id,
                        status="named")  # fmt: skip
    session.add(callup)
    session.flush()
    before = _counts(session)

    def call(method: str, path: str, body: Any = None, headers: Any = None) -> Any:
        return client.request(method, API + path, json=body, headers=headers or me)

    # Outside the subtree: not found, whatever the verb.
    refused = [
        (
            "POST",
            "/teams",
            {"kind": "team", "name": "队", "unit_id": outside.id},
            "ORG_UNIT_NOT_FOUND",
        ),
        ("GET", f"/teams/{pending.id}", None, "TEAM_NOT_FOUND"),
        ("POST", f"/teams/{pending.id}/verify", None, "TEAM_NOT_FOUND"),
        ("POST", f"/teams/{pending.id}/reject", {"reason": "不符"}, "TEAM_NOT_FOUND"),
        ("GET", f"/teams/{pending.id}/members", None, "TEAM_NOT_FOUND"),
        ("GET", f"/teams/{pending.id}/hours", None, "TEAM_NOT_FOUND"),
        ("GET", f"/teams/{pending.id}/record", None, "TEAM_NOT_FOUND"),
        ("GET", f"/teams/{pending.id}/honour-list", None, "TEAM_NOT_FOUND"),
        ("GET", f"/teams/{pending.id}/export", None, "TEAM_NOT_FOUND"),
        ("GET", f"/teams/{pending.id}/adoptions", None, "TEAM_NOT_FOUND"),
        ("GET", f"/teams/{pending.id}/help", None, "TEAM_NOT_FOUND"),
        ("POST", f"/team-members/{application}/approve", None, "TEAM_MEMBERSHIP_NOT_FOUND"),
        (
            "POST",
            f"/team-members/{application}/refuse",
            {"reason": "不符"},
            "TEAM_MEMBERSHIP_NOT_FOUND",
        ),
        ("POST", f"/team-members/{application}/leave", None, "NOT_A_VOLUNTEER"),
        (
            "POST",
            f"/teams/{verified.id}/adoptions",
            {"village_id": outside.id},
            "VILLAGE_NOT_FOUND",
        ),
        ("POST", f"/team-adoptions/{adoption.id}/end", None, "TEAM_ADOPTION_NOT_FOUND"),
        ("GET", f"/wishes/{wish.id}/team-callups", None, "WISH_NOT_FOUND"),
    ]
    for method, path, body, code in refused:
        r = call(method, path, body)
        assert r.status_code in (403, 404), (path, r.text)
        assert r.json()["error"]["code"] == code, (path, r.text)
    # A verified team is public: its page, active members and figures; the file is the lead's.
    for tail in ("", "/members", "/hours", "/record", "/honour-list", "/adoptions", "/help"):
        r = call("GET", f"/teams/{verified.id}{tail}")
        assert r.status_code == 200, (tail, r.text)
    assert {m["status"] for m in call("GET", f"/teams/{verified.id}/members").json()} == {"active"}
    r = call("GET", f"/teams/{verified.id}/export")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "NOT_TEAM_LEAD")
    listed = {t["id"] for t in call("GET", "/teams").json()["items"]}
    assert verified.id in listed and pending.id not in listed
    # A volunteer elsewhere: another's callup and application are not theirs to answer; a wish
    # they cannot see cannot be taken as a team.
    stranger_user, _ = make_volunteer(session, tree.stations[0])
    stranger = auth(stranger_user, settings)
    for method, path, body, code in [
        ("POST", f"/team-callups/{callup.id}/accept", None, "TEAM_CALLUP_NOT_FOUND"),
        ("POST", f"/team-callups/{callup.id}/decline", None, "TEAM_CALLUP_NOT_FOUND"),
        ("POST", f"/team-members/{application}/leave", None, "TEAM_MEMBERSHIP_NOT_FOUND"),
        ("POST", f"/teams/{pending.id}/members", None, "TEAM_NOT_FOUND"),
    ]:
        r = call(method, path, body, stranger)
        assert (r.status_code, r.json()["error"]["code"]) == (404, code), (path, r.text)
    assert call("GET", "/me/team-callups", None, stranger).json() == []
    other_wish = make_wish(session, station=outside, requester=make_resident(session),
                           status=WishStatus.APPROVED)  # fmt: skip
    body = {"team_id": verified.id, "member_ids": [member.id]}
    r = call("POST", f"/wishes/{other_wish.id}/accept-as-team", body, auth(lead_user, settings))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "WISH_NOT_FOUND"), r.text
    assert _counts(session)[:5] == before[:5]
