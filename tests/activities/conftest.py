"""An activity's scene: a tree, a township coordinator who organises, volunteers at station 0,
the clock frozen at a Tuesday 10:00 in the city (2 March 2027)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.jobs.scheduler import Scheduler
from app.models import OrgUnit, OutboxMessage, User, Volunteer
from tests.conftest import BoundDatabase
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import Tree, auth, make_coordinator, make_tree, make_volunteer
from tests.fixtures.service import API, START


@pytest.fixture
def frozen() -> Iterator[Clock]:
    fake = Clock(START)
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)


def activity_body(unit: OrgUnit, **overrides: Any) -> dict[str, Any]:
    """A valid activity at the unit's point, on 重阳节 (its date computed), 09:00–11:30."""
    body: dict[str, Any] = {
        "unit_id": unit.id,
        "title": "重阳节敬老志愿活动",
        "description": "为社区老人理发、量血压、包饺子",
        "festival_code": "double_ninth",
        "start_time": "09:00",
        "end_time": "11:30",
        "place": "社区文化礼堂",
        "lat": unit.lat,
        "lng": unit.lng,
        "headcount": 3,
    }
    body.update(overrides)
    return body


@dataclass
class Scene:
    client: TestClient
    session: Session
    settings: Settings
    frozen: Clock
    tree: Tree
    coordinator: User
    scheduler: Scheduler

    @property
    def station(self) -> OrgUnit:
        return self.tree.stations[0]

    def volunteer(self, **kw: Any) -> tuple[User, Volunteer]:
        return make_volunteer(self.session, self.station, **kw)

    def post(self, path: str, body: Any = None, user: User | None = None) -> Any:
        return self.client.post(
            f"{API}{path}", json=body, headers=auth(user or self.coordinator, self.settings)
        )

    def patch(self, path: str, body: Any = None, user: User | None = None) -> Any:
        return self.client.patch(
            f"{API}{path}", json=body, headers=auth(user or self.coordinator, self.settings)
        )

    def get(self, path: str, user: User | None = None, **params: Any) -> Any:
        return self.client.get(
            f"{API}{path}", params=params, headers=auth(user or self.coordinator, self.settings)
        )

    def publish(self, **overrides: Any) -> dict[str, Any]:
        r = self.post("/activities", activity_body(self.station, **overrides))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def topics(self, user: User) -> list[str]:
        return list(
            self.session.scalars(
                select(OutboxMessage.topic)
                .where(OutboxMessage.recipient_id == user.id)
                .order_by(OutboxMessage.id)
            )
        )


@pytest.fixture
def scene(
    client: TestClient,
    session: Session,
    settings: Settings,
    frozen: Clock,
    engine: Engine,
    connection: Connection,
) -> Scene:
    tree = make_tree(session)
    return Scene(
        client=client,
        session=session,
        settings=settings,
        frozen=frozen,
        tree=tree,
        coordinator=make_coordinator(session, tree.townships[0]),
        scheduler=Scheduler(BoundDatabase(engine, connection)),
    )
