"""Households, pairings and visits are seen and acted on only inside the coordinator's subtree:
the coordinator of townships[0] acts at stations 0 and 1; at station 2 (townships[1]) every
route answers 404 with its own code and nothing changes. A volunteer who is not a pairing's
helper is told the pairing does not exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.models import Attendance, PairingVisit
from tests.fixtures.builders import (
    PROXY_CONSENT,
    Tree,
    auth,
    consent_to,
    make_coordinator,
    make_household,
    make_pairing,
    make_tree,
    make_volunteer,
)
from tests.fixtures.state import changed_tables, everything

API = "/api/v1"
INSIDE, OUTSIDE = 1, 2
REASON = {"reason": "核实后处理"}


@dataclass
class Place:
    """A household at a station, its pairing with a volunteer of the station, and a visit of
    that volunteer in progress."""

    tree: Tree
    index: int
    household_id: int
    pairing_id: int
    visit_id: int
    volunteer_id: int
    unit_id: int


def _place(session: Session, tree: Tree, index: int) -> Place:
    station = tree.stations[index]
    household = make_household(session, station)
    user, volunteer = make_volunteer(session, station)
    consent_to(session, user.id)
    pairing = make_pairing(session, household, volunteer=volunteer)
    now = clock.now()
    visit = PairingVisit(
        pairing_id=pairing.id,
        volunteer_id=volunteer.id,
        method="gps",
        started_at=now - timedelta(minutes=30),
        planned_end_at=now + timedelta(minutes=30),
        needs="缺一床棉被",
    )
    session.add(visit)
    session.flush()
    session.add(
        Attendance(
            visit_id=visit.id,
            volunteer_id=volunteer.id,
            unit_id=station.id,
            is_lead=True,
            status="in_service",
            checked_in_at=visit.started_at,
            check_in_received_at=visit.started_at,
            check_in_method="gps",
        )
    )
    session.flush()
    return Place(tree, index, household.id, pairing.id, visit.id, volunteer.id, station.id)


Build = Callable[[Place], tuple[str, dict[str, Any] | None]]


def _manual(p: Place) -> tuple[str, dict[str, Any]]:
    now = clock.now()
    body = {
        "volunteer_id": p.volunteer_id,
        "started_at": (now - timedelta(hours=3)).isoformat(),
        "ended_at": (now - timedelta(hours=2)).isoformat(),
        "reason": "老人家中无信号",
    }
    return f"/pairings/{p.pairing_id}/visits/manual", body


CASES: list[tuple[str, str, Build, int, str]] = [
    # method, route, request at the place, status inside, code outside
    (
        "POST",
        "/households",
        lambda p: (
            "/households",
            {
                "station_id": p.unit_id,
                "head_name": "李秀兰",
                "phone": "13800009999",
                "full_address": "5 组 2 号",
                "coarse_address": "5 组",
                "category_codes": ["disability"],
                "consent": PROXY_CONSENT,
            },
        ),
        201,
        "ORG_UNIT_NOT_FOUND",
    ),
    (
        "GET",
        "/org-units/{unit_id}/households",
        lambda p: (f"/org-units/{p.unit_id}/households", None),
        200,
        "ORG_UNIT_NOT_FOUND",
    ),
    (
        "GET",
        "/households/{household_id}",
        lambda p: (f"/households/{p.household_id}", None),
        200,
        "HOUSEHOLD_NOT_FOUND",
    ),
    (
        "PATCH",
        "/households/{household_id}",
        lambda p: (f"/households/{p.household_id}", {"coarse_address": "3 组东"}),
        200,
        "HOUSEHOLD_NOT_FOUND",
    ),
    (
        "POST",
        "/households/{household_id}/close",
        lambda p: (f"/households/{p.household_id}/close", None),
        409,  # its pairing is still on
        "HOUSEHOLD_NOT_FOUND",
    ),
    (
        "POST",
        "/households/{household_id}/reveal",
        lambda p: (f"/households/{p.household_id}/reveal", REASON),
        200,
        "HOUSEHOLD_NOT_FOUND",
    ),
    (
        "POST",
        "/pairings",
        lambda p: (
            "/pairings",
            {
                "household_id": p.household_id,
                "rhythm_days": 30,
                "helper": {"kind": "volunteer", "volunteer_id": p.volunteer_id},
                "start_date": clock.local_day(clock.now()).isoformat(),
            },
        ),
        201,
        "HOUSEHOLD_NOT_FOUND",
    ),
    (
        "GET",
        "/org-units/{unit_id}/pairings",
        lambda p: (f"/org-units/{p.unit_id}/pairings", None),
        200,
        "ORG_UNIT_NOT_FOUND",
    ),
    (
        "GET",
        "/pairings/{pairing_id}",
        lambda p: (f"/pairings/{p.pairing_id}", None),
        200,
        "PAIRING_NOT_FOUND",
    ),
    *(
        (
            "POST",
            f"/pairings/{{pairing_id}}/{verb}",
            (lambda v: lambda p: (f"/pairings/{p.pairing_id}/{v}", REASON))(verb),
            status,
            "PAIRING_NOT_FOUND",
        )
        for verb, status in (("pause", 200), ("resume", 409), ("end", 200))
    ),
    ("POST", "/pairings/{pairing_id}/visits/manual", _manual, 201, "PAIRING_NOT_FOUND"),
    (
        "POST",
        "/pairing-visits/{visit_id}/check-out",
        lambda p: (f"/pairing-visits/{p.visit_id}/check-out", REASON),
        200,
        "VISIT_NOT_FOUND",
    ),
    (
        "POST",
        "/pairing-visits/{visit_id}/wish",
        lambda p: (
            f"/pairing-visits/{p.visit_id}/wish",
            {"title": "添置棉被", "consent": PROXY_CONSENT},
        ),
        201,
        "VISIT_NOT_FOUND",
    ),
]
ROUTES = {(method, route) for method, route, *_ in CASES} | {
    ("POST", "/pairings/{pairing_id}/visits/check-in")
}


@pytest.mark.parametrize(
    ("method", "route", "build", "inside", "code"),
    [pytest.param(*case, id=f"{case[0]} {case[1]}") for case in CASES],
)
def test_pairing_routes_scope(
    client: TestClient,
    session: Session,
    settings: Settings,
    method: str,
    route: str,
    build: Build,
    inside: int,
    code: str,
) -> None:
    tree = make_tree(session)
    headers = auth(make_coordinator(session, tree.townships[0]), settings)
    outside = _place(session, tree, OUTSIDE)
    path, body = build(outside)
    before = everything(session)
    r = client.request(method, API + path, json=body, headers=headers)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == code
    assert changed_tables(before, everything(session)) == []
    path, body = build(_place(session, tree, INSIDE))
    r = client.request(method, API + path, json=body, headers=headers)
    assert r.status_code == inside, r.text


def test_visit_check_in_is_the_helpers_only(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Another volunteer (of the same station) is told the pairing does not exist."""
    tree = make_tree(session)
    place = _place(session, tree, INSIDE)
    stranger, _ = make_volunteer(session, tree.stations[INSIDE])
    consent_to(session, stranger.id)
    station = tree.stations[INSIDE]
    fix = {"lat": station.lat, "lng": station.lng}
    before = everything(session)
    r = client.post(
        f"{API}/pairings/{place.pairing_id}/visits/check-in",
        json=fix,
        headers=auth(stranger, settings),
    )
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "PAIRING_NOT_FOUND"
    assert changed_tables(before, everything(session)) == []
