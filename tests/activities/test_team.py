"""An activity taken as a team: the lead of a verified team names members, each accepts or
declines for themself; an acceptance is their sign-up (constraints, headcount, wait-list)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import ActivitySignup, Team, TeamMember, User, Volunteer
from tests.activities.conftest import Scene


def _team(scene: Scene, status: str = "verified") -> tuple[Team, list[tuple[User, Volunteer]]]:
    team = Team(unit_id=scene.station.id, kind="team", name="青年志愿服务队", status=status)
    scene.session.add(team)
    scene.session.flush()
    people = [scene.volunteer() for _ in range(3)]
    for i, (_, v) in enumerate(people):
        scene.session.add(
            TeamMember(
                team_id=team.id,
                volunteer_id=v.id,
                role="lead" if i == 0 else "member",
                status="active",
            )
        )
    scene.session.flush()
    return team, people


def test_lead_names_members_who_each_answer_for_themselves(scene: Scene) -> None:
    activity = scene.publish(headcount=1)
    team, people = _team(scene)
    lead = people[0][0]
    ids = [v.id for _, v in people[1:]]
    r = scene.post(
        f"/activities/{activity['id']}/team-signup",
        {"team_id": team.id, "volunteer_ids": ids},
        lead,
    )
    assert r.status_code == 201, r.text
    callups = r.json()["callups"]
    assert [c["status"] for c in callups] == ["named", "named"]
    # Naming signs nobody up (no forced assignment).
    assert scene.session.scalars(select(ActivitySignup)).all() == []
    assert "activity.callup" in scene.topics(people[1][0])
    # Another member cannot answer someone else's call-up.
    r = scene.post(f"/activity-callups/{callups[0]['id']}/accept", None, people[2][0])
    assert r.status_code == 404 and r.json()["error"]["code"] == "CALLUP_NOT_FOUND"
    r = scene.post(f"/activity-callups/{callups[0]['id']}/accept", None, people[1][0])
    assert r.status_code == 200, r.text
    assert r.json()["signup"]["status"] == "admitted"
    assert r.json()["signup"]["team_id"] == team.id
    # The headcount holds for teams too: the second acceptance waits.
    r = scene.post(f"/activity-callups/{callups[1]['id']}/accept", None, people[2][0])
    assert r.status_code == 200 and r.json()["signup"]["status"] == "waiting", r.text
    r = scene.post(f"/activity-callups/{callups[1]['id']}/decline", None, people[2][0])
    assert r.status_code == 409 and r.json()["error"]["code"] == "CALLUP_ALREADY_ANSWERED"


def test_only_a_verified_teams_lead_names_only_its_members(scene: Scene) -> None:
    activity = scene.publish()
    team, people = _team(scene)
    stranger = scene.volunteer()[1]
    body = {"team_id": team.id, "volunteer_ids": [people[1][1].id]}
    r = scene.post(f"/activities/{activity['id']}/team-signup", body, people[1][0])
    assert r.status_code == 403 and r.json()["error"]["code"] == "NOT_TEAM_LEAD"
    body = {"team_id": team.id, "volunteer_ids": [stranger.id]}
    r = scene.post(f"/activities/{activity['id']}/team-signup", body, people[0][0])
    assert r.status_code == 400 and r.json()["error"]["code"] == "NOT_TEAM_MEMBER"
    pending, others = _team(scene, status="pending")
    body = {"team_id": pending.id, "volunteer_ids": [others[1][1].id]}
    r = scene.post(f"/activities/{activity['id']}/team-signup", body, others[0][0])
    assert r.status_code == 403 and r.json()["error"]["code"] == "NOT_TEAM_LEAD"


def test_a_members_acceptance_meets_the_same_constraints(scene: Scene) -> None:
    activity = scene.publish(min_age=18)
    team, people = _team(scene)
    people[1][1].birth_date = date(2015, 1, 1)
    scene.session.flush()
    body = {"team_id": team.id, "volunteer_ids": [people[1][1].id]}
    [callup] = scene.post(f"/activities/{activity['id']}/team-signup", body, people[0][0]).json()[
        "callups"
    ]
    r = scene.post(f"/activity-callups/{callup['id']}/accept", None, people[1][0])
    assert r.status_code == 403 and r.json()["error"]["details"]["reasons"] == ["AGE_NOT_SUITABLE"]
    # Nothing was answered: the call-up still waits for a yes or no.
    r = scene.post(f"/activity-callups/{callup['id']}/decline", None, people[1][0])
    assert r.status_code == 200 and r.json()["callup"]["status"] == "declined", r.text
