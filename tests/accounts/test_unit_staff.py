"""GET /org-units/{unit_id}/staff: the coordinators and grid workers of a coordinator's units,
phones masked, paged, filtered by role."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.models.enums import AccountRole
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_coordinator,
    make_tree,
    make_user,
    make_volunteer,
)
from tests.fixtures.paging import every_item

API = "/api/v1"


def test_staff_of_the_subtree_masked_and_paged(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    township = tree.townships[0]
    me = make_coordinator(session, township, name="沈丽华", phone="13957208866")
    at_station = make_coordinator(session, tree.stations[1], name="王站长", phone="13900001111")
    grid = make_user(session, name="李网格", roles=[(AccountRole.GRID_WORKER, tree.stations[0])])
    outside = make_coordinator(session, tree.stations[2])
    above = make_coordinator(session, tree.county)
    make_volunteer(session, tree.stations[0])  # a volunteer is not staff

    items = every_item(client, f"/org-units/{township.id}/staff", auth(me, settings))
    assert [(i["user_id"], i["role"], i["unit"]["id"]) for i in items] == [
        (me.id, "coordinator", township.id),
        (at_station.id, "coordinator", tree.stations[1].id),
        (grid.id, "grid_worker", tree.stations[0].id),
    ]
    first = items[0]
    assert first["name"] == "沈丽华" and first["phone"] == "139****8866"
    assert first["unit"] == {"id": township.id, "name": township.name, "level": "township"}
    assert "13957208866" not in str(items) and "13900001111" not in str(items)
    assert {outside.id, above.id}.isdisjoint({i["user_id"] for i in items})

    grid_only = every_item(
        client, f"/org-units/{township.id}/staff", auth(me, settings), role="grid_worker"
    )
    assert [i["user_id"] for i in grid_only] == [grid.id]

    # A station of the subtree lists only its own people.
    station = every_item(client, f"/org-units/{tree.stations[1].id}/staff", auth(me, settings))
    assert [i["user_id"] for i in station] == [at_station.id]

    # An admin sees the whole tree, the county's coordinator among them.
    everyone = every_item(
        client, f"/org-units/{tree.city.id}/staff", auth(make_admin(session), settings)
    )
    assert {me.id, at_station.id, grid.id, outside.id, above.id} <= {i["user_id"] for i in everyone}


def test_staff_outside_the_subtree_or_by_a_volunteer_is_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    me = make_coordinator(session, tree.townships[0])
    r = client.get(f"{API}/org-units/{tree.townships[1].id}/staff", headers=auth(me, settings))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ORG_UNIT_NOT_FOUND")
    r = client.get(f"{API}/org-units/{tree.county.id}/staff", headers=auth(me, settings))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ORG_UNIT_NOT_FOUND")
    volunteer, _ = make_volunteer(session, tree.stations[0])
    r = client.get(
        f"{API}/org-units/{tree.stations[0].id}/staff", headers=auth(volunteer, settings)
    )
    assert r.status_code == 403, r.text
    r = client.get(
        f"{API}/org-units/{tree.townships[0].id}/staff",
        params={"role": "admin"},
        headers=auth(me, settings),
    )
    assert r.status_code == 422, r.text
