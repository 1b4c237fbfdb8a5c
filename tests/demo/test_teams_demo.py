"""The demo's team and enterprise, read over HTTP as the county centre's coordinator."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.demo.city import COUNTY_CODE
from app.demo.seed import seed_demo
from app.demo.teams import ENTERPRISE, VILLAGE_TEAM
from app.models import Attendance, OrgUnit, User, Wish, WishEventRecord
from app.seasons.service import local_date
from tests.demo.test_seed import fast_password_hashing
from tests.fixtures.builders import auth

__all__ = ["fast_password_hashing"]

API = "/api/v1"


def test_the_demo_has_a_team_and_an_enterprise_with_history(
    client: TestClient, session: Session, settings: Settings
) -> None:
    seed_demo(session=session, history_wishes=0)
    centre = session.scalars(select(User).where(User.username == "coord-330523")).one()
    headers = auth(centre, settings)
    county = session.scalars(select(OrgUnit).where(OrgUnit.code == COUNTY_CODE)).one()
    r = client.get(f"{API}/teams", params={"unit_id": county.id}, headers=headers)
    assert r.status_code == 200, r.text
    teams = {t["name"]: t for t in r.json()["items"]}
    assert teams[VILLAGE_TEAM]["kind"] == "team" and teams[VILLAGE_TEAM]["status"] == "verified"
    enterprise = teams[ENTERPRISE]
    assert (enterprise["kind"], enterprise["status"]) == ("enterprise", "verified")
    assert enterprise["member_count"] == 5
    # One wish taken as a team: the lead and the two members who accepted served, one declined.
    [wish] = session.scalars(select(Wish).where(Wish.team_id == enterprise["id"])).all()
    assert wish.status == "closed" and wish.programme_code == "enterprises_households"
    events = session.scalars(
        select(WishEventRecord.event)
        .where(WishEventRecord.wish_id == wish.id)
        .order_by(WishEventRecord.id)
    ).all()
    assert events[:4] == ["submit", "approve", "offer", "accept"]
    r = client.get(f"{API}/wishes/{wish.id}/team-callups", headers=headers)
    assert sorted(c["status"] for c in r.json()) == ["accepted", "accepted", "declined"]
    records = session.scalars(select(Attendance).where(Attendance.wish_id == wish.id)).all()
    assert len(records) == 3 and {a.status for a in records} == {"credited"}
    since = {"from": (local_date() - timedelta(days=90)).isoformat()}
    # The enterprise's help is counted: the wish served, its hours, the village adopted.
    help_ = client.get(f"{API}/teams/{enterprise['id']}/help", params=since,
                       headers=headers).json()  # fmt: skip
    assert help_["wishes_served"] == 1 and help_["villages_adopted"] == 1
    hours = client.get(f"{API}/teams/{enterprise['id']}/hours", params=since,
                       headers=headers).json()  # fmt: skip
    assert hours["hours"] == help_["hours"] > 0
    assert len([m for m in hours["members"] if m["hours"] > 0]) == 3
