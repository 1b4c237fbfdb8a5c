"""The service catalogue: admins keep it, everyone signed in reads it, and wishes name only its
active entries."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    wish_body,
)

API = "/api/v1"
NEW = {"code": "river_cleanup", "name": "河道保洁", "risky": True, "min_age": 18}


def _codes(client: TestClient, headers: dict[str, str], **params: object) -> list[str]:
    r = client.get(f"{API}/catalogue", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return [entry["code"] for entry in r.json()["categories"]]


def test_an_admin_adds_a_category_that_wishes_may_then_name(
    client: TestClient, session: Session, settings: Settings
) -> None:
    admin, resident = make_admin(session), make_resident(session)
    station = make_tree(session).stations[0]
    assert station.lat is not None and station.lng is not None
    r = client.post(f"{API}/catalogue/categories", json=NEW, headers=auth(admin, settings))
    assert r.status_code == 201, r.text
    assert r.json() | {"is_active": True} == r.json()
    assert (r.json()["risky"], r.json()["min_age"]) == (True, 18)
    assert "river_cleanup" in _codes(client, auth(resident, settings))
    body = wish_body(station.lat, station.lng, category_code="river_cleanup")
    r = client.post(f"{API}/wishes", json=body, headers=auth(resident, settings))
    assert r.status_code == 201, r.text
    assert r.json()["category_code"] == "river_cleanup"


def test_a_code_is_added_once(client: TestClient, session: Session, settings: Settings) -> None:
    headers = auth(make_admin(session), settings)
    assert client.post(f"{API}/catalogue/categories", json=NEW, headers=headers).status_code == 201
    r = client.post(f"{API}/catalogue/categories", json=NEW, headers=headers)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "CATALOGUE_ENTRY_EXISTS"


def test_coordinators_read_but_do_not_keep_the_catalogue(
    client: TestClient, session: Session, settings: Settings
) -> None:
    station = make_tree(session).stations[0]
    headers = auth(make_coordinator(session, station), settings)
    assert _codes(client, headers)
    r = client.post(f"{API}/catalogue/categories", json=NEW, headers=headers)
    assert r.status_code == 403
    assert "river_cleanup" not in _codes(client, headers, include_inactive=True)


def test_a_retired_category_is_hidden_and_refused_to_new_wishes(
    client: TestClient, session: Session, settings: Settings
) -> None:
    admin, resident = make_admin(session), make_resident(session)
    station = make_tree(session).stations[0]
    assert station.lat is not None and station.lng is not None
    headers = auth(admin, settings)
    assert client.post(f"{API}/catalogue/categories", json=NEW, headers=headers).status_code == 201
    r = client.patch(
        f"{API}/catalogue/categories/river_cleanup", json={"is_active": False}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False
    assert "river_cleanup" not in _codes(client, auth(resident, settings))
    assert "river_cleanup" in _codes(client, headers, include_inactive=True)
    body = wish_body(station.lat, station.lng, category_code="river_cleanup")
    r = client.post(f"{API}/wishes", json=body, headers=auth(resident, settings))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "UNKNOWN_CATALOGUE_ENTRY"
    assert r.json()["error"]["details"]["unknown"] == {"category_code": ["river_cleanup"]}


def test_bad_entries_are_refused_and_change_nothing(
    client: TestClient, session: Session, settings: Settings
) -> None:
    headers = auth(make_admin(session), settings)
    r = client.post(
        f"{API}/catalogue/skills", json={"code": "welding", "name": "焊接", "min_age": 18},
        headers=headers,
    )  # fmt: skip
    assert (r.status_code, r.json()["error"]["code"]) == (400, "FIELD_NOT_APPLICABLE")
    r = client.post(
        f"{API}/catalogue/categories", json={**NEW, "min_age": 60, "max_age": 18},
        headers=headers,
    )  # fmt: skip
    assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    r = client.patch(f"{API}/catalogue/categories/no_such_code", json={}, headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "CATALOGUE_ENTRY_NOT_FOUND")
    r = client.get(f"{API}/catalogue", headers=headers, params={"include_inactive": True})
    assert "welding" not in [e["code"] for e in r.json()["skills"]]
    assert "river_cleanup" not in [e["code"] for e in r.json()["categories"]]


def test_skills_get_bits_of_their_own_until_the_masks_are_full(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Categories and skills each own a bit in the volunteers' masks; 64 is the most there is."""
    headers = auth(make_admin(session), settings)
    held = client.get(f"{API}/catalogue", headers=headers, params={"include_inactive": True})
    made = 0
    for n in range(64 - len(held.json()["skills"])):
        body = {"code": f"skill_{n}", "name": f"技能{n}"}
        r = client.post(f"{API}/catalogue/skills", json=body, headers=headers)
        assert r.status_code == 201, r.text
        made += 1
    r = client.post(
        f"{API}/catalogue/skills", json={"code": "one_too_many", "name": "多一项"}, headers=headers
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "CATALOGUE_FULL")
    after = client.get(f"{API}/catalogue", headers=headers, params={"include_inactive": True})
    assert len(after.json()["skills"]) == 64
    assert made > 0
