"""Nobody approves themselves, on any route.

A coordinator (or an admin) who also volunteers calls every route that could confirm, credit,
award, adjust, certify, suspend, reinstate, dispatch, team up, check in by hand or review a wish
they ordered, on their own record: 403 SELF_APPROVAL, and nothing in the database changes. The
very same request by another coordinator of a unit above (or another admin) succeeds, so the
refusal is about who asks and nothing else.

`test_every_state_changing_route_is_covered` lists every state-changing route of the app (from
the OpenAPI document) and fails on a route that has neither a case here nor a written reason in
`EXEMPT`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.auth.users import ensure_role
from app.config import Settings
from app.db import WRITE_METHODS
from app.main import API_PREFIX
from app.models import (
    Activity,
    ActivitySession,
    ActivitySignup,
    Attendance,
    HoursEntry,
    OrgUnit,
    Pairing,
    PairingVisit,
    PointsEntry,
    StarAward,
    TeamMember,
    User,
    Volunteer,
    Wish,
)
from app.models.enums import AccountRole, VolunteerStatus, WishStatus
from tests.fixtures.builders import (
    Tree,
    auth,
    make_admin,
    make_coordinator,
    make_household,
    make_pairing,
    make_resident,
    make_team,
    make_tree,
    make_user,
    make_volunteer,
    make_wish,
)
from tests.fixtures.state import changed_tables, everything

API = API_PREFIX
S = WishStatus
REASON = {"reason": "核实后处理"}
MANUAL = {"reason": "室内无法定位，协调员代签"}


@dataclass
class Scene:
    session: Session
    settings: Settings
    tree: Tree
    me: User  # staff, and a volunteer at station 0
    mine: Volunteer
    other: User  # another coordinator of a unit above (or another admin)
    resident: User

    @property
    def station(self) -> OrgUnit:
        return self.tree.stations[0]

    def volunteer(self) -> Volunteer:
        """Another volunteer of the station."""
        return make_volunteer(self.session, self.station, skills=("errands",))[1]

    def wish(self, status: WishStatus = S.SUBMITTED, **kw: Any) -> Wish:
        kw.setdefault("requester", self.resident)
        return make_wish(self.session, station=self.station, status=status, **kw)

    def serving_now(self, wish: Wish) -> Wish:
        wish.wanted_start_at = clock.now() - timedelta(minutes=30)
        wish.wanted_end_at = clock.now() + timedelta(hours=1)
        self.session.flush()
        return wish

    def entry(self, minutes: int = 120) -> HoursEntry:
        """A service entry of mine, recorded by the station."""
        now = clock.now()
        entry = HoursEntry(
            volunteer_id=self.mine.id,
            category="service",
            unit_id=self.station.id,
            content="陪独居老人买菜",
            started_at=now - timedelta(hours=3),
            ended_at=now - timedelta(hours=1),
            minutes=minutes,
            verification="gps",
            created_at=now,
        )
        self.session.add(entry)
        self.session.flush()
        return entry


@dataclass(frozen=True)
class Call:
    path: str
    json: dict[str, Any] | None = None


@dataclass(frozen=True)
class SelfCase:
    """`setup` builds the caller's own record and names the request; another staff member's
    identical request answers `ok` (2xx)."""

    method: str
    route: str
    setup: Callable[[Scene], Call]
    ok: int = 200
    actors: tuple[str, ...] = ("coordinator", "admin")


# ---------------------------------------------------------------- setups: my own records


def _me(suffix: str, body: dict[str, Any] | None = None) -> Callable[[Scene], Call]:
    return lambda s: Call(f"/volunteers/{s.mine.id}{suffix}", body)


def _reinstate(s: Scene) -> Call:
    s.mine.status = VolunteerStatus.SUSPENDED
    s.session.flush()
    return Call(f"/volunteers/{s.mine.id}/reinstate")


def _served(s: Scene, status: str) -> Attendance:
    """My service on a wish, checked out (awaiting confirmation) or still in service."""
    wish = s.wish(S.COMPLETED if status == "checked_out" else S.IN_SERVICE, assignee=s.mine)
    now = clock.now()
    row = Attendance(
        wish_id=wish.id,
        volunteer_id=s.mine.id,
        unit_id=s.station.id,
        is_lead=True,
        status=status,
        checked_in_at=now - timedelta(hours=2),
        check_in_received_at=now - timedelta(hours=2),
        check_in_method="gps",
        checked_out_at=now if status == "checked_out" else None,
        check_out_received_at=now if status == "checked_out" else None,
        check_out_method="gps" if status == "checked_out" else None,
    )
    s.session.add(row)
    s.session.flush()
    return row


def _confirm(s: Scene) -> Call:
    return Call(f"/service-records/{_served(s, 'checked_out').id}/confirm", {})


def _reject_record(s: Scene) -> Call:
    return Call(f"/service-records/{_served(s, 'checked_out').id}/reject", REASON)


def _record_entry(s: Scene) -> Call:
    body = {
        "category": "training",
        "content": "应急救护培训",
        "started_at": (clock.now() - timedelta(days=1)).isoformat(),
        "hours": 2,
    }
    return Call(f"/volunteers/{s.mine.id}/record-entries", body)


def _correction(s: Scene) -> Call:
    return Call(f"/hours-entries/{s.entry().id}/corrections", {"reason": "补记漏计", "hours": 4})


def _with_points(s: Scene, suffix: str, body: dict[str, Any]) -> Call:
    s.session.add(
        PointsEntry(
            volunteer_id=s.mine.id,
            kind="earn",
            points=100,
            unit_id=s.station.id,
            created_at=clock.now(),
        )
    )
    s.session.flush()
    return Call(f"/volunteers/{s.mine.id}/points/{suffix}", body)


def _resolve(s: Scene) -> Call:
    now = clock.now()
    award = StarAward(
        volunteer_id=s.mine.id,
        star=1,
        ladder_code="default",
        minutes_at_award=6000,
        certifying_unit_id=s.station.id,
        notice_starts_at=now - timedelta(days=1),
        notice_ends_at=now + timedelta(days=6),
        status="held",
        objection="时长存疑",
        objection_at=now,
    )
    s.session.add(award)
    s.session.flush()
    return Call(f"/star-awards/{award.id}/resolve", {"uphold": False, "reason": "核实无误"})


def _certificate(s: Scene) -> Call:
    s.entry()
    return Call(f"/volunteers/{s.mine.id}/certificates", {"unit_id": s.station.id})


def _approve(s: Scene) -> Call:
    return Call(f"/wishes/{s.wish(proxy=s.me).id}/approve")  # ordered for a resident


def _reject_wish(s: Scene) -> Call:
    return Call(f"/wishes/{s.wish(requester=s.me).id}/reject", REASON)  # ordered for themselves


def _close(s: Scene) -> Call:
    wish = s.wish(S.COMPLETED, assignee=s.volunteer(), proxy=s.me)
    return Call(f"/wishes/{wish.id}/close")


def _offer(s: Scene) -> Call:
    return Call(f"/wishes/{s.wish(S.APPROVED).id}/offer", {"volunteer_ids": [s.mine.id]})


def _dispatch_apply(s: Scene) -> Call:
    wish = s.wish(S.APPROVED)
    body = {"assignments": [{"wish_id": wish.id, "volunteer_id": s.mine.id}]}
    return Call(f"/org-units/{s.station.id}/dispatch-plan/apply", body)


def _team(s: Scene) -> Call:
    wish = s.wish(S.ACCEPTED, assignee=s.volunteer())
    return Call(f"/wishes/{wish.id}/team", {"volunteer_id": s.mine.id})


def _check_in(s: Scene) -> Call:
    wish = s.serving_now(s.wish(S.ACCEPTED, assignee=s.mine))
    return Call(f"/wishes/{wish.id}/check-in", MANUAL)


def _check_out(s: Scene) -> Call:
    row = _served(s, "in_service")
    wish = s.session.get(Wish, row.wish_id)
    assert wish is not None
    s.serving_now(wish)
    return Call(f"/wishes/{wish.id}/check-out", MANUAL)


def _my_pairing(s: Scene) -> Pairing:
    return make_pairing(s.session, make_household(s.session, s.station), volunteer=s.mine)


def _pair_me(s: Scene) -> Call:
    household = make_household(s.session, s.station)
    body = {
        "household_id": household.id,
        "helper": {"kind": "volunteer", "volunteer_id": s.mine.id},
        "rhythm_days": 7,
        "start_date": clock.local_day(clock.now()).isoformat(),
    }
    return Call("/pairings", body)


def _manual_visit(s: Scene) -> Call:
    now = clock.now()
    body = {
        "started_at": (now - timedelta(hours=2)).isoformat(),
        "ended_at": (now - timedelta(hours=1)).isoformat(),
        **MANUAL,
    }
    return Call(f"/pairings/{_my_pairing(s).id}/visits/manual", body)


def _visit_check_out(s: Scene) -> Call:
    """My visit, checked in half an hour ago; a coordinator checks it out by hand."""
    pairing = _my_pairing(s)
    now = clock.now()
    visit = PairingVisit(
        pairing_id=pairing.id,
        volunteer_id=s.mine.id,
        method="gps",
        started_at=now - timedelta(minutes=30),
        planned_end_at=now + timedelta(minutes=30),
    )
    s.session.add(visit)
    s.session.flush()
    s.session.add(
        Attendance(
            visit_id=visit.id,
            volunteer_id=s.mine.id,
            unit_id=s.station.id,
            is_lead=True,
            status="in_service",
            checked_in_at=visit.started_at,
            check_in_received_at=visit.started_at,
            check_in_method="gps",
        )
    )
    s.session.flush()
    return Call(f"/pairing-visits/{visit.id}/check-out", MANUAL)


def _my_activity_session(s: Scene, *, checked_in: bool) -> Call:
    """An activity of the station happening now, where I hold a place; my record in service
    when `checked_in`."""
    now = clock.now()
    activity = Activity(
        unit_id=s.station.id,
        title="重阳节敬老",
        status="published",
        place="文化礼堂",
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(hours=1),
        headcount=5,
        admitted=1,
        signup_opens_at=now - timedelta(days=3),
        signup_closes_at=now - timedelta(hours=1),
    )
    s.session.add(activity)
    s.session.flush()
    sitting = ActivitySession(
        activity_id=activity.id, starts_at=activity.starts_at, ends_at=activity.ends_at
    )
    s.session.add(sitting)
    s.session.add(
        ActivitySignup(
            activity_id=activity.id,
            user_id=s.me.id,
            volunteer_id=s.mine.id,
            role="volunteer",
            status="admitted",
            queued_at=now - timedelta(days=2),
        )
    )
    s.session.flush()
    if checked_in:
        s.session.add(
            Attendance(
                activity_session_id=sitting.id,
                volunteer_id=s.mine.id,
                unit_id=s.station.id,
                status="in_service",
                checked_in_at=now - timedelta(minutes=20),
                check_in_received_at=now - timedelta(minutes=20),
                check_in_method="manual",
            )
        )
        s.session.flush()
    verb = "check-out" if checked_in else "check-in"
    return Call(
        f"/activities/{activity.id}/sessions/{sitting.id}/{verb}",
        {**MANUAL, "volunteer_id": s.mine.id},
    )


def _grant(s: Scene) -> Call:
    return Call(
        f"/admin/users/{s.me.id}/roles", {"role": "coordinator", "org_unit_id": s.station.id}
    )


def _new_team(s: Scene) -> Call:
    body = {
        "kind": "team",
        "name": "助老服务队",
        "unit_id": s.station.id,
        "lead_volunteer_id": s.mine.id,
    }
    return Call("/teams", body)


def _my_organisation(s: Scene, suffix: str, body: dict[str, Any] | None = None) -> Call:
    """A pending enterprise I lead, registered with the county centre, whose coordinators (me
    among them) decide on it."""
    ensure_role(session=s.session, user_id=s.me.id, role=AccountRole.COORDINATOR,
                org_unit_id=s.tree.county.id)  # fmt: skip
    team = make_team(s.session, s.tree.county, lead=s.mine, kind="enterprise", status="pending",
                     registered_by=s.resident)  # fmt: skip
    return Call(f"/teams/{team.id}/{suffix}", body)


def _my_application(s: Scene, verb: str, body: dict[str, Any] | None = None) -> Call:
    """My application to join a team of the station."""
    team = make_team(s.session, s.station, lead=s.volunteer(), applicants=(s.mine,))
    member = s.session.scalar(
        select(TeamMember.id).where(
            TeamMember.team_id == team.id, TeamMember.volunteer_id == s.mine.id
        )
    )
    return Call(f"/team-members/{member}/{verb}", body)


def _adopt_for_mine(s: Scene) -> Call:
    team = make_team(s.session, s.tree.county, lead=s.mine, kind="enterprise")
    return Call(f"/teams/{team.id}/adoptions", {"village_id": s.station.id})


CASES: list[SelfCase] = [
    SelfCase("POST", "/volunteers/{volunteer_id}/suspend", _me("/suspend", REASON)),
    SelfCase("POST", "/volunteers/{volunteer_id}/reinstate", _reinstate),
    SelfCase(
        "PUT",
        "/volunteers/{volunteer_id}/qualification",
        _me("/qualification", {"skill_code": "first_aid", "qualified_until": "2030-12-31"}),
    ),
    SelfCase(
        "PUT",
        "/volunteers/{volunteer_id}/insurance",
        _me("/insurance", {"insured_until": "2030-12-31"}),
    ),
    SelfCase("POST", "/service-records/{record_id}/confirm", _confirm),
    SelfCase("POST", "/service-records/{record_id}/reject", _reject_record),
    SelfCase("POST", "/volunteers/{volunteer_id}/record-entries", _record_entry, ok=201),
    SelfCase("POST", "/hours-entries/{entry_id}/corrections", _correction, ok=201),
    SelfCase(
        "POST",
        "/volunteers/{volunteer_id}/points/redemptions",
        lambda s: _with_points(s, "redemptions", {"points": 10, "item": "大米一袋"}),
        ok=201,
    ),
    SelfCase(
        "POST",
        "/volunteers/{volunteer_id}/points/adjustments",
        lambda s: _with_points(s, "adjustments", {"points": 50, "reason": "活动奖励"}),
        ok=201,
    ),
    SelfCase("POST", "/star-awards/{award_id}/resolve", _resolve),
    SelfCase("POST", "/volunteers/{volunteer_id}/certificates", _certificate, ok=201),
    SelfCase("POST", "/wishes/{wish_id}/approve", _approve),
    SelfCase("POST", "/wishes/{wish_id}/reject", _reject_wish),
    SelfCase("POST", "/wishes/{wish_id}/close", _close),
    SelfCase("POST", "/wishes/{wish_id}/offer", _offer),
    SelfCase("POST", "/org-units/{unit_id}/dispatch-plan/apply", _dispatch_apply),
    SelfCase("POST", "/wishes/{wish_id}/team", _team, ok=201),
    SelfCase("POST", "/wishes/{wish_id}/check-in", _check_in),
    SelfCase("POST", "/wishes/{wish_id}/check-out", _check_out),
    SelfCase("POST", "/admin/users/{user_id}/roles", _grant, actors=("admin",)),
    SelfCase("POST", "/teams", _new_team, ok=201),
    SelfCase("POST", "/teams/{team_id}/verify", lambda s: _my_organisation(s, "verify")),
    SelfCase("POST", "/teams/{team_id}/reject", lambda s: _my_organisation(s, "reject", REASON)),
    SelfCase("POST", "/team-members/{member_id}/approve", lambda s: _my_application(s, "approve")),
    SelfCase(
        "POST", "/team-members/{member_id}/refuse", lambda s: _my_application(s, "refuse", REASON)
    ),
    SelfCase("POST", "/teams/{team_id}/adoptions", _adopt_for_mine, ok=201),
    SelfCase("POST", "/pairings", _pair_me, ok=201),
    SelfCase("POST", "/pairings/{pairing_id}/visits/manual", _manual_visit, ok=201),
    SelfCase("POST", "/pairing-visits/{visit_id}/check-out", _visit_check_out),
    SelfCase(
        "POST",
        "/activities/{activity_id}/sessions/{session_id}/check-in",
        lambda s: _my_activity_session(s, checked_in=False),
    ),
    SelfCase(
        "POST",
        "/activities/{activity_id}/sessions/{session_id}/check-out",
        lambda s: _my_activity_session(s, checked_in=True),
    ),
]


def _scene(session: Session, settings: Settings, kind: str) -> Scene:
    tree = make_tree(session)
    if kind == "coordinator":
        me = make_coordinator(session, tree.townships[0])
        other = make_coordinator(session, tree.county)
    else:
        me, other = make_admin(session), make_admin(session)
    _, mine = make_volunteer(session, tree.stations[0], user=me, skills=("errands",))
    return Scene(session, settings, tree, me, mine, other, make_resident(session))


@pytest.mark.parametrize(
    ("case", "kind"),
    [
        pytest.param(case, kind, id=f"{case.method} {case.route} as {kind}")
        for case in CASES
        for kind in case.actors
    ],
)
def test_nobody_approves_themselves(
    client: TestClient, session: Session, settings: Settings, case: SelfCase, kind: str
) -> None:
    scene = _scene(session, settings, kind)
    call = case.setup(scene)
    before = everything(session)
    r = client.request(
        case.method, API + call.path, json=call.json, headers=auth(scene.me, settings)
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "SELF_APPROVAL", r.text
    assert r.json()["error"]["message"].startswith("不能为本人")
    assert changed_tables(before, everything(session)) == []
    # The same request by another coordinator above (or another admin) goes through.
    r = client.request(
        case.method, API + call.path, json=call.json, headers=auth(scene.other, settings)
    )
    assert r.status_code == case.ok, r.text


def test_own_order_offers_no_review_buttons(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """`allowed_events` does not offer approve or reject on a wish one ordered; another
    coordinator sees them."""
    scene = _scene(session, settings, "coordinator")
    wish = scene.wish(proxy=scene.me)
    mine = client.get(f"{API}/wishes/{wish.id}", headers=auth(scene.me, settings)).json()
    theirs = client.get(f"{API}/wishes/{wish.id}", headers=auth(scene.other, settings)).json()
    assert set(mine["allowed_events"]) == {"cancel", "escalate"}
    assert set(theirs["allowed_events"]) == {"approve", "reject", "cancel", "escalate"}


def test_a_plan_leaves_its_coordinator_out(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Batch dispatch never plans an offer to the coordinator who asks: with only them fitting,
    the wish stays unassigned for them, and is assigned to them in another coordinator's plan."""
    scene = _scene(session, settings, "coordinator")
    wish = scene.wish(S.APPROVED)
    path = f"{API}/org-units/{scene.station.id}/dispatch-plan"
    mine = client.post(path, headers=auth(scene.me, settings))
    theirs = client.post(path, headers=auth(scene.other, settings))
    assert mine.status_code == theirs.status_code == 200, mine.text
    assert [u["wish_id"] for u in mine.json()["unassigned"]] == [wish.id]
    assert mine.json()["unassigned"][0]["reason"] == "NO_ELIGIBLE_VOLUNTEER"
    assert [(i["wish_id"], i["volunteer_id"]) for i in theirs.json()["items"]] == [
        (wish.id, scene.mine.id)
    ]


def test_a_volunteer_confirming_their_own_hours_is_refused_as_self_approval(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Not only staff: a volunteer who is the requester's side of nothing gets the same code."""
    scene = _scene(session, settings, "coordinator")
    volunteer_user = make_user(session, roles=[(AccountRole.RESIDENT, None)])
    _, volunteer = make_volunteer(session, scene.station, user=volunteer_user)
    scene.mine = volunteer
    call = _confirm(scene)
    before = everything(session)
    r = client.post(API + call.path, json={}, headers=auth(volunteer_user, settings))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "SELF_APPROVAL")
    assert changed_tables(before, everything(session)) == []


# ---------------------------------------------------------------- every route is accounted for

# State-changing routes with no self-approval to refuse, and why.
EXEMPT: dict[tuple[str, str], str] = {
    ("POST", "/auth/login"): "signing in approves nothing",
    ("POST", "/auth/dev-login"): "signing in approves nothing",
    ("POST", "/auth/wechat/login"): "signing in approves nothing",
    ("POST", "/auth/refresh"): "renewing one's own session approves nothing",
    ("POST", "/auth/logout"): "ending one's own session approves nothing",
    ("POST", "/auth/password"): "changing one's own password approves nothing",
    ("POST", "/auth/wechat/phone"): "binding one's own phone number (proved by WeChat)",
    (
        "POST",
        "/me/notifications/{notification_id}/read",
    ): "reading one's own messages approves nothing",
    ("POST", "/me/notifications/read-all"): "reading one's own messages approves nothing",
    ("POST", "/admin/users/{user_id}/reset-password"): (
        "a reset grants nothing: it ends the account's sessions and forces a new password"
    ),
    ("POST", "/admin/users"): "creates a new account, never the caller's own",
    ("DELETE", "/admin/users/{user_id}/roles/{grant_id}"): (
        "giving up a role grants nothing; powers only come from another admin (grant is covered)"
    ),
    ("POST", "/admin/users/{user_id}/deactivate"): "ending one's own access grants nothing",
    ("POST", "/org-units"): "units are not people",
    ("POST", "/household-categories"): "catalogue data, not people",
    ("PATCH", "/household-categories/{code}"): "catalogue data, not people",
    ("POST", "/households"): (
        "registers a household in need with its recorded consent; it credits nothing, and any "
        "pairing with the caller as helper is refused (POST /pairings is covered)"
    ),
    ("PATCH", "/households/{household_id}"): "corrects a household's details, credits nothing",
    ("POST", "/households/{household_id}/close"): "stops helping a household, credits nothing",
    ("POST", "/households/{household_id}/reveal"): "reading, logged in the access log",
    ("POST", "/pairings/{pairing_id}/pause"): "a pairing's rhythm, credits nothing",
    ("POST", "/pairings/{pairing_id}/resume"): "a pairing's rhythm, credits nothing",
    ("POST", "/pairings/{pairing_id}/end"): (
        "ending a pairing (the helper may end their own, with notice) credits nothing"
    ),
    ("POST", "/pairings/{pairing_id}/visits/check-in"): (
        "the helper's own check-in with the phone's fix at the household; a check by hand is "
        "the manual record (covered)"
    ),
    ("POST", "/pairing-visits/{visit_id}/wish"): (
        "orders a wish on the household's behalf; its review refuses the ordering coordinator "
        "(POST /wishes/{wish_id}/approve is covered)"
    ),
    ("PATCH", "/org-units/{unit_id}"): "units are not people",
    ("POST", "/catalogue/{kind}"): "catalogue data, about nobody",
    ("PUT", "/org-units/{unit_id}/ranking-weights"): (
        "weights rank units, not people; setting them approves nobody"
    ),
    ("DELETE", "/org-units/{unit_id}/ranking-weights"): (
        "weights rank units, not people; removing them approves nobody"
    ),
    **{
        route: "webhook subscribers are receiving systems, not people; nothing is approved"
        for route in (
            ("POST", "/admin/webhooks"),
            ("PATCH", "/admin/webhooks/{subscriber_id}"),
            ("DELETE", "/admin/webhooks/{subscriber_id}"),
            ("POST", "/admin/webhooks/{subscriber_id}/rotate-secret"),
        )
    },
    ("PATCH", "/catalogue/{kind}/{code}"): "catalogue data, about nobody",
    ("PUT", "/seasons/{code}/periods"): "the season calendar, about nobody",
    ("PUT", "/seasons/{code}/affinities"): "the season calendar, about nobody",
    ("PUT", "/star-ladders/{code}"): "a jurisdiction's star table applies to everyone alike",
    ("PUT", "/org-units/{unit_id}/dispatch-policy"): "unit settings apply to everyone alike",
    ("PUT", "/org-units/{unit_id}/record-rules"): (
        "unit settings apply to everyone alike; crediting under them is still someone else's"
    ),
    ("POST", "/me/volunteer"): (
        "registering is the volunteer's own act; qualification, insurance and status are "
        "recorded by others (covered)"
    ),
    ("PATCH", "/me/volunteer"): (
        "the volunteer's own profile: declared skills, place, availability; nothing in it is "
        "approved"
    ),
    ("PUT", "/me/consents/{purpose}"): "consent is the person's own to give or withdraw",
    ("PUT", "/me/notification-preferences"): "which pushes one receives approves nothing",
    ("POST", "/me/subscriptions"): "one's own WeChat subscriptions approve nothing",
    ("POST", "/activities"): "publishing an activity approves and credits nobody",
    ("PATCH", "/activities/{activity_id}"): "an activity's details, about nobody",
    ("POST", "/activities/{activity_id}/publish"): "opens sign-up to everyone alike",
    ("POST", "/activities/{activity_id}/cancel"): "cancelling approves and credits nothing",
    ("POST", "/activities/{activity_id}/signup"): (
        "the volunteer's own sign-up, under the same hard constraints as anyone's"
    ),
    ("POST", "/activities/{activity_id}/signup/cancel"): "giving up one's own place",
    ("POST", "/activities/{activity_id}/team-signup"): (
        "naming members is an invitation: each, the lead included, signs up by their own "
        "acceptance under the same constraints (no forced assignment)"
    ),
    ("POST", "/activity-callups/{callup_id}/accept"): "the member's own answer (their sign-up)",
    ("POST", "/activity-callups/{callup_id}/decline"): "the member's own answer",
    ("POST", "/admin/consent-texts"): "a consent text applies to everyone alike",
    ("POST", "/admin/deliveries/{message_id}/redrive"): (
        "sending a message again approves, credits and grants nothing"
    ),
    ("POST", "/wishes/{wish_id}/reveal"): "reading a contact (logged) approves and credits nothing",
    ("POST", "/volunteers/{volunteer_id}/reveal"): (
        "reading a profile (logged) approves and credits nothing"
    ),
    ("DELETE", "/me"): "deleting one's own account grants nothing; the ledgers stay as they are",
    ("POST", "/wishes"): (
        "ordering is not approving; reviewing one's own order is refused (approve, reject)"
    ),
    ("POST", "/wishes/{wish_id}/open-grab"): (
        "opens an approved wish to every eligible volunteer alike; the opener gains nothing"
    ),
    ("POST", "/wishes/{wish_id}/accept"): "the volunteer's own answer to an offer or a grab",
    ("POST", "/wishes/{wish_id}/decline"): "the volunteer's own answer to an offer",
    ("POST", "/wishes/{wish_id}/withdraw"): "the volunteer giving back their own task",
    ("POST", "/wishes/{wish_id}/release"): (
        "taking a task back from oneself only counts against one's reliability"
    ),
    ("POST", "/wishes/{wish_id}/rate"): (
        "the requester rates the volunteer, who is never the requester (offers and grabs "
        "refuse them)"
    ),
    ("POST", "/wishes/{wish_id}/cancel"): "cancelling approves and credits nothing",
    ("POST", "/wishes/{wish_id}/escalate"): "hands the wish to the unit above",
    ("POST", "/wishes/{wish_id}/remind"): "a reminder changes nothing but a timestamp",
    ("POST", "/wishes/{wish_id}/feedback"): "the volunteer's rating of the experience, no credit",
    ("POST", "/star-awards/{award_id}/objection"): (
        "an objection holds a star (one's own or another's); the decision is resolve (covered)"
    ),
    ("POST", "/me/certificates"): (
        "a volunteer asks a unit that recorded their service; the figures are the ledger's, "
        "nothing is judged"
    ),
    ("POST", "/org-units/{unit_id}/imports/{kind}"): (
        "every row makes a new account; a staff row naming the importer (their username or "
        "phone) fails the whole file with the row error SELF_APPROVAL "
        "(tests/imports/test_imports.py)"
    ),
    ("POST", "/teams/{team_id}/members"): (
        "applying to join is the volunteer's own request; the lead or a coordinator decides "
        "(approve and refuse are covered)"
    ),
    ("POST", "/team-members/{member_id}/leave"): "leaving a team grants nothing",
    ("POST", "/wishes/{wish_id}/accept-as-team"): (
        "the lead's own accept (an offer or a grab, as /accept); the members named are only "
        "asked, each accepts for themself"
    ),
    ("POST", "/team-callups/{callup_id}/accept"): (
        "the member's own answer to their lead's callup, as to an offer"
    ),
    ("POST", "/team-callups/{callup_id}/decline"): "the member's own answer to a callup",
    ("POST", "/team-adoptions/{adoption_id}/end"): (
        "ending an adoption takes help off an organisation's count, credits nobody"
    ),
    ("POST", "/org-units/{unit_id}/dispatch-plan"): (
        "computes a plan and changes nothing; the plan leaves its coordinator out (tested "
        "above) and applying it is covered"
    ),
}


def test_every_state_changing_route_is_covered(app: FastAPI) -> None:
    routes = {
        (method.upper(), path.removeprefix(API))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method.upper() in WRITE_METHODS
    }
    assert ("POST", "/service-records/{record_id}/confirm") in routes
    cased = {(case.method, case.route) for case in CASES}
    missing = sorted(routes - cased - set(EXEMPT))
    assert missing == [], (
        f"state-changing routes with no self-approval case or exemption: {missing}"
    )
    stale = sorted((cased | set(EXEMPT)) - routes)
    assert stale == [], f"cases for routes that no longer exist: {stale}"
    assert sorted(cased & set(EXEMPT)) == [], "a route is both tested and exempt"
    assert all(reason.strip() for reason in EXEMPT.values())
