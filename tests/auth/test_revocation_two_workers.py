"""Revocation reaches every worker process: two uvicorn workers, each with its principal cache
on (30 s), serve one user; a suspension, a logout or an admin's role change made through one
of them stops the user's tokens in both within the feed's bound (1 s poll; we allow 2 s).

Sign-in goes through the fake WeChat server, as the mini-program does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy.orm import Session

from app.accounts.service import create_staff_user
from app.auth.users import ensure_role
from app.config import Environment, Settings
from app.db import make_engine, writer
from app.models.enums import AccountRole
from tests.conftest import TEST_SECRET, WECHAT_APP_ID, WECHAT_SECRET
from tests.fixtures.builders import KM_LNG, make_coordinator, make_tree
from tests.fixtures.databases import fresh_database
from tests.fixtures.fake_wechat import FakeWechat
from tests.fixtures.server import running_server

pytestmark = pytest.mark.server

BOUND_SECONDS = 2.0
PASSWORD = "coordinator-pass-1"


@dataclass
class Served:
    base: str
    station_id: int
    station_lat: float
    station_lng: float


@pytest.fixture(scope="module")
def served(
    engine_name: str, tmp_path_factory: pytest.TempPathFactory, fake_wechat: FakeWechat
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("revocation")
    with fresh_database(engine_name, tmp) as url:
        settings = Settings(env=Environment.TEST, database_url=url, secret_key=TEST_SECRET)
        engine = make_engine(url, settings)
        with Session(writer(engine), expire_on_commit=False) as session, session.begin():
            tree = make_tree(session)
            station = tree.stations[0]
            coordinator = make_coordinator(session, station)
            coordinator.username = "coord.two"
            admin = create_staff_user(
                session=session, name="管理员", username="admin.two", password=PASSWORD
            )
            ensure_role(session=session, user_id=admin.id, role=AccountRole.ADMIN)
            from app.auth.security import hash_password

            coordinator.password_hash = hash_password(PASSWORD)
        engine.dispose()
        assert station.lat is not None and station.lng is not None
        env = {
            "WECHAT_API_BASE": fake_wechat.url,
            "WECHAT_APP_ID": WECHAT_APP_ID,
            "WECHAT_APP_SECRET": WECHAT_SECRET,
            "PRINCIPAL_CACHE_SECONDS": "30",
            "REVOCATION_POLL_SECONDS": "1",
        }
        with running_server(
            url, TEST_SECRET, workers=2, log_path=Path(tmp) / "server.log", settings=env
        ) as base:
            yield Served(base, station.id, station.lat, station.lng)


def _bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def _spread(served: Served, path: str, headers: dict[str, str], n: int = 24) -> list[int]:
    """`n` requests, each on a new connection, so that both workers answer some."""
    statuses = []
    for _ in range(n):
        with httpx2.Client(base_url=served.base, timeout=30) as client:
            statuses.append(client.get(path, headers=headers).status_code)
    return statuses


def _until_refused(served: Served, path: str, headers: dict[str, str]) -> float:
    """Requests on new connections (both workers answer) from the moment the change was made
    until the bound has passed and then some: the latest moment a request sent then was still
    accepted (0 if none was), checking that everything after the bound is refused."""
    started = time.monotonic()
    last_accepted = 0.0
    late: list[int] = []
    while (sent := time.monotonic() - started) < BOUND_SECONDS + 1.5:
        with httpx2.Client(base_url=served.base, timeout=30) as client:
            status = client.get(path, headers=headers).status_code
        assert status in (200, 401), status
        if status == 200:
            last_accepted = sent
        if sent > BOUND_SECONDS:
            late.append(status)
    assert late and set(late) == {401}, late
    return last_accepted


def _wechat_user(served: Served, fake: FakeWechat, openid: str) -> dict[str, Any]:
    with httpx2.Client(base_url=served.base, timeout=30) as client:
        r = client.post("/api/v1/auth/wechat/login", json={"code": fake.login_code(openid=openid)})
        assert r.status_code == 200, r.text
        return dict(r.json())


def _staff(served: Served, username: str) -> dict[str, str]:
    with httpx2.Client(base_url=served.base, timeout=30) as client:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return _bearer(r.json())


def test_suspension_ends_sessions_in_both_workers(served: Served, fake_wechat: FakeWechat) -> None:
    user = _wechat_user(served, fake_wechat, "o-two-workers-volunteer")
    headers = _bearer(user)
    with httpx2.Client(base_url=served.base, timeout=30) as client:
        r = client.post(
            "/api/v1/me/volunteer",
            json={
                "home_station_id": served.station_id,
                "lat": served.station_lat,
                "lng": served.station_lng + 0.2 * KM_LNG,
            },
            headers=headers,
        )
        assert r.status_code == 201, r.text
        volunteer_id = r.json()["id"]
    # Both workers have the volunteer's principal cached (30 s).
    assert set(_spread(served, "/api/v1/me/offers", headers)) == {200}
    coordinator = _staff(served, "coord.two")
    with httpx2.Client(base_url=served.base, timeout=30) as client:
        r = client.post(
            f"/api/v1/volunteers/{volunteer_id}/suspend",
            json={"reason": "核实中"},
            headers=coordinator,
        )
        assert r.status_code == 200, r.text
    assert _until_refused(served, "/api/v1/me/offers", headers) <= BOUND_SECONDS
    assert set(_spread(served, "/api/v1/me/offers", headers)) == {401}


def test_logout_and_role_changes_end_sessions_in_both_workers(
    served: Served, fake_wechat: FakeWechat
) -> None:
    user = _wechat_user(served, fake_wechat, "o-two-workers-resident")
    headers = _bearer(user)
    assert set(_spread(served, "/api/v1/me", headers)) == {200}
    with httpx2.Client(base_url=served.base, timeout=30) as client:
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert _until_refused(served, "/api/v1/me", headers) <= BOUND_SECONDS

    # An admin revokes a coordinator's grant: the coordinator's staff session ends everywhere.
    coordinator = _staff(served, "coord.two")
    assert set(_spread(served, "/api/v1/wishes/review-queue", coordinator)) == {200}
    admin = _staff(served, "admin.two")
    with httpx2.Client(base_url=served.base, timeout=30) as client:
        me = client.get("/api/v1/me", headers=coordinator).json()
        grant = next(g for g in me["roles"] if g["role"] == "coordinator")
        r = client.delete(f"/api/v1/admin/users/{me['id']}/roles/{grant['id']}", headers=admin)
        assert r.status_code == 200, r.text
    assert _until_refused(served, "/api/v1/wishes/review-queue", coordinator) <= BOUND_SECONDS
