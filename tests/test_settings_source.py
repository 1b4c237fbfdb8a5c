"""Domain code reads the settings the app was built with, not the environment's.

An app built with explicit settings takes its time zone and its offer minutes from them: each
request runs with them as the current settings (middleware), and each worker step with its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings, current_settings, get_settings, settings_in_use
from app.db import Database
from app.main import create_app
from app.models import Offer
from tests.conftest import BoundDatabase
from tests.fixtures.builders import (
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    wish_body,
)

API = "/api/v1"
# 12:00 UTC is 20:00 on 1 December in Shanghai and 02:00 on 2 December at UTC+14.
NOON_UTC = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def own(settings: Settings) -> Settings:
    """Settings unlike the environment's in the parts this test watches."""
    return settings.model_copy(
        update={"timezone": "Pacific/Kiritimati", "default_offer_minutes": 7}
    )


@pytest.fixture
def own_client(own: Settings, engine: Engine, connection: Connection) -> Iterator[TestClient]:
    app: FastAPI = create_app(own, database=Database(engine))
    app.state.database = BoundDatabase(engine, connection)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def noon() -> Iterator[None]:
    clock.set_clock(lambda: NOON_UTC)
    try:
        yield
    finally:
        clock.set_clock(None)


def test_the_environment_differs_from_the_app(own: Settings) -> None:
    assert get_settings().timezone != own.timezone
    assert get_settings().default_offer_minutes != own.default_offer_minutes


@pytest.mark.usefixtures("noon")
def test_a_request_sees_the_apps_time_zone(
    own_client: TestClient, session: Session, own: Settings
) -> None:
    resident = make_resident(session)
    r = own_client.get(f"{API}/seasons/current", headers=auth(resident, own))
    assert r.status_code == 200, r.text
    assert r.json()["local_date"] == "2026-12-02"  # Shanghai would say 2026-12-01


def test_an_offer_lasts_the_apps_minutes(
    own_client: TestClient, session: Session, own: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = make_resident(session)
    coordinator = make_coordinator(session, station)
    _user, volunteer = make_volunteer(session, station, skills=("errands",))
    r = own_client.post(
        f"{API}/wishes", json=wish_body(station.lat, station.lng), headers=auth(resident, own)
    )
    assert r.status_code == 201, r.text
    wish_id = r.json()["id"]
    r = own_client.post(f"{API}/wishes/{wish_id}/approve", headers=auth(coordinator, own))
    assert r.status_code == 200, r.text
    r = own_client.post(
        f"{API}/wishes/{wish_id}/offer",
        json={"volunteer_ids": [volunteer.id]},
        headers=auth(coordinator, own),
    )
    assert r.status_code == 200, r.text
    offer = session.scalars(select(Offer).where(Offer.wish_id == wish_id)).one()
    assert offer.expires_at - offer.created_at == timedelta(minutes=7)


def test_settings_in_use_are_scoped(own: Settings) -> None:
    outside = current_settings()
    with settings_in_use(own):
        assert current_settings() is own
    assert current_settings() is outside
