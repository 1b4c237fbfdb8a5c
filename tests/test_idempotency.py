"""Idempotency-Key: a retried request is answered with the first response and changes nothing.

Through the app in one process (concurrent retries against a real server are in
`test_idempotency_race.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock, idempotency
from app.config import Settings
from app.db import WRITE_METHODS
from app.jobs.scheduler import Scheduler
from app.main import API_PREFIX
from app.models import Attendance, IdempotencyKey, OrgUnit, PointsEntry, User, Volunteer, Wish
from app.models.enums import WishStatus
from app.routing import KeylessRoute, Route
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    auth,
    consent_to,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    wish_body,
)
from tests.fixtures.state import changed_tables, everything

API = API_PREFIX
KEY = "3f6c2a1e-8d4b-4c1a-9e7f-2b5d6a8c9e01"
START = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # a Tuesday, 10:00 in the city


@pytest.fixture
def frozen() -> Iterator[Clock]:
    fake = Clock(START)
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)


@dataclass
class Scene:
    client: TestClient
    session: Session
    settings: Settings
    station: OrgUnit
    coordinator: User
    resident: User

    def post(
        self, path: str, body: Any = None, user: User | None = None, key: str | None = KEY
    ) -> Any:
        headers = auth(user or self.resident, self.settings)
        if key is not None:
            headers[idempotency.HEADER] = key
        return self.client.post(f"{API}{path}", json=body, headers=headers)

    def order(self, **overrides: Any) -> dict[str, Any]:
        assert self.station.lat is not None and self.station.lng is not None
        return wish_body(self.station.lat, self.station.lng, **overrides)

    def count(self, model: Any) -> int:
        self.session.expire_all()
        return self.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def scene(client: TestClient, session: Session, settings: Settings, frozen: Clock) -> Scene:
    tree = make_tree(session)
    station = tree.stations[0]
    scene = Scene(
        client,
        session,
        settings,
        station,
        make_coordinator(session, station),
        make_resident(session),
    )
    # Signed in before the test takes its snapshots (auth() then reuses the session).
    auth(scene.resident, settings)
    auth(scene.coordinator, settings)
    return scene


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


# ---------------------------------------------------------------- the same request again


def test_a_retried_order_creates_one_wish_and_gets_the_first_answer(scene: Scene) -> None:
    wishes = scene.count(Wish)
    first = scene.post("/wishes", scene.order())
    assert first.status_code == 201, first.text
    assert idempotency.REPLAYED_HEADER not in first.headers
    before = everything(scene.session)
    again = scene.post("/wishes", scene.order())
    assert again.status_code == 201
    assert again.headers[idempotency.REPLAYED_HEADER] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.content == first.content
    assert changed_tables(before, everything(scene.session)) == []
    assert scene.count(Wish) == wishes + 1


def test_a_json_body_is_the_same_request_in_any_key_order_or_spacing(scene: Scene) -> None:
    body = scene.order()
    first = scene.post("/wishes", body)
    assert first.status_code == 201, first.text
    headers = {
        **auth(scene.resident, scene.settings),
        idempotency.HEADER: KEY,
        "content-type": "application/json",
    }
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2, ensure_ascii=False)
    again = scene.client.post(f"{API}/wishes", content=reordered.encode(), headers=headers)
    assert (again.status_code, again.headers.get(idempotency.REPLAYED_HEADER)) == (201, "true")
    assert again.json() == first.json()


def test_the_same_key_for_another_request_is_refused(scene: Scene) -> None:
    first = scene.post("/wishes", scene.order())
    assert first.status_code == 201, first.text
    before = everything(scene.session)
    other_body = scene.post("/wishes", scene.order(title="帮忙换灯泡"))
    other_path = scene.post(f"/wishes/{first.json()['id']}/cancel", {})
    for r in (other_body, other_path):
        assert r.status_code == 422, r.text
        assert error_code(r) == "IDEMPOTENCY_KEY_REUSED"
        assert r.json()["error"]["details"] == {"method": "POST", "path": f"{API}/wishes"}
        assert "幂等键" in r.json()["error"]["message"]
    assert changed_tables(before, everything(scene.session)) == []
    # Without the key, the cancel is an ordinary request.
    r = scene.post(f"/wishes/{first.json()['id']}/cancel", {}, key=None)
    assert (r.status_code, r.json()["status"]) == (200, "cancelled"), r.text


def test_keys_belong_to_one_user(scene: Scene) -> None:
    neighbour = make_resident(scene.session)
    mine = scene.post("/wishes", scene.order())
    theirs = scene.post("/wishes", scene.order(), user=neighbour)
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert idempotency.REPLAYED_HEADER not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    owners = scene.session.scalars(
        select(IdempotencyKey.user_id).where(IdempotencyKey.key == KEY)
    ).all()
    assert sorted(owners) == sorted([scene.resident.id, neighbour.id])


def test_keys_expire_after_24_hours_and_the_scheduler_removes_them(
    scene: Scene, frozen: Clock
) -> None:
    order = scene.order(wanted_end_at=(frozen.now + timedelta(days=3)).isoformat())
    first = scene.post("/wishes", order)
    assert first.status_code == 201, first.text
    frozen.advance(hours=23, minutes=59)
    again = scene.post("/wishes", order)
    assert again.headers.get(idempotency.REPLAYED_HEADER) == "true", again.text
    frozen.advance(minutes=1)
    # Expired: the key is free again, and the request runs as a new one.
    later = scene.post("/wishes", order)
    assert later.status_code == 201, later.text
    assert idempotency.REPLAYED_HEADER not in later.headers
    assert later.json()["id"] != first.json()["id"]
    # The scheduler's housekeeping deletes keys past their time, and only those.
    other = scene.post("/wishes", scene.order(), key="another-key")
    assert other.status_code == 201
    frozen.advance(hours=24)
    fresh = scene.post("/wishes", scene.order(), key="fresh-key")
    assert fresh.status_code == 201
    scheduler = Scheduler(scene.client.app.state.database)  # type: ignore[attr-defined]
    assert scheduler.housekeeping(frozen.now) == 2
    scene.session.expire_all()
    assert scene.session.scalars(select(IdempotencyKey.key)).all() == ["fresh-key"]


def test_errors_are_not_stored_so_the_key_can_run_again(scene: Scene, frozen: Clock) -> None:
    """A refused request changes nothing and keeps no key: sent again, it is judged again."""
    past = (frozen.now - timedelta(days=1)).isoformat()
    late = scene.order(
        wanted_start_at=past, wanted_end_at=(frozen.now - timedelta(hours=1)).isoformat()
    )
    before = everything(scene.session)
    for _ in range(2):
        r = scene.post("/wishes", late)
        assert (r.status_code, error_code(r)) == (400, "INVALID_TIME_WINDOW"), r.text
        assert idempotency.REPLAYED_HEADER not in r.headers
    assert changed_tables(before, everything(scene.session)) == []
    # The corrected request, with the same key, goes through.
    r = scene.post("/wishes", scene.order())
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "钥匙", "tab\there", "new\nline"],
    ids=["empty", "too-long", "not-ascii", "tab", "newline"],
)
def test_a_malformed_key_is_a_validation_error(scene: Scene, key: str) -> None:
    headers = auth(scene.resident, scene.settings)
    before = everything(scene.session)
    r = scene.client.post(
        f"{API}/wishes",
        json=scene.order(),
        headers={**headers, idempotency.HEADER: key.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert r.status_code == 422, r.text
    assert error_code(r) == "VALIDATION_ERROR"
    locations = [e["loc"] for e in r.json()["error"]["details"]["errors"]]
    assert locations == [["header", idempotency.HEADER]]
    assert changed_tables(before, everything(scene.session)) == []


def test_the_longest_key_and_every_printable_character_are_accepted(scene: Scene) -> None:
    printable = "".join(chr(c) for c in range(0x21, 0x7F))
    for key in ("k" * 255, printable):
        r = scene.post("/wishes", scene.order(), key=key)
        assert r.status_code == 201, r.text
        again = scene.post("/wishes", scene.order(), key=key)
        assert again.headers.get(idempotency.REPLAYED_HEADER) == "true"


# ---------------------------------------------------------------- replays of the loop's steps


@dataclass
class Served:
    scene: Scene
    user: User
    volunteer: Volunteer
    wish: Wish

    @property
    def place(self) -> dict[str, float]:
        assert self.wish.lat is not None and self.wish.lng is not None
        return {"lat": self.wish.lat, "lng": self.wish.lng}


@pytest.fixture
def served(scene: Scene) -> Served:
    """A wish offered to a volunteer (who consented to location at check-in), now in its
    window."""
    user, volunteer = make_volunteer(scene.session, scene.station)
    consent_to(scene.session, user.id, at=START - timedelta(days=1))
    wish = make_wish(
        scene.session,
        station=scene.station,
        requester=scene.resident,
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
    )
    wish.wanted_start_at, wish.wanted_end_at = START, START + timedelta(hours=2)
    scene.session.flush()
    return Served(scene, user, volunteer, wish)


def _twice(scene: Scene, path: str, body: Any, user: User, key: str) -> Any:
    """Send the request, then again with the same key: the second is the first's answer and
    changes nothing."""
    first = scene.post(path, body, user, key=key)
    assert 200 <= first.status_code < 300, first.text
    before = everything(scene.session)
    again = scene.post(path, body, user, key=key)
    assert again.status_code == first.status_code
    assert again.headers.get(idempotency.REPLAYED_HEADER) == "true"
    assert again.content == first.content
    assert changed_tables(before, everything(scene.session)) == []
    return first.json()


def test_replays_of_accept_check_in_check_out_confirm_and_redeem(
    served: Served, frozen: Clock
) -> None:
    scene, wish, volunteer = served.scene, served.wish, served.user
    accepted = _twice(scene, f"/wishes/{wish.id}/accept", None, volunteer, "accept-1")
    assert accepted["status"] == "accepted"
    checked_in = _twice(scene, f"/wishes/{wish.id}/check-in", served.place, volunteer, "in-1")
    assert checked_in["status"] == "in_service"
    frozen.advance(hours=2)
    out = {**served.place, "summary": "陪老人买菜"}
    checked_out = _twice(scene, f"/wishes/{wish.id}/check-out", out, volunteer, "out-1")
    assert checked_out["status"] == "completed"
    record_id = scene.session.scalar(select(Attendance.id).where(Attendance.wish_id == wish.id))
    confirmed = _twice(
        scene, f"/service-records/{record_id}/confirm", {}, scene.coordinator, "confirm-1"
    )
    assert (confirmed["status"], confirmed["credited_hours"]) == ("credited", 2.0)
    redeemed = _twice(
        scene,
        f"/volunteers/{served.volunteer.id}/points/redemptions",
        {"points": 5, "item": "洗衣液一瓶"},
        scene.coordinator,
        "redeem-1",
    )
    assert (redeemed["balance"], redeemed["replayed"]) == (15, False)
    spent = scene.session.scalars(
        select(PointsEntry.points).where(
            PointsEntry.volunteer_id == served.volunteer.id, PointsEntry.kind == "redeem"
        )
    ).all()
    assert spent == [-5]


def test_a_failed_step_keeps_no_key(served: Served) -> None:
    """Checking in before accepting is refused and leaves no key; after accepting, the same
    key checks in."""
    scene, wish, volunteer = served.scene, served.wish, served.user
    r = scene.post(f"/wishes/{wish.id}/check-in", served.place, volunteer, key="in-1")
    assert r.status_code == 409, r.text
    assert scene.count(IdempotencyKey) == 0
    assert scene.post(f"/wishes/{wish.id}/accept", None, volunteer, key=None).status_code == 200
    r = scene.post(f"/wishes/{wish.id}/check-in", served.place, volunteer, key="in-1")
    assert (r.status_code, r.json()["status"]) == (200, "in_service"), r.text


# ---------------------------------------------------------------- which routes take keys


def _routes(routes: Any) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


def test_every_api_route_is_made_by_make_router(app: FastAPI) -> None:
    api = [
        r
        for r in _routes(app.routes)
        # Health probes and the API's documentation pages are not API routes.
        if r.path not in {"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc"}
        and hasattr(r, "dependant")
    ]
    assert len(api) > 50
    assert [r.path for r in api if not isinstance(r, Route)] == []
    keyless = sorted((r.path, m) for r in api if isinstance(r, KeylessRoute) for m in r.methods)
    assert keyless == [
        ("/admin/users", "POST"),  # hashes a password before any transaction
        ("/admin/users/{user_id}/reset-password", "POST"),  # answers a temporary password
        ("/auth/dev-login", "POST"),
        ("/auth/login", "POST"),
        ("/auth/logout", "POST"),
        ("/auth/password", "POST"),
        ("/auth/refresh", "POST"),
        ("/auth/wechat/login", "POST"),
        ("/auth/wechat/phone", "POST"),
        ("/me", "GET"),
    ]


def test_the_openapi_document_declares_the_header_where_it_is_taken(app: FastAPI) -> None:
    declared, absent = set(), set()
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            headers = [
                p for p in operation.get("parameters", []) if p["name"] == idempotency.HEADER
            ]
            if headers:
                [header] = headers
                assert header["in"] == "header" and header["required"] is False
                assert header["schema"]["anyOf"][0]["maxLength"] == 255
                declared.add((method.upper(), path.removeprefix(API)))
            else:
                absent.add((method.upper(), path.removeprefix(API)))
    writes_without = sorted(route for route in absent if route[0] in WRITE_METHODS)
    assert writes_without == [
        ("POST", "/admin/users"),  # hashes a password before any transaction; retry: 409
        ("POST", "/admin/users/{user_id}/reset-password"),  # answers a password: never stored
        ("POST", "/auth/dev-login"),
        ("POST", "/auth/login"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/password"),
        ("POST", "/auth/refresh"),
        ("POST", "/auth/wechat/login"),
        ("POST", "/auth/wechat/phone"),
        ("POST", "/org-units/{unit_id}/dispatch-plan"),  # computes; changes nothing
    ]
    assert all(method in WRITE_METHODS for method, _ in declared)
    assert ("POST", "/wishes") in declared and (
        "DELETE",
        "/admin/users/{user_id}/roles/{grant_id}",
    ) in declared


def test_sign_in_stores_no_key(scene: Scene) -> None:
    headers = {idempotency.HEADER: KEY}
    r = scene.client.post(f"{API}/auth/dev-login", json={"phone": "13812345678"}, headers=headers)
    assert r.status_code == 200, r.text
    assert scene.count(IdempotencyKey) == 0
