"""The expensive reads share a few slots (app/heavy.py): when they are taken, another statistics,
ranking, ledger or import request is refused at once with 429 and Retry-After, while the rest of
the API answers as usual; one caller cannot take every slot."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.heavy import HeavyWork
from app.main import API_PREFIX
from tests.fixtures.builders import auth, make_coordinator, make_tree

XLSX_EMPTY = b"PK\x05\x06" + b"\x00" * 18  # an empty zip: never read when refused first


def heavy_paths(unit_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", f"/org-units/{unit_id}/stats"),
        ("GET", f"/org-units/{unit_id}/stats/series?key=intake.wishes&bucket=week"),
        ("GET", f"/org-units/{unit_id}/stats/drill?key=intake.wishes"),
        ("GET", f"/org-units/{unit_id}/stats/export"),
        ("GET", f"/org-units/{unit_id}/ranking"),
        ("GET", f"/org-units/{unit_id}/ledger?format=pdf"),
        ("POST", f"/org-units/{unit_id}/imports/volunteers"),
    ]


def send(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    if method == "POST":
        r = client.post(API_PREFIX + path, headers=headers, files={"file": ("a.xlsx", XLSX_EMPTY)})
    else:
        r = client.get(API_PREFIX + path, headers=headers)
    return r.status_code


@pytest.fixture
def work(app: FastAPI) -> HeavyWork:
    found: HeavyWork = app.state.heavy
    return found


def test_every_heavy_route_is_refused_when_the_slots_are_taken(
    client: TestClient, session: Session, settings: Settings, work: HeavyWork
) -> None:
    tree = make_tree(session)
    me = make_coordinator(session, tree.townships[0])
    headers = auth(me, settings)
    unit = tree.townships[0].id
    with ExitStack() as held:
        for n in range(work.slots):
            held.enter_context(work.slot(-1 - n))  # others' requests, one each
        for method, path in heavy_paths(unit):
            r = (
                client.post(API_PREFIX + path, headers=headers, files={"file": ("a.xlsx", b"x")})
                if method == "POST"
                else client.get(API_PREFIX + path, headers=headers)
            )
            assert r.status_code == 429, (path, r.text)
            assert r.json()["error"]["code"] == "HEAVY_BUSY"
            assert int(r.headers["Retry-After"]) > 0
        # Everything else still answers, and the refused requests hold nothing.
        assert client.get(f"{API_PREFIX}/org-units/{unit}", headers=headers).status_code == 200
        assert client.get(f"{API_PREFIX}/volunteers", headers=headers).status_code == 200
        # Who is asking is known first: no token is 401, not a slot's refusal.
        assert client.get(f"{API_PREFIX}/org-units/{unit}/stats").status_code == 401
        assert work.running == work.slots
    assert work.running == 0
    for method, path in heavy_paths(unit):
        assert send(client, method, path, headers) != 429, path
    assert work.running == 0  # every slot is given back, errors included


def test_one_caller_cannot_take_every_slot(
    client: TestClient, session: Session, settings: Settings, work: HeavyWork
) -> None:
    tree = make_tree(session)
    me = make_coordinator(session, tree.townships[0])
    other = make_coordinator(session, tree.townships[0])
    path = f"{API_PREFIX}/org-units/{tree.townships[0].id}/stats/export"
    assert work.per_user < work.slots
    with ExitStack() as held:
        for _ in range(work.per_user):
            held.enter_context(work.slot(me.id))
        r = client.get(path, headers=auth(me, settings))
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "HEAVY_PER_USER"
        assert r.json()["error"]["details"]["max"] == work.per_user
        assert client.get(path, headers=auth(other, settings)).status_code == 200
    assert client.get(path, headers=auth(me, settings)).status_code == 200
