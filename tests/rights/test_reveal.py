"""Default views mask personal data; full data comes only through reveals, each logged in the
same transaction; the access log is the admins' to read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.geo import coarse_point
from app.models import AccessLog, OrgUnit, User
from app.models.enums import WishStatus
from app.rights import retention
from tests.fixtures.builders import (
    Tree,
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    wish_body,
)

API = "/api/v1"


@dataclass
class Scene:
    client: TestClient
    session: Session
    settings: Settings
    tree: Tree
    station: OrgUnit
    coordinator: User
    resident: User

    def h(self, user: User) -> dict[str, str]:
        return auth(user, self.settings)

    def get(self, path: str, user: User, **params: Any) -> Any:
        r = self.client.get(API + path, headers=self.h(user), params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def reveal(self, wish_id: int, user: User, **body: Any) -> Any:
        return self.client.post(
            f"{API}/wishes/{wish_id}/reveal", json=body or None, headers=self.h(user)
        )

    def log(self) -> list[AccessLog]:
        self.session.expire_all()
        return list(self.session.scalars(select(AccessLog).order_by(AccessLog.id)))


@pytest.fixture
def scene(client: TestClient, session: Session, settings: Settings) -> Scene:
    tree = make_tree(session)
    return Scene(
        client=client,
        session=session,
        settings=settings,
        tree=tree,
        station=tree.stations[0],
        coordinator=make_coordinator(session, tree.townships[0]),
        resident=make_resident(session, phone="13800009999"),
    )


def error(r: Any) -> str:
    return str(r.json()["error"]["code"])


def test_detail_is_masked_and_the_requester_sees_their_own_in_full(scene: Scene) -> None:
    assert scene.station.lat is not None and scene.station.lng is not None
    body = wish_body(scene.station.lat, scene.station.lng + 0.00123)
    r = scene.client.post(f"{API}/wishes", json=body, headers=scene.h(scene.resident))
    assert r.status_code == 201, r.text
    own = r.json()
    assert own["masked"] is False
    assert (own["full_address"], own["contact_phone"]) == ("余村 3 组 12 号", "13800001111")
    assert (own["lat"], own["lng"]) == (body["lat"], body["lng"])
    assert own["requester"]["phone"] == "13800009999"
    seen = scene.get(f"/wishes/{own['id']}", scene.coordinator)
    assert seen["masked"] is True and seen["can_reveal"] is True
    assert seen["full_address"] is None and seen["coarse_address"] == "余村 3 组附近"
    assert seen["contact_phone"] == "138****1111"
    assert seen["requester"] == {
        "id": scene.resident.id,
        "name": scene.resident.name,
        "phone": "138****9999",
    }
    assert (seen["lat"], seen["lng"]) == coarse_point(body["lat"], body["lng"])  # type: ignore[arg-type]
    assert scene.log() == []  # reading the masked view reveals nothing


def test_a_coordinators_reveal_is_logged_and_admins_read_the_log(scene: Scene) -> None:
    wish = make_wish(scene.session, station=scene.station, requester=scene.resident)
    r = scene.reveal(wish.id, scene.coordinator, reason="电话核实需求")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["acting_as"] == "coordinator"
    assert (shown["contact_phone"], shown["requester"]["phone"]) == ("13800000000", "13800009999")
    assert shown["full_address"] == wish.full_address
    [entry] = scene.log()
    assert (entry.actor_id, entry.subject_user_id, entry.wish_id) == (
        scene.coordinator.id,
        scene.resident.id,
        wish.id,
    )
    assert (entry.actor_role, entry.purpose, entry.reason) == (
        "coordinator",
        "coordinate",
        "电话核实需求",
    )
    assert entry.fields == "contact_phone,full_address,location,phone"
    admin = make_admin(scene.session)
    page = scene.get("/admin/access-log", admin, subject_user_id=scene.resident.id)
    assert [(e["actor_name"], e["fields"]) for e in page["items"]] == [
        (scene.coordinator.name, ["contact_phone", "full_address", "location", "phone"])
    ]
    mine = scene.get("/me/access-log", scene.resident)
    assert [(e["actor_role"], e["purpose"], e["wish_id"]) for e in mine["items"]] == [
        ("coordinator", "coordinate", wish.id)
    ]
    r = scene.client.get(f"{API}/admin/access-log", headers=scene.h(scene.coordinator))
    assert (r.status_code, error(r)) == (403, "ADMIN_ONLY")


@pytest.mark.parametrize(
    ("status", "may"),
    [
        (WishStatus.DISPATCHING, False),  # offered, not accepted
        (WishStatus.ACCEPTED, True),
        (WishStatus.IN_SERVICE, True),
        (WishStatus.COMPLETED, True),
        (WishStatus.RATED, True),
        (WishStatus.CLOSED, False),
    ],
)
def test_the_volunteer_reveals_from_acceptance_until_closed(
    scene: Scene, status: WishStatus, may: bool
) -> None:
    user, volunteer = make_volunteer(scene.session, scene.station)
    taken = status != WishStatus.DISPATCHING
    wish = make_wish(
        scene.session,
        station=scene.station,
        requester=scene.resident,
        status=status,
        assignee=volunteer if taken else None,
        offer_to=None if taken else [volunteer],
    )
    detail = scene.get(f"/wishes/{wish.id}", user)
    assert detail["can_reveal"] is may
    r = scene.reveal(wish.id, user)
    if not may:
        assert (r.status_code, error(r)) == (403, "REVEAL_NOT_ALLOWED")
        assert scene.log() == []
        return
    assert r.status_code == 200, r.text
    assert r.json()["full_address"] == wish.full_address
    assert r.json()["assignee"] is None  # their own phone is not news to them
    [entry] = scene.log()
    assert (entry.actor_id, entry.actor_role, entry.purpose) == (user.id, "volunteer", "serve_wish")


def test_strangers_get_404_and_nothing_is_logged(scene: Scene) -> None:
    wish = make_wish(scene.session, station=scene.station, requester=scene.resident)
    stranger, _ = make_volunteer(scene.session, scene.station)
    outsider = make_coordinator(scene.session, scene.tree.townships[1])
    for user in (stranger, outsider, make_resident(scene.session)):
        r = scene.reveal(wish.id, user)
        assert (r.status_code, error(r)) == (404, "WISH_NOT_FOUND")
    assert scene.log() == []


def test_the_requester_reveals_the_volunteers_phone(scene: Scene) -> None:
    user, volunteer = make_volunteer(scene.session, scene.station)
    wish = make_wish(
        scene.session,
        station=scene.station,
        requester=scene.resident,
        status=WishStatus.ACCEPTED,
        assignee=volunteer,
    )
    detail = scene.get(f"/wishes/{wish.id}", scene.resident)
    assert detail["assignee"]["phone"] == f"{user.phone[:3]}****{user.phone[-4:]}"  # type: ignore[index]
    r = scene.reveal(wish.id, scene.resident)
    assert r.status_code == 200, r.text
    assert r.json()["assignee"] == {"id": user.id, "name": user.name, "phone": user.phone}
    [entry] = scene.log()  # their own side is theirs: only the volunteer's phone is logged
    assert (entry.subject_user_id, entry.volunteer_id, entry.fields, entry.purpose) == (
        user.id,
        volunteer.id,
        "phone",
        "contact_volunteer",
    )


def test_erased_data_is_not_revealed(scene: Scene) -> None:
    wish = make_wish(
        scene.session, station=scene.station, requester=scene.resident, status=WishStatus.CANCELLED
    )
    retention.erase_wishes(scene.session, [wish.id], clock.now())
    scene.session.expire_all()
    r = scene.reveal(wish.id, scene.coordinator)
    assert r.status_code == 200, r.text
    shown = r.json()
    assert (shown["full_address"], shown["contact_phone"], shown["requester"]["phone"]) == (
        None,
        None,
        None,
    )
    assert scene.log() == []


def test_volunteers_are_listed_masked_and_revealed_with_a_log(scene: Scene) -> None:
    user, volunteer = make_volunteer(scene.session, scene.station, birth_date=date(1990, 5, 1))
    volunteer.id_number = "11010519491231002X"
    volunteer.home_point = (30.6381234, 119.6801234)
    scene.session.flush()
    [row] = [
        v for v in scene.get("/volunteers", scene.coordinator)["items"] if v["id"] == volunteer.id
    ]
    masked_phone = f"{user.phone[:3]}****{user.phone[-4:]}"  # type: ignore[index]
    assert (row["phone"], row["birth_date"], row["id_number"], row["masked"]) == (
        masked_phone,
        None,
        "1101**********002X",
        True,
    )
    assert row["age_band"] in {"30–39岁", "40–49岁"}  # depends on today's date
    assert scene.get(f"/volunteers/{volunteer.id}", scene.coordinator)["phone"] == masked_phone
    own = scene.get(f"/volunteers/{volunteer.id}", user)
    assert (own["phone"], own["birth_date"], own["masked"]) == (user.phone, "1990-05-01", False)
    assert scene.log() == []

    outsider = make_coordinator(scene.session, scene.tree.townships[1])
    r = scene.client.post(f"{API}/volunteers/{volunteer.id}/reveal", headers=scene.h(outsider))
    assert (r.status_code, error(r)) == (404, "VOLUNTEER_NOT_FOUND")
    r = scene.client.post(f"{API}/volunteers/{volunteer.id}/reveal", headers=scene.h(user))
    assert (r.status_code, error(r)) == (403, "STAFF_ONLY")
    assert scene.log() == []
    r = scene.client.post(
        f"{API}/volunteers/{volunteer.id}/reveal",
        json={"reason": "办理保险"},
        headers=scene.h(scene.coordinator),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["phone"], r.json()["id_number"], r.json()["birth_date"]) == (
        user.phone,
        "11010519491231002X",
        "1990-05-01",
    )
    assert (r.json()["lat"], r.json()["lng"]) == (30.6381234, 119.6801234)
    [entry] = scene.log()
    assert (entry.subject_user_id, entry.volunteer_id, entry.fields, entry.reason) == (
        user.id,
        volunteer.id,
        "birth_date,id_number,location,phone",
        "办理保险",
    )


def test_a_coordinators_record_export_is_logged(scene: Scene) -> None:
    user, volunteer = make_volunteer(scene.session, scene.station)
    r = scene.client.get(
        f"{API}/volunteers/{volunteer.id}/record-export", headers=scene.h(scene.coordinator)
    )
    assert r.status_code == 200, r.text
    assert r.json()["basic"]["phone"] == user.phone
    [entry] = scene.log()
    assert (entry.purpose, entry.fields) == ("record_export", "phone")
    # The volunteer's own export is theirs.
    r = scene.client.get(f"{API}/me/record-export", headers=scene.h(user))
    assert r.status_code == 200 and len(scene.log()) == 1


def test_the_access_log_pages_newest_first_and_filters(scene: Scene) -> None:
    wishes = [
        make_wish(scene.session, station=scene.station, requester=scene.resident) for _ in range(5)
    ]
    other = make_coordinator(scene.session, scene.station)
    for i, wish in enumerate(wishes):
        r = scene.reveal(wish.id, scene.coordinator if i % 2 else other)
        assert r.status_code == 200, r.text
    admin = make_admin(scene.session)
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = scene.get("/admin/access-log", admin, **params)
        seen += [e["wish_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [w.id for w in reversed(wishes)]
    by_other = scene.get("/admin/access-log", admin, actor_id=other.id)["items"]
    assert [e["wish_id"] for e in by_other] == [wishes[4].id, wishes[2].id, wishes[0].id]
    by_wish = scene.get("/admin/access-log", admin, wish_id=wishes[1].id)["items"]
    assert [e["actor_id"] for e in by_wish] == [scene.coordinator.id]


@pytest.mark.parametrize(
    "statement", ["UPDATE access_log SET reason = 'x'", "DELETE FROM access_log"]
)
def test_the_access_log_is_append_only(scene: Scene, statement: str) -> None:
    wish = make_wish(scene.session, station=scene.station, requester=scene.resident)
    assert scene.reveal(wish.id, scene.coordinator).status_code == 200
    connection = scene.session.connection()
    savepoint = connection.begin_nested()
    with pytest.raises((DatabaseError, IntegrityError)) as raised:
        connection.execute(text(statement))
    savepoint.rollback()
    assert "append-only" in str(raised.value)
    assert scene.session.scalar(select(func.count()).select_from(AccessLog)) == 1
