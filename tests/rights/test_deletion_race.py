"""A volunteer accepts a wish and deletes their account at the same moment, over HTTP, against a
running server: either the accept wins and the deletion is refused (the task is open work), or
the deletion wins and the accept is refused. Never a deleted account holding a task."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.orm import Session

from app.config import Environment, Settings
from app.db import make_engine, writer
from app.models import User, Wish
from app.models.enums import WishStatus
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import auth, make_resident, make_tree, make_volunteer, make_wish
from tests.fixtures.databases import fresh_database
from tests.fixtures.server import running_server

pytestmark = pytest.mark.server

ROUNDS = 12


def test_accept_and_deletion_at_once_never_leave_a_deleted_volunteer_holding_a_task(
    engine_name: str, tmp_path: Path
) -> None:
    with fresh_database(engine_name, tmp_path) as url:
        settings = Settings(env=Environment.TEST, database_url=url, secret_key=TEST_SECRET)
        engine = make_engine(url, settings)
        rounds = []
        with Session(writer(engine), expire_on_commit=False) as session, session.begin():
            tree = make_tree(session)
            station = tree.stations[0]
            resident = make_resident(session)
            for _ in range(ROUNDS):
                user, volunteer = make_volunteer(session, station)
                wish = make_wish(
                    session,
                    station=station,
                    requester=resident,
                    status=WishStatus.DISPATCHING,
                    offer_to=[volunteer],
                )
                rounds.append((user, wish.id))
        outcomes = []
        try:
            with running_server(url, TEST_SECRET, log_path=tmp_path / "server.log") as base:
                for user, wish_id in rounds:
                    headers = auth(user, settings)
                    barrier = threading.Barrier(2)
                    answers: dict[str, httpx2.Response] = {}

                    def send(
                        verb: str,
                        headers: dict[str, str] = headers,
                        wish_id: int = wish_id,
                        answers: dict[str, httpx2.Response] = answers,
                        barrier: threading.Barrier = barrier,
                    ) -> None:
                        with httpx2.Client(base_url=base, timeout=60) as client:
                            client.get("/healthz")
                            barrier.wait()
                            if verb == "accept":
                                answers[verb] = client.post(
                                    f"/api/v1/wishes/{wish_id}/accept", headers=headers
                                )
                            else:
                                answers[verb] = client.request(
                                    "DELETE",
                                    "/api/v1/me",
                                    json={"confirm": "注销账号"},
                                    headers=headers,
                                )

                    threads = [
                        threading.Thread(target=send, args=(v,)) for v in ("accept", "delete")
                    ]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    accept, delete = answers["accept"], answers["delete"]
                    assert accept.status_code < 500 and delete.status_code < 500, (
                        accept.text,
                        delete.text,
                    )
                    with Session(engine) as session:
                        wish = session.get(Wish, wish_id)
                        account = session.get(User, user.id)
                        assert wish is not None and account is not None
                        deleted = account.deleted_at is not None
                        held = wish.status == WishStatus.ACCEPTED
                        assert not (deleted and held), (accept.text, delete.text)
                        if deleted:
                            assert delete.status_code == 200 and accept.status_code in (401, 403)
                        else:
                            assert (accept.status_code, delete.status_code) == (200, 409)
                            assert delete.json()["error"]["details"]["tasks"] == [wish_id]
                    outcomes.append("deleted" if deleted else "accepted")
        finally:
            engine.dispose()
        print("outcomes:", {o: outcomes.count(o) for o in set(outcomes)})
