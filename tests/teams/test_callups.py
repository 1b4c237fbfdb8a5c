"""A wish taken as a team: one taker, members named only if they are active members who fit the
wish, and a wish given back lets go of the team."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.models import (
    Attendance,
    Household,
    Offer,
    OutboxMessage,
    TeamCallup,
    User,
    Volunteer,
    Wish,
)
from tests.teams.conftest import World, error


def _team_of(world: World, size: int) -> tuple[int, list[tuple[User, Volunteer]]]:
    lead_user, lead = world.volunteer()
    team_id = world.enterprise(lead_user, name=f"企业{lead.id}")
    members = [world.volunteer() for _ in range(size)]
    for user, _ in members:
        world.join(team_id, user, lead_user)
    return team_id, [(lead_user, lead), *members]


def _callups(world: World, wish_id: int) -> dict[int, str]:
    world.session.expire_all()
    return dict(
        world.session.execute(
            select(TeamCallup.volunteer_id, TeamCallup.status).where(TeamCallup.wish_id == wish_id)
        ).all()
    )


def test_one_team_takes_the_wish(world: World) -> None:
    """Two teams' leads hold offers of one wish: the first to accept as a team takes it; the
    other gets the loop's own 409 and names nobody."""
    first, [(a_user, a), (_, a1)] = _team_of(world, 1)
    second, [(b_user, b), (_, b1)] = _team_of(world, 1)
    wish = world.offered_wish(a)
    now = clock.now()
    offer = Offer(wish_id=wish.id, volunteer_id=b.id, status="pending", created_at=now,
                  expires_at=now + timedelta(minutes=30))  # fmt: skip
    world.session.add(offer)
    world.session.flush()
    r = world.post(
        f"/wishes/{wish.id}/accept-as-team", {"team_id": first, "member_ids": [a1.id]}, a_user
    )
    assert r.status_code == 200, r.text
    r = world.post(
        f"/wishes/{wish.id}/accept-as-team", {"team_id": second, "member_ids": [b1.id]}, b_user
    )
    assert (r.status_code, error(r)) == (409, "WISH_ALREADY_TAKEN"), r.text
    assert _callups(world, wish.id) == {a1.id: "named"}
    world.session.expire_all()
    taken = world.session.get(Wish, wish.id)
    assert taken is not None and (taken.assignee_id, taken.team_id) == (a.id, first)
    # The named member is told (the place coarse), the other team's member is not.
    told = world.session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic == "team.callup")
    ).all()
    assert [m.recipient_id for m in told] == [a1.user_id]
    assert told[0].payload["coarse_address"] == wish.coarse_address
    assert "full_address" not in told[0].payload


def test_only_active_members_who_fit_are_named(world: World) -> None:
    team_id, [(lead_user, lead), (_, member)] = _team_of(world, 1)
    _, outsider = world.volunteer()
    wish = world.offered_wish(lead, skills=("errands",))
    before = world.session.scalar(select(Wish.version).where(Wish.id == wish.id))
    for named, code in (
        ([outsider.id], "NOT_ACTIVE_TEAM_MEMBERS"),
        ([lead.id], "NOT_ACTIVE_TEAM_MEMBERS"),
    ):
        r = world.post(
            f"/wishes/{wish.id}/accept-as-team",
            {"team_id": team_id, "member_ids": named},
            lead_user,
        )
        assert (r.status_code, error(r)) == (400, code), r.text
    # The member lacks the wish's skill: refused with the reasons, and the wish stays offered.
    r = world.post(
        f"/wishes/{wish.id}/accept-as-team",
        {"team_id": team_id, "member_ids": [member.id]},
        lead_user,
    )
    assert (r.status_code, error(r)) == (400, "MEMBER_NOT_ELIGIBLE"), r.text
    assert "SKILL_MISSING" in r.json()["error"]["details"]["members"][str(member.id)]
    world.session.expire_all()
    assert world.session.scalar(select(Wish.version).where(Wish.id == wish.id)) == before
    assert world.session.scalar(select(func.count()).select_from(TeamCallup)) == 0


def test_a_wish_given_back_lets_go_of_the_team(world: World) -> None:
    team_id, [(lead_user, lead), (a_user, a), (_, b)] = _team_of(world, 2)
    wish = world.offered_wish(lead)
    r = world.post(
        f"/wishes/{wish.id}/accept-as-team",
        {"team_id": team_id, "member_ids": [a.id, b.id]},
        lead_user,
    )
    assert r.status_code == 200, r.text
    callup_a = {c["volunteer_id"]: c["id"] for c in r.json()["callups"]}[a.id]
    assert world.post(f"/team-callups/{callup_a}/accept", None, a_user).status_code == 200
    r = world.post(f"/wishes/{wish.id}/withdraw", {"reason": "公司临时有任务"}, lead_user)
    assert r.status_code == 200, r.text
    assert _callups(world, wish.id) == {a.id: "accepted", b.id: "withdrawn"}
    world.session.expire_all()
    back = world.session.get(Wish, wish.id)
    assert back is not None and (back.assignee_id, back.team_id) == (None, None)
    record = world.get(f"/teams/{team_id}/record", lead_user).json()
    assert record["wishes_taken"] == 0
    assert world.session.scalar(select(func.count()).select_from(Attendance)) == 1


def test_a_household_is_adopted_by_its_stations_coordinator(world: World) -> None:
    team_id, [(lead_user, _)] = _team_of(world, 0)
    household = Household(station_id=world.station.id, head_name="张奶奶",
                          coarse_address="山河村 2 组附近", consent_method="written",
                          consent_at=clock.now())  # fmt: skip
    world.session.add(household)
    world.session.flush()
    body = {"household_id": household.id, "note": "每月送米送油"}
    # Not by the lead, not by the centre's coordinator of another county, and one target only.
    r = world.post(f"/teams/{team_id}/adoptions", body, lead_user)
    assert (r.status_code, error(r)) == (403, "STAFF_ONLY")
    r = world.post(
        f"/teams/{team_id}/adoptions", {**body, "village_id": world.station.id}, world.coordinator
    )
    assert (r.status_code, error(r)) == (400, "ADOPTION_TARGET_REQUIRED")
    r = world.post(f"/teams/{team_id}/adoptions", body, world.coordinator)
    assert r.status_code == 201, r.text
    assert r.json()["household"] == "山河村 2 组附近" and "张" not in r.text
    help_ = world.get(f"/teams/{team_id}/help", lead_user).json()
    assert (help_["households_adopted"], help_["villages_adopted"]) == (1, 0)
