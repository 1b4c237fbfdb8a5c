"""The same offline check-in (one nonce) sent eight times at once, over HTTP, against a running
server, on both engines, with one and two server processes: every copy answers alike (200, the
wish in service), for the wish's lead and for a team member, and the check is recorded once.

Before, PostgreSQL answered the copies that lost the race 409 while SQLite (whose writers run
one at a time) answered 200: checks with a nonce now take a lock on the wish first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.db import writer
from app.models import Attendance, User, Wish, WishEventRecord
from app.models.enums import WishStatus
from tests.fixtures.builders import (
    auth,
    consent_to,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)
from tests.fixtures.server import Served, all_at_once, served

pytestmark = pytest.mark.server

CHECKERS = 8


Server = Served


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def server(
    request: pytest.FixtureRequest, engine_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with served(engine_name, tmp_path_factory.mktemp("nonce"), workers=request.param) as live:
        yield live


@dataclass
class Team:
    wish: Wish
    lead: User
    member: User
    member_volunteer_id: int


def _serving_team(server: Server) -> Team:
    """An accepted wish in its window, its lead and a team member, both consenting to
    location at check-in."""
    now = clock.now()
    with Session(writer(server.engine), expire_on_commit=False) as session, session.begin():
        station = make_tree(session).stations[0]
        lead, lead_volunteer = make_volunteer(session, station)
        member, member_volunteer = make_volunteer(session, station)
        wish = make_wish(
            session,
            station=station,
            requester=make_resident(session),
            status=WishStatus.ACCEPTED,
            assignee=lead_volunteer,
        )
        wish.wanted_start_at = now - timedelta(minutes=10)
        wish.wanted_end_at = now + timedelta(hours=2)
        session.add(
            Attendance(
                wish_id=wish.id,
                volunteer_id=member_volunteer.id,
                unit_id=station.id,
                is_lead=False,
                status="assigned",
            )
        )
        for user in (lead, member):
            consent_to(session, user.id, at=now - timedelta(days=1))
    return Team(wish, lead, member, member_volunteer.id)


def test_concurrent_same_nonce_check_ins_answer_alike(server: Server) -> None:
    team = _serving_team(server)
    place = {"lat": team.wish.lat, "lng": team.wish.lng}
    path = f"/api/v1/wishes/{team.wish.id}/check-in"
    for user, nonce in ((team.lead, "lead-check-in-01"), (team.member, "team-check-in-01")):
        headers = auth(user, server.settings)
        body = {**place, "nonce": nonce}
        responses = all_at_once(
            server.base_url, CHECKERS, lambda c, b=body, h=headers: c.post(path, json=b, headers=h)
        )
        answers = [(r.status_code, r.json().get("status")) for r in responses]
        assert answers == [(200, "in_service")] * CHECKERS, [r.text for r in responses]
    with Session(server.engine) as session:
        rows = session.execute(
            select(Attendance.volunteer_id, Attendance.status, Attendance.check_in_nonce)
            .where(Attendance.wish_id == team.wish.id)
            .order_by(Attendance.is_lead)
        ).all()
        assert [(status, nonce) for _, status, nonce in rows] == [
            ("in_service", "team-check-in-01"),
            ("in_service", "lead-check-in-01"),
        ]
        check_ins = session.scalar(
            select(func.count())
            .select_from(WishEventRecord)
            .where(WishEventRecord.wish_id == team.wish.id, WishEventRecord.event == "check_in")
        )
        assert check_ins == 1
        wish = session.get(Wish, team.wish.id)
        assert wish is not None and (wish.status, wish.version) == (WishStatus.IN_SERVICE, 2)
