"""Concurrent confirmations of the same service record credit it once, over HTTP, against a
running server with two worker processes, on both engines.

Two people allowed to confirm (the coordinator and the requester, under a unit rule of
"either") and several retries of each press confirm at the same moment: exactly one 200, every
other 409 RECORD_ALREADY_CONFIRMED, one ledger entry, one points entry.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Environment, Settings
from app.db import make_engine, writer
from app.models import Attendance, HoursEntry, PointsEntry, RecordRules
from app.models.enums import WishStatus
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import (
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)
from tests.fixtures.databases import fresh_database
from tests.fixtures.server import running_server

pytestmark = pytest.mark.server

PRESSES = 12


@pytest.fixture(scope="module")
def base(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("confirm")
    with (
        fresh_database(engine_name, tmp) as url,
        running_server(url, TEST_SECRET, workers=2, log_path=Path(tmp) / "server.log") as server,
    ):
        yield url, server


def test_concurrent_confirmations_credit_once(base: tuple[str, str]) -> None:
    url, server = base
    settings = Settings(env=Environment.TEST, database_url=url, secret_key=TEST_SECRET)
    engine = make_engine(url, settings)
    try:
        now = clock.now()
        with Session(writer(engine), expire_on_commit=False) as session, session.begin():
            tree = make_tree(session)
            station = tree.stations[0]
            session.add(RecordRules(org_unit_id=station.id, confirm_by="either"))
            requester = make_resident(session)
            coordinator = make_coordinator(session, station)
            _, volunteer = make_volunteer(session, station)
            wish = make_wish(session, station=station, requester=requester,
                             status=WishStatus.COMPLETED, assignee=volunteer)  # fmt: skip
            begun = now - timedelta(hours=2)
            row = Attendance(wish_id=wish.id, volunteer_id=volunteer.id, unit_id=station.id,
                             is_lead=True, status="checked_out", checked_in_at=begun,
                             checked_out_at=now)  # fmt: skip
            session.add(row)
            session.flush()
            wish.wanted_start_at = now - timedelta(hours=2)
            wish.wanted_end_at = now
        people = [auth(coordinator, settings), auth(requester, settings)]
        barrier = threading.Barrier(PRESSES)
        responses: list[httpx2.Response | None] = [None] * PRESSES

        def press(i: int) -> None:
            with httpx2.Client(base_url=server, timeout=60) as client:
                client.get("/healthz")
                barrier.wait()
                responses[i] = client.post(
                    f"/api/v1/service-records/{row.id}/confirm", headers=people[i % 2]
                )

        threads = [threading.Thread(target=press, args=(i,)) for i in range(PRESSES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done = [r for r in responses if r is not None]
        codes = sorted(r.status_code for r in done)
        assert codes == [200] + [409] * (PRESSES - 1), [r.text for r in done]
        assert {r.json()["error"]["code"] for r in done if r.status_code == 409} == {
            "RECORD_ALREADY_CONFIRMED"
        }
        with Session(engine) as session:
            entries = session.scalars(
                select(HoursEntry.minutes).where(HoursEntry.attendance_id == row.id)
            ).all()
            assert entries == [120]
            earned = session.scalar(
                select(func.count())
                .select_from(PointsEntry)
                .where(PointsEntry.volunteer_id == volunteer.id)
            )
            assert earned == 1
    finally:
        engine.dispose()
