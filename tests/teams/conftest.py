"""A county with a centre's coordinator, a station's coordinator and volunteers at the station,
on a clock frozen at a Tuesday 10:00 in the city (`tests.fixtures.service`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import OrgUnit, User, Volunteer, Wish
from app.models.enums import WishStatus
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    Tree,
    auth,
    consent_to,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)
from tests.fixtures.service import API, START, frozen

__all__ = ["frozen", "world"]

CREDIT_CODE = "91330523MA2B3C4D5E"


@dataclass
class World:
    client: TestClient
    session: Session
    settings: Settings
    frozen: Clock
    tree: Tree
    centre: User  # a coordinator of the county centre
    coordinator: User  # a coordinator of station 0
    requester: User

    @property
    def station(self) -> OrgUnit:
        return self.tree.stations[0]

    def volunteer(self, station: int = 0, **kw: Any) -> tuple[User, Volunteer]:
        user, volunteer = make_volunteer(self.session, self.tree.stations[station], **kw)
        consent_to(self.session, user.id, at=START - timedelta(days=1))
        return user, volunteer

    def h(self, user: User) -> dict[str, str]:
        return auth(user, self.settings)

    def post(self, path: str, body: Any, user: User) -> Any:
        return self.client.post(f"{API}{path}", json=body, headers=self.h(user))

    def get(self, path: str, user: User, **params: Any) -> Any:
        return self.client.get(f"{API}{path}", params=params, headers=self.h(user))

    def offered_wish(self, lead: Volunteer, **kw: Any) -> Wish:
        """A wish being dispatched, offered to `lead`, served today from 10:00 to 12:00."""
        wish = make_wish(
            self.session,
            station=self.station,
            requester=self.requester,
            status=WishStatus.DISPATCHING,
            offer_to=[lead],
            offer_expires_at=START + timedelta(minutes=30),
            **kw,
        )
        wish.wanted_start_at = START
        wish.wanted_end_at = START + timedelta(hours=2)
        self.session.flush()
        return wish

    def enterprise(self, lead: User, name: str = "安吉竹海生态科技有限公司") -> int:
        """Registered by `lead` (a volunteer) with the county centre and verified by it."""
        body = {"kind": "enterprise", "name": name, "unit_id": self.tree.county.id}
        r = self.post("/teams", body, lead)
        assert r.status_code == 201, r.text
        team_id = int(r.json()["id"])
        r = self.post(f"/teams/{team_id}/verify", None, self.centre)
        assert r.status_code == 200, r.text
        return team_id

    def join(self, team_id: int, user: User, approver: User) -> int:
        r = self.post(f"/teams/{team_id}/members", None, user)
        assert r.status_code == 201, r.text
        r = self.post(f"/team-members/{r.json()['id']}/approve", None, approver)
        assert r.status_code == 200, r.text
        return int(r.json()["id"])


@pytest.fixture
def world(client: TestClient, session: Session, settings: Settings, frozen: Clock) -> World:
    tree = make_tree(session)
    return World(
        client,
        session,
        settings,
        frozen,
        tree,
        centre=make_coordinator(session, tree.county),
        coordinator=make_coordinator(session, tree.stations[0]),
        requester=make_resident(session),
    )


def error(r: Any) -> str:
    return str(r.json()["error"]["code"])
