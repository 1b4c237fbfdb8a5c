"""Forty volunteers sign up for an activity of twelve places at the same moment, over HTTP,
against a running server: exactly twelve are admitted, the rest wait in line in order of
sign-up, the counter never passes the headcount; cancellations at the same moment pass each
freed place to the next in line, once each. Both engines, one and two server processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.db import writer
from app.models import Activity, ActivitySignup, OutboxMessage
from tests.activities.conftest import activity_body
from tests.fixtures.builders import auth, make_coordinator, make_tree, make_volunteer
from tests.fixtures.server import Served, served

pytestmark = pytest.mark.server

CONTENDERS = 40
HEADCOUNT = 12
CANCELLERS = 5


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def race(
    request: pytest.FixtureRequest, engine_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with served(engine_name, tmp_path_factory.mktemp("race"), workers=request.param) as live:
        yield live


def _all_at_once(
    race: Served, calls: list[Callable[[httpx2.Client], httpx2.Response]]
) -> list[httpx2.Response]:
    barrier = threading.Barrier(len(calls))
    out: list[httpx2.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        with httpx2.Client(base_url=race.base_url, timeout=60) as client:
            client.get("/healthz")  # connect before the start line
            barrier.wait()
            out[i] = calls[i](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [r for r in out if r is not None]
    assert len(done) == len(calls)
    return done


def test_headcount_is_never_exceeded_and_the_line_moves_in_order(race: Served) -> None:
    with Session(writer(race.engine), expire_on_commit=False) as session, session.begin():
        tree = make_tree(session)
        station = tree.stations[0]
        organiser = make_coordinator(session, tree.townships[0])
        people = [make_volunteer(session, station)[0] for _ in range(CONTENDERS)]
    start = clock.now() + timedelta(days=3)
    body = activity_body(
        station,
        festival_code=None,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        headcount=HEADCOUNT,
    )
    with httpx2.Client(base_url=race.base_url, timeout=60) as client:
        r = client.post("/api/v1/activities", json=body, headers=auth(organiser, race.settings))
        assert r.status_code == 201, r.text
        activity_id = r.json()["id"]
    headers = [auth(user, race.settings) for user in people]
    path = f"/api/v1/activities/{activity_id}/signup"
    answers = _all_at_once(
        race,
        [lambda c, h=h: c.post(path, headers=h) for h in headers],  # type: ignore[misc]
    )
    assert sorted(r.status_code for r in answers) == [200] * CONTENDERS, [
        r.text for r in answers if r.status_code != 200
    ]
    statuses = sorted(r.json()["status"] for r in answers)
    assert statuses == ["admitted"] * HEADCOUNT + ["waiting"] * (CONTENDERS - HEADCOUNT)
    positions = sorted(r.json()["position"] for r in answers if r.json()["status"] == "waiting")
    assert positions == list(range(1, CONTENDERS - HEADCOUNT + 1))

    with Session(race.engine) as session:
        assert session.get(Activity, activity_id).admitted == HEADCOUNT  # type: ignore[union-attr]
        line = list(
            session.scalars(
                select(ActivitySignup)
                .where(
                    ActivitySignup.activity_id == activity_id, ActivitySignup.status == "waiting"
                )
                .order_by(ActivitySignup.queued_at, ActivitySignup.id)
            )
        )
        admitted = list(
            session.scalars(
                select(ActivitySignup.user_id).where(
                    ActivitySignup.activity_id == activity_id, ActivitySignup.status == "admitted"
                )
            )
        )
    # Everyone admitted signed up no later than anyone waiting.
    assert max(r.json()["queued_at"] for r in answers if r.json()["status"] == "admitted") <= min(
        r.json()["queued_at"] for r in answers if r.json()["status"] == "waiting"
    )

    # Five holders cancel at once: the first five in line move up, each told once.
    by_user = {u.id: h for u, h in zip(people, headers, strict=True)}
    leaving = admitted[:CANCELLERS]
    cancel = f"/api/v1/activities/{activity_id}/signup/cancel"
    answers = _all_at_once(
        race,
        [lambda c, u=u: c.post(cancel, headers=by_user[u]) for u in leaving],  # type: ignore[misc]
    )
    assert [r.status_code for r in answers] == [200] * CANCELLERS, [r.text for r in answers]
    with Session(race.engine) as session:
        assert session.get(Activity, activity_id).admitted == HEADCOUNT  # type: ignore[union-attr]
        moved_up = {r.user_id for r in line[:CANCELLERS]}
        now_admitted = set(
            session.scalars(
                select(ActivitySignup.user_id).where(
                    ActivitySignup.activity_id == activity_id, ActivitySignup.status == "admitted"
                )
            )
        )
        assert now_admitted == (set(admitted) - set(leaving)) | moved_up
        told = list(
            session.scalars(
                select(OutboxMessage.recipient_id).where(OutboxMessage.topic == "activity.promoted")
            )
        )
        assert sorted(told) == sorted(moved_up)
