"""Service-record rules per unit: set by the unit's coordinators, inherited down the tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.rules.records import RULES
from tests.fixtures.builders import auth, make_coordinator, make_resident, make_tree

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_rules() -> Iterator[None]:
    RULES.forget()
    yield
    RULES.forget()


def test_rules_inherit_and_a_null_clears(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    county = make_coordinator(session, tree.county)
    station = make_coordinator(session, tree.stations[0])
    r = client.put(
        f"{API}/org-units/{tree.county.id}/record-rules",
        json={"fence_m": 900},
        headers=auth(county, settings),
    )
    assert r.status_code == 200, r.text
    assert r.json()["own"]["fence_m"] == 900

    r = client.put(
        f"{API}/org-units/{tree.stations[0].id}/record-rules",
        json={"points_per_hour": 20},
        headers=auth(station, settings),
    )
    assert r.status_code == 200, r.text
    effective = r.json()["effective"]
    assert (effective["fence_m"], effective["points_per_hour"]) == (900, 20)
    assert effective["rounding_minutes"] == 30  # the default

    r = client.put(
        f"{API}/org-units/{tree.stations[0].id}/record-rules",
        json={"points_per_hour": None},
        headers=auth(station, settings),
    )
    assert r.json()["effective"]["points_per_hour"] == 10
    r = client.get(
        f"{API}/org-units/{tree.stations[0].id}/record-rules", headers=auth(station, settings)
    )
    assert r.status_code == 200 and r.json()["own"]["points_per_hour"] is None


def test_an_unknown_star_ladder_is_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    county = make_coordinator(session, tree.county)
    r = client.put(
        f"{API}/org-units/{tree.county.id}/record-rules",
        json={"star_ladder": "no-such-ladder"},
        headers=auth(county, settings),
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "UNKNOWN_STAR_LADDER"


def test_residents_cannot_touch_rules(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    r = client.get(
        f"{API}/org-units/{tree.county.id}/record-rules", headers=auth(resident, settings)
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "STAFF_ONLY"
