"""Team leads and lone volunteers accept one wish at the same moment, over HTTP, against a
running server: exactly one wins; the wish is the winner's team's (or nobody's, when a lone
volunteer won) and only that team's members are called up."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import writer
from app.models import TeamCallup, Wish, WishEventRecord
from app.models.enums import WishStatus
from tests.fixtures.builders import (
    auth,
    make_resident,
    make_team,
    make_tree,
    make_volunteer,
    make_wish,
)
from tests.fixtures.server import Served, served

pytestmark = pytest.mark.server

TEAMS = 8
LONE = 8


@pytest.fixture(scope="module")
def live(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(engine_name, tmp_path_factory.mktemp("team-race"), workers=1) as server:
        yield server


def test_one_taker_among_teams_and_lone_volunteers(live: Served) -> None:
    with Session(writer(live.engine), expire_on_commit=False) as session, session.begin():
        tree = make_tree(session)
        station = tree.stations[0]
        leads, members, teams = [], [], []
        for _ in range(TEAMS):
            lead_user, lead = make_volunteer(session, station)
            _, member = make_volunteer(session, station)
            teams.append(make_team(session, station, lead=lead, members=(member,)).id)
            leads.append((lead_user, lead))
            members.append(member)
        lone = [make_volunteer(session, station) for _ in range(LONE)]
        wish = make_wish(session, station=station, requester=make_resident(session),
                         status=WishStatus.DISPATCHING,
                         offer_to=[v for _, v in leads] + [v for _, v in lone])  # fmt: skip
    as_team = [
        {"team_id": team, "member_ids": [member.id]}
        for team, member in zip(teams, members, strict=True)
    ]
    calls = [
        (auth(user, live.settings), "accept-as-team", body)
        for (user, _), body in zip(leads, as_team, strict=True)
    ] + [(auth(user, live.settings), "accept", None) for user, _ in lone]  # fmt: skip
    barrier = threading.Barrier(len(calls))
    responses: list[httpx2.Response | None] = [None] * len(calls)

    def contend(i: int) -> None:
        headers, verb, body = calls[i]
        with httpx2.Client(base_url=live.base_url, timeout=60) as client:
            client.get("/healthz")
            barrier.wait()
            responses[i] = client.post(
                f"/api/v1/wishes/{wish.id}/{verb}", json=body, headers=headers
            )

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [r for r in responses if r is not None]
    assert sorted(r.status_code for r in done) == [200] + [409] * (len(calls) - 1), [
        r.text for r in done if r.status_code != 409
    ]
    assert {r.json()["error"]["code"] for r in done if r.status_code == 409} == {
        "WISH_ALREADY_TAKEN"
    }
    [winner] = [i for i, r in enumerate(responses) if r is not None and r.status_code == 200]
    with Session(live.engine) as session:
        taken = session.get(Wish, wish.id)
        assert taken is not None
        accepts = session.scalars(
            select(WishEventRecord.id).where(
                WishEventRecord.wish_id == wish.id, WishEventRecord.event == "accept"
            )
        ).all()
        assert len(accepts) == 1
        callups = session.scalars(select(TeamCallup).where(TeamCallup.wish_id == wish.id)).all()
        if winner < TEAMS:
            assert (taken.assignee_id, taken.team_id) == (leads[winner][1].id, teams[winner])
            assert [(c.team_id, c.volunteer_id) for c in callups] == [
                (teams[winner], members[winner].id)
            ]
        else:
            assert (taken.assignee_id, taken.team_id) == (lone[winner - TEAMS][1].id, None)
            assert callups == []
