"""Grid workers (网格员) order for the residents of their station, and whoever orders for a
resident records how the resident consented."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.users import user_by_phone
from app.config import Settings
from app.models import Consent, Wish, WishEventRecord
from app.models.enums import AccountRole
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_coordinator,
    make_tree,
    make_user,
    wish_body,
)

API = "/api/v1"


def error(r: Any) -> str:
    return str(r.json()["error"]["code"])


def test_grid_worker_grants_name_a_village_station(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    admin = auth(make_admin(session), settings)
    user = make_user(session)
    url = f"{API}/admin/users/{user.id}/roles"
    for unit, status, code in (
        (None, 404, "ORG_UNIT_NOT_FOUND"),
        (tree.townships[0].id, 400, "GRID_WORKER_NOT_AT_STATION"),
    ):
        r = client.post(url, json={"role": "grid_worker", "org_unit_id": unit}, headers=admin)
        assert (r.status_code, error(r)) == (status, code), r.text
    station = tree.stations[0]
    r = client.post(url, json={"role": "grid_worker", "org_unit_id": station.id}, headers=admin)
    assert r.status_code == 200, r.text
    assert [(g["role"], g["org_unit_name"]) for g in r.json()["roles"]] == [
        ("grid_worker", station.name)
    ]


def test_a_grid_worker_orders_for_a_resident_with_their_consent(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station, elsewhere = tree.stations[0], tree.stations[1]
    grid = make_user(session, roles=[(AccountRole.GRID_WORKER, station)])
    h = auth(grid, settings)
    assert station.lat is not None and station.lng is not None
    resident = {
        "phone": "13700002222",
        "name": "赵爷爷",
        "consent": {"method": "written", "version": "1"},
    }
    body = wish_body(station.lat, station.lng, on_behalf_of=resident)

    # Their own station only.
    assert elsewhere.lat is not None and elsewhere.lng is not None
    r = client.post(
        f"{API}/wishes",
        json=wish_body(elsewhere.lat, elsewhere.lng, on_behalf_of=resident),
        headers=h,
    )
    assert (r.status_code, error(r)) == (403, "PROXY_NOT_ALLOWED")
    # The consent must name the text in force; nothing is created otherwise.
    stale = {**resident, "consent": {"method": "verbal", "version": "0"}}
    r = client.post(f"{API}/wishes", json={**body, "on_behalf_of": stale}, headers=h)
    assert (r.status_code, error(r)) == (400, "CONSENT_VERSION_UNKNOWN")
    missing = {k: v for k, v in resident.items() if k != "consent"}
    r = client.post(f"{API}/wishes", json={**body, "on_behalf_of": missing}, headers=h)
    assert r.status_code == 422
    assert user_by_phone(session, "13700002222") is None

    r = client.post(f"{API}/wishes", json=body, headers=h)
    assert r.status_code == 201, r.text
    wish = session.get(Wish, r.json()["id"])
    assert wish is not None and wish.proxy_id == grid.id
    requester = user_by_phone(session, "13700002222")
    assert requester is not None and wish.requester_id == requester.id
    [row] = session.scalars(select(Consent).where(Consent.user_id == requester.id)).all()
    assert (row.purpose, row.granted, row.version, row.method, row.recorded_by_id) == (
        "personal_info",
        True,
        "1",
        "written",
        grid.id,
    )
    event = session.scalars(select(WishEventRecord).where(WishEventRecord.wish_id == wish.id)).one()
    assert (event.actor_id, event.actor_role) == (grid.id, "requester")
    # As the one who ordered, they see the wish in full.
    seen = client.get(f"{API}/wishes/{wish.id}", headers=h).json()
    assert (seen["masked"], seen["full_address"]) == (False, "余村 3 组 12 号")


def test_a_coordinators_proxy_order_records_consent_too(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, station)
    assert station.lat is not None and station.lng is not None
    resident = {
        "phone": "13700003333",
        "name": "钱奶奶",
        "consent": {"method": "in_person", "version": "1"},
    }
    r = client.post(
        f"{API}/wishes",
        json=wish_body(station.lat, station.lng, on_behalf_of=resident),
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 201, r.text
    requester = user_by_phone(session, "13700003333")
    assert requester is not None
    [row] = session.scalars(select(Consent).where(Consent.user_id == requester.id)).all()
    assert (row.method, row.recorded_by_id) == ("in_person", coordinator.id)
