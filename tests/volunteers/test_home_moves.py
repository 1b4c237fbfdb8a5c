"""Setting and moving one's home location is limited and logged (coarse cells only)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings, get_settings
from app.geo import coarse_point
from app.models import HomeMove, OrgUnit, User, Volunteer
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import auth, make_coordinator, make_tree, make_user

API = "/api/v1"


@pytest.fixture
def frozen() -> Iterator[Clock]:
    fake = Clock(datetime(2027, 3, 2, 2, 0, tzinfo=UTC))
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)


@pytest.fixture
def limits() -> tuple[int, int]:
    settings = get_settings()
    return settings.home_moves_per_day, settings.home_moves_per_30_days


def _register(client: TestClient, user: User, station: OrgUnit, settings: Settings) -> Any:
    assert station.lat is not None and station.lng is not None
    body = {"home_station_id": station.id, "lat": station.lat + 0.0012, "lng": station.lng}
    r = client.post(f"{API}/me/volunteer", json=body, headers=auth(user, settings))
    assert r.status_code == 201, r.text
    return r.json()


def _move(client: TestClient, user: User, settings: Settings, lat: float, lng: float) -> Any:
    return client.patch(
        f"{API}/me/volunteer", json={"lat": lat, "lng": lng}, headers=auth(user, settings)
    )


def test_moves_are_limited_per_day_and_logged_as_coarse_cells(
    client: TestClient,
    session: Session,
    settings: Settings,
    frozen: Clock,
    limits: tuple[int, int],
) -> None:
    per_day, _ = limits
    assert per_day == 3
    station = make_tree(session).stations[0]
    assert station.lat is not None and station.lng is not None
    user = make_user(session)
    profile = _register(client, user, station, settings)
    # Registration is the first setting of the home: it counts.
    points = [(station.lat + 0.0123 * i, station.lng + 0.0071 * i) for i in range(1, per_day)]
    for lat, lng in points:
        frozen.advance(minutes=10)
        r = _move(client, user, settings, lat, lng)
        assert r.status_code == 200, r.text
    # The same point again is no move.
    r = _move(client, user, settings, *points[-1])
    assert r.status_code == 200, r.text

    frozen.advance(minutes=10)
    volunteer = session.get(Volunteer, profile["id"])
    assert volunteer is not None
    session.refresh(volunteer)
    before = (volunteer.lat, volunteer.lng, volunteer.service_radius_m)
    r = client.patch(
        f"{API}/me/volunteer",
        json={"lat": station.lat, "lng": station.lng, "service_radius_m": 1000},
        headers=auth(user, settings),
    )
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["code"] == "HOME_MOVE_LIMITED"
    assert "常住地点修改过于频繁" in error["message"]
    assert "请 23 小时 30 分钟后再试" in error["message"]
    # The first setting (registration) leaves the 24-hour window 23 h 30 min from now.
    assert r.headers["Retry-After"] == str(23 * 3600 + 30 * 60)
    assert error["details"]["retry_after_seconds"] == 23 * 3600 + 30 * 60
    # Nothing of the refused request was applied, not even its other fields.
    session.refresh(volunteer)
    assert (volunteer.lat, volunteer.lng, volunteer.service_radius_m) == before
    # Other changes without a move still go through.
    r = client.patch(
        f"{API}/me/volunteer", json={"service_radius_m": 1000}, headers=auth(user, settings)
    )
    assert r.status_code == 200, r.text

    rows = session.scalars(
        select(HomeMove).where(HomeMove.volunteer_id == volunteer.id).order_by(HomeMove.id)
    ).all()
    assert len(rows) == per_day
    first = rows[0]
    assert (first.from_coarse_lat, first.from_coarse_lng) == (None, None)
    assert (first.to_coarse_lat, first.to_coarse_lng) == coarse_point(
        station.lat + 0.0012, station.lng
    )
    for row, (lat, lng) in zip(rows[1:], points, strict=True):
        assert (row.to_coarse_lat, row.to_coarse_lng) == coarse_point(lat, lng)
        assert row.actor_id == user.id
    for row in rows:  # coarse cells only: two decimals, never the exact point
        for value in (row.to_coarse_lat, row.to_coarse_lng):
            assert value == round(value, 2)

    r = client.get(f"{API}/me/volunteer/home-moves", headers=auth(user, settings))
    assert r.status_code == 200, r.text
    mine = r.json()
    assert mine["allowance"]["remaining_today"] == 0
    assert mine["allowance"]["next_allowed_at"] is not None
    assert [m["id"] for m in mine["items"]] == [row.id for row in reversed(rows)]

    # A day after registration, one move is allowed again.
    frozen.advance(hours=23, minutes=30)
    r = _move(client, user, settings, station.lat, station.lng)
    assert r.status_code == 200, r.text
    r = _move(client, user, settings, station.lat + 0.02, station.lng)
    assert r.status_code == 429


def test_the_30_day_limit(
    client: TestClient,
    session: Session,
    settings: Settings,
    frozen: Clock,
    limits: tuple[int, int],
) -> None:
    _, per_month = limits
    station = make_tree(session).stations[0]
    assert station.lat is not None and station.lng is not None
    user = make_user(session)
    _register(client, user, station, settings)
    for i in range(1, per_month):
        frozen.advance(hours=12)
        r = _move(client, user, settings, station.lat + 0.001 * i, station.lng)
        assert r.status_code == 200, (i, r.text)
    frozen.advance(hours=12)
    r = _move(client, user, settings, station.lat, station.lng)
    assert r.status_code == 429
    # The registration, 5 days ago, leaves the 30-day window in 25 days.
    assert int(r.headers["Retry-After"]) == 25 * 86400
    assert "请 25 天后再试" in r.json()["error"]["message"]


def test_refused_moves_leave_no_log_row(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    """The log is what the limit counts: refused moves add nothing to it."""
    station = make_tree(session).stations[0]
    assert station.lat is not None and station.lng is not None
    user = make_user(session)
    profile = _register(client, user, station, settings)
    codes = [
        _move(client, user, settings, station.lat + 0.003 * (i + 1), station.lng).status_code
        for i in range(5)
    ]
    assert codes == [200, 200, 429, 429, 429]
    count = session.scalar(
        select(func.count()).select_from(HomeMove).where(HomeMove.volunteer_id == profile["id"])
    )
    assert count == get_settings().home_moves_per_day


def test_coordinators_read_the_log_of_volunteers_they_manage(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    user = make_user(session)
    profile = _register(client, user, station, settings)
    inside = make_coordinator(session, tree.townships[0])
    outside = make_coordinator(session, tree.townships[1])
    r = client.get(f"{API}/volunteers/{profile['id']}/home-moves", headers=auth(inside, settings))
    assert r.status_code == 200, r.text
    [move] = r.json()["items"]
    assert move["from_coarse_lat"] is None and move["actor_id"] == user.id
    r = client.get(f"{API}/volunteers/{profile['id']}/home-moves", headers=auth(outside, settings))
    assert r.status_code == 404
    r = client.get(f"{API}/volunteers/{profile['id']}/home-moves", headers=auth(user, settings))
    assert r.status_code == 403  # volunteers read their own at /me/volunteer/home-moves
