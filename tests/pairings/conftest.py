"""A station with a coordinator, a helper volunteer (location consent given) and the clock frozen
at a Tuesday 10:00 in the city; `World` registers households and pairings through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.config import Settings
from app.jobs.scheduler import Scheduler
from app.models import OrgUnit, User, Volunteer
from tests.conftest import BoundDatabase
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    PROXY_CONSENT,
    Tree,
    auth,
    consent_to,
    make_coordinator,
    make_tree,
    make_volunteer,
)
from tests.fixtures.service import START, frozen

__all__ = ["World", "frozen", "world"]

API = "/api/v1"
# About 100 m north-east of the station: the household's door.
NEAR = (0.0007, 0.0007)


@dataclass
class World:
    client: TestClient
    session: Session
    settings: Settings
    frozen: Clock
    scheduler: Scheduler
    tree: Tree
    station: OrgUnit
    coordinator: User
    helper: User
    volunteer: Volunteer

    def h(self, user: User | None = None) -> dict[str, str]:
        return auth(user or self.coordinator, self.settings)

    def post(self, path: str, body: Any = None, user: User | None = None) -> Any:
        return self.client.post(f"{API}{path}", json=body, headers=self.h(user))

    def get(self, path: str, user: User | None = None, **params: Any) -> Any:
        return self.client.get(f"{API}{path}", params=params, headers=self.h(user))

    @property
    def door(self) -> dict[str, float]:
        assert self.station.lat is not None and self.station.lng is not None
        return {"lat": self.station.lat + NEAR[0], "lng": self.station.lng + NEAR[1]}

    def household(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "station_id": self.station.id,
            "head_name": "潘桂英",
            "phone": "13800000201",
            "full_address": "余村 3 组 18 号",
            "coarse_address": "余村 3 组",
            **self.door,
            "category_codes": ["elderly_alone"],
            "consent": PROXY_CONSENT,
            **overrides,
        }
        r = self.post("/households", body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def pairing(self, household_id: int, **overrides: Any) -> dict[str, Any]:
        body = {
            "household_id": household_id,
            "helper": {"kind": "volunteer", "volunteer_id": self.volunteer.id},
            "rhythm_days": 7,
            "start_date": START.date().isoformat(),
            **overrides,
        }
        r = self.post("/pairings", body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def run_timers(self, at: datetime) -> int:
        self.frozen.at(at)
        return self.scheduler.run_due(at)


@pytest.fixture
def world(
    client: TestClient,
    session: Session,
    settings: Settings,
    frozen: Clock,
    engine: Engine,
    connection: Connection,
) -> World:
    tree = make_tree(session)
    station = tree.stations[0]
    helper, volunteer = make_volunteer(session, station)
    consent_to(session, helper.id, at=START - timedelta(days=1))
    return World(
        client,
        session,
        settings,
        frozen,
        Scheduler(BoundDatabase(engine, connection)),
        tree,
        station,
        make_coordinator(session, station),
        helper,
        volunteer,
    )
