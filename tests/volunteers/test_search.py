"""GET /volunteers?name=: a coordinator finds volunteers of their subtree by name."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from tests.fixtures.builders import (
    auth,
    make_coordinator,
    make_tree,
    make_user,
    make_volunteer,
)
from tests.fixtures.paging import every_item

API = "/api/v1"


def test_volunteers_found_by_name_inside_the_subtree(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    me = make_coordinator(session, tree.townships[0])
    _, wang = make_volunteer(session, tree.stations[0], user=make_user(session, name="王晓峰"))
    _, wang2 = make_volunteer(session, tree.stations[1], user=make_user(session, name="小王"))
    make_volunteer(session, tree.stations[0], user=make_user(session, name="李娜"))
    make_volunteer(session, tree.stations[2], user=make_user(session, name="王outside"))
    _, odd = make_volunteer(session, tree.stations[1], user=make_user(session, name="张100%"))
    headers = auth(me, settings)

    def found(name: str) -> list[int]:
        return [v["id"] for v in every_item(client, "/volunteers", headers, name=name)]

    assert found("王") == [wang.id, wang2.id]
    assert found(" 晓峰 ") == [wang.id]
    assert found("%") == [odd.id]  # a wildcard typed in matches itself
    assert found("_") == []
    assert found("赵") == []
    items = every_item(client, "/volunteers", headers, name="晓峰")
    assert items[0]["masked"] is True and items[0]["name"] == "王晓峰"
    r = client.get(f"{API}/volunteers", params={"name": "x" * 51}, headers=headers)
    assert r.status_code == 422, r.text
