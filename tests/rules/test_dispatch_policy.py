"""Dispatch policies per unit: set by the unit's coordinators, inherited down the tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.rules.dispatch import POLICIES
from tests.fixtures.builders import auth, make_coordinator, make_resident, make_tree

API = "/api/v1"


@pytest.fixture(autouse=True)
def _fresh_policies() -> Iterator[None]:
    POLICIES.forget()
    yield
    POLICIES.forget()


def test_policy_inherits_and_scopes(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    county = make_coordinator(session, tree.county)
    station_coordinator = make_coordinator(session, tree.stations[0])
    r = client.put(
        f"{API}/org-units/{tree.county.id}/dispatch-policy",
        json={"offer_k": 5, "quiet_start": "21:30", "quiet_end": "07:30"},
        headers=auth(county, settings),
    )
    assert r.status_code == 200, r.text
    assert r.json()["own"]["offer_k"] == 5

    # A station inherits the county's settings and overrides one of its own.
    r = client.put(
        f"{API}/org-units/{tree.stations[0].id}/dispatch-policy",
        json={"offer_minutes": 15},
        headers=auth(station_coordinator, settings),
    )
    assert r.status_code == 200, r.text
    effective = r.json()["effective"]
    assert (effective["offer_k"], effective["offer_minutes"], effective["quiet_start"]) == (
        5,
        15,
        "21:30",
    )
    assert effective["offer_rounds"] == 2  # the default

    # A null clears the unit's own value: it inherits again.
    r = client.put(
        f"{API}/org-units/{tree.stations[0].id}/dispatch-policy",
        json={"offer_minutes": None},
        headers=auth(station_coordinator, settings),
    )
    assert r.json()["effective"]["offer_minutes"] == 30

    # The station's coordinator cannot set the county's policy, nor see a sibling's.
    r = client.put(
        f"{API}/org-units/{tree.county.id}/dispatch-policy",
        json={"offer_k": 1},
        headers=auth(station_coordinator, settings),
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "ORG_UNIT_NOT_FOUND"
    r = client.get(
        f"{API}/org-units/{tree.stations[1].id}/dispatch-policy",
        headers=auth(station_coordinator, settings),
    )
    assert r.status_code == 404
    r = client.get(
        f"{API}/org-units/{tree.stations[1].id}/dispatch-policy", headers=auth(county, settings)
    )
    assert r.status_code == 200 and r.json()["effective"]["offer_k"] == 5


@pytest.mark.parametrize(
    "body",
    [
        {"offer_k": 0},
        {"offer_k": 21},
        {"radius_growth": 0.5},
        {"quiet_start": "25:00", "quiet_end": "07:00"},
        {"unknown": 1},
        {"offer_minutes": "soon"},
    ],
)
def test_bad_policy_is_refused(
    client: TestClient, session: Session, settings: Settings, body: dict[str, object]
) -> None:
    tree = make_tree(session)
    county = make_coordinator(session, tree.county)
    r = client.put(
        f"{API}/org-units/{tree.county.id}/dispatch-policy",
        json=body,
        headers=auth(county, settings),
    )
    assert r.status_code == 422
    r = client.get(
        f"{API}/org-units/{tree.county.id}/dispatch-policy", headers=auth(county, settings)
    )
    assert set(r.json()["own"].values()) == {None}


def test_half_a_quiet_window_is_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    county = make_coordinator(session, tree.county)
    r = client.put(
        f"{API}/org-units/{tree.county.id}/dispatch-policy",
        json={"quiet_start": "23:00"},
        headers=auth(county, settings),
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "QUIET_HOURS_INCOMPLETE"


def test_residents_cannot_touch_policies(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    r = client.get(
        f"{API}/org-units/{tree.county.id}/dispatch-policy", headers=auth(resident, settings)
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "STAFF_ONLY"
