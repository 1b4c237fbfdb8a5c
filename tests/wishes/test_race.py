"""Fifty volunteers accept one wish at the same moment, over HTTP, against a running server.

Exactly one wins; every other gets 409 WISH_ALREADY_TAKEN; no 500, no "database is locked";
the event log holds exactly one accept. Run on both engines, with one and two server processes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import writer
from app.models import Offer, OutboxMessage, Wish, WishEventRecord
from app.models.enums import WishStatus
from tests.fixtures.builders import auth, make_resident, make_tree, make_volunteer, make_wish
from tests.fixtures.server import Served, served

pytestmark = pytest.mark.server

CONTENDERS = 50


Race = Served


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def race(
    request: pytest.FixtureRequest, engine_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with served(engine_name, tmp_path_factory.mktemp("race"), workers=request.param) as live:
        yield live


def _contest(race: Race, *, grab: bool) -> tuple[int, list[int], list[httpx2.Response]]:
    with Session(writer(race.engine), expire_on_commit=False) as session, session.begin():
        tree = make_tree(session)
        station = tree.stations[0]
        requester = make_resident(session)
        volunteers = [make_volunteer(session, station) for _ in range(CONTENDERS)]
        wish = make_wish(
            session,
            station=station,
            requester=requester,
            status=WishStatus.DISPATCHING,
            grab_open=grab,
            offer_to=None if grab else [v for _, v in volunteers],
        )
    headers = [auth(user, race.settings) for user, _ in volunteers]
    barrier = threading.Barrier(CONTENDERS)
    responses: list[httpx2.Response | None] = [None] * CONTENDERS

    def contend(i: int) -> None:
        with httpx2.Client(base_url=race.base_url, timeout=60) as client:
            client.get("/healthz")  # connect before the start line
            barrier.wait()
            responses[i] = client.post(f"/api/v1/wishes/{wish.id}/accept", headers=headers[i])

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(CONTENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [r for r in responses if r is not None]
    assert len(done) == CONTENDERS
    return wish.id, [v.id for _, v in volunteers], done


@pytest.mark.parametrize("grab", [False, True], ids=["directed-offers", "open-grab"])
def test_fifty_accept_one_wins(race: Race, grab: bool) -> None:
    wish_id, volunteer_ids, responses = _contest(race, grab=grab)

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (CONTENDERS - 1), [
        r.text for r in responses if r.status_code != 409
    ]
    losers = [r.json()["error"]["code"] for r in responses if r.status_code == 409]
    assert set(losers) == {"WISH_ALREADY_TAKEN"}
    winner = next(r.json() for r in responses if r.status_code == 200)

    with Session(race.engine) as session:
        wish = session.get(Wish, wish_id)
        assert wish is not None
        assert wish.status == WishStatus.ACCEPTED
        assert wish.assignee_id == winner["assignee"]["id"]
        assert wish.assignee_id in volunteer_ids
        accepts = session.scalar(
            select(func.count())
            .select_from(WishEventRecord)
            .where(WishEventRecord.wish_id == wish_id, WishEventRecord.event == "accept")
        )
        assert accepts == 1
        assert wish.version == 2  # one move from the seeded state, nothing else
        if not grab:
            states = session.execute(
                select(Offer.status, func.count())
                .where(Offer.wish_id == wish_id)
                .group_by(Offer.status)
            ).all()
            assert dict(states) == {"accepted": 1, "withdrawn": CONTENDERS - 1}
            # The other 49 are told the wish was taken.
            told = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.wish_id == wish_id, OutboxMessage.topic == "wish.taken")
            )
            assert told == CONTENDERS - 1
