"""Trilateration recovers nothing finer than a wish's coarse cell.

Before a volunteer accepts a wish, everything they can read about it — its detail, whether it
is visible at all (404 or 200), what they may do with it, the distance band, the open-for-grab
lists at any radius with their order, their offers — is computed from the wish's coarse point
(the centre of its 0.01° cell). This test reads all of it from hundreds of home positions and
shows:

1. two doors in the same coarse cell get byte-identical answers to every read, from every
   position (the same wish with its door moved inside the cell; and two twin wishes side by
   side), so no number of positions can tell them apart;
2. an attacker's best estimate from the answers (least squares on the band edges) is the
   same wherever the door is in the cell, so it misses a door near a corner by most of the
   cell, while the same estimator pins the door within metres when given the exact
   distances the API used to return.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.geo import EARTH_RADIUS_M, band_of, cell_of, distance_m
from app.models import User, Volunteer, Wish
from app.models.enums import WishStatus
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import auth, make_resident, make_tree, make_volunteer, make_wish

API = "/api/v1"
M_PER_DEG = math.radians(EARTH_RADIUS_M)

# The cell of (30.64, 119.68), in 安吉: lat [30.635, 30.645), lng [119.675, 119.685).
CENTRE = (30.64, 119.68)
DOOR_SW = (30.6352, 119.6753)  # near one corner of the cell
DOOR_NE = (30.6447, 119.6846)  # near the opposite corner
TWIN = (30.6391, 119.6822)  # another wish in the same cell
ELSEWHERE = (30.6555, 119.7012)  # a wish in another cell
RADII_M = (150, 700, 1300, 2400, 3100, 4300, 4900, 5600, 8000, 10_700)
ANGLES = 20  # 200 home positions


@pytest.fixture
def frozen() -> Iterator[Clock]:
    fake = Clock(datetime(2027, 3, 2, 2, 0, tzinfo=UTC))
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)


def _offset(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / M_PER_DEG, lng + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def _positions() -> list[tuple[float, float]]:
    return [
        _offset(*CENTRE, r * math.cos(a), r * math.sin(a))
        for r in RADII_M
        for a in (2 * math.pi * (k + 0.37) / ANGLES for k in range(ANGLES))
    ]


class World:
    """Three wishes open for grab, a volunteer who may grab, one who was offered two."""

    def __init__(self, client: TestClient, session: Session, settings: Settings) -> None:
        self.client, self.session, self.settings = client, session, settings
        tree = make_tree(session)
        station = tree.stations[0]
        resident = make_resident(session)
        self.grabber_user, self.grabber = make_volunteer(session, station, skills=("errands",))
        self.offered_user, self.offered = make_volunteer(session, station, skills=("errands",))

        def wish(point: tuple[float, float], offered: bool) -> Wish:
            w = make_wish(
                session, station=station, requester=resident, status=WishStatus.DISPATCHING,
                grab_open=True, skills=("errands",), offer_to=[self.offered] if offered else None,
            )  # fmt: skip
            w.lat, w.lng = point
            return w

        self.door = wish(DOOR_SW, offered=True)
        self.twin = wish(TWIN, offered=True)
        self.other = wish(ELSEWHERE, offered=False)
        session.flush()
        assert (self.door.coarse_lat, self.door.coarse_lng) == CENTRE
        assert (self.twin.coarse_lat, self.twin.coarse_lng) == CENTRE

    def move_door(self, point: tuple[float, float]) -> None:
        self.door.lat, self.door.lng = point
        self.session.flush()
        assert (self.door.coarse_lat, self.door.coarse_lng) == CENTRE

    def live_at(self, point: tuple[float, float]) -> None:
        """Both volunteers' homes, set directly (the API limits moves; this is the attack the
        limit slows down, done without it)."""
        self.session.execute(
            update(Volunteer)
            .where(Volunteer.id.in_([self.grabber.id, self.offered.id]))
            .values(lat=point[0], lng=point[1], h3_cell=cell_of(*point))
        )

    def get(self, user: User, path: str, **params: Any) -> tuple[int, bytes]:
        r = self.client.get(f"{API}{path}", params=params, headers=auth(user, self.settings))
        assert r.status_code in (200, 404), r.text
        return r.status_code, r.content

    def read_everything(
        self, point: tuple[float, float], *, twins: bool
    ) -> dict[str, tuple[int, bytes]]:
        """Everything either volunteer can read about the door's wish from `point` (and, with
        `twins`, about the twin and the other wish too)."""
        self.live_at(point)
        reads: dict[str, tuple[int, bytes]] = {}
        for radius in (None, 1000, 3000) if twins else (None, 3000):
            params = {} if radius is None else {"radius_m": radius}
            reads[f"open {radius}"] = self.get(self.grabber_user, "/wishes/open", **params)
        reads["offered: offers"] = self.get(self.offered_user, "/me/offers")
        wishes = [("door", self.door)]
        if twins:
            wishes += [("twin", self.twin), ("other", self.other)]
        for name, wish in wishes:
            reads[f"grabber: {name}"] = self.get(self.grabber_user, f"/wishes/{wish.id}")
            if name != "other":
                reads[f"offered: {name}"] = self.get(self.offered_user, f"/wishes/{wish.id}")
        return reads


def _without_ids(value: Any) -> Any:
    """A response with the ids of wishes and offers taken out (twins differ only there)."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ("id", "wish_id")}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _estimate(
    positions: list[tuple[float, float]], bands: list[tuple[float, float]]
) -> tuple[float, float]:
    """The attacker: least squares on the band edges (a distance outside [low, high) costs
    how far outside it is), minimised on a grid, coarse then fine; the centroid of the best
    points. In metres east and north of CENTRE."""
    xy = np.array(
        [
            (
                (lng - CENTRE[1]) * M_PER_DEG * math.cos(math.radians(CENTRE[0])),
                (lat - CENTRE[0]) * M_PER_DEG,
            )
            for lat, lng in positions
        ]
    )
    low = np.array([b[0] for b in bands])
    high = np.array([b[1] for b in bands])

    def best(cx: float, cy: float, half: float, step: float) -> tuple[float, float]:
        ticks = np.arange(-half, half + step / 2, step)
        gx, gy = np.meshgrid(cx + ticks, cy + ticks)
        g = np.column_stack([gx.ravel(), gy.ravel()])
        d = np.hypot(g[:, None, 0] - xy[None, :, 0], g[:, None, 1] - xy[None, :, 1])
        cost = (np.maximum(0, low - d) + np.maximum(0, d - high)) ** 2
        total = cost.sum(axis=1)
        chosen = g[total <= total.min() + 1e-6]
        return float(chosen[:, 0].mean()), float(chosen[:, 1].mean())

    x, y = best(0.0, 0.0, 3000.0, 50.0)
    return best(x, y, 300.0, 5.0)


def _error_m(estimate: tuple[float, float], door: tuple[float, float]) -> float:
    east, north = estimate
    return distance_m(*_offset(*CENTRE, north, east), *door)


def _bands_read(reads: list[dict[str, tuple[int, bytes]]]) -> list[tuple[float, float]]:
    import json

    out = []
    for read in reads:
        status, body = read["offered: door"]
        assert status == 200  # offered: visible from anywhere
        distance = json.loads(body)["distance"]
        out.append(
            (distance["min_m"], math.inf if distance["max_m"] is None else distance["max_m"])
        )
    return out


def test_trilateration_recovers_nothing_finer_than_the_coarse_cell(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    import json

    world = World(client, session, settings)
    positions = _positions()
    assert len(positions) == 200

    first = [world.read_everything(p, twins=False) for p in positions]
    world.move_door(DOOR_NE)
    second = [world.read_everything(p, twins=False) for p in positions]

    # (1) The door moved across its cell: every read, from every position, byte for byte.
    for point, a, b in zip(positions, first, second, strict=True):
        assert a == b, point

    # The reads are not all alike: the answers do depend on where the volunteer lives.
    statuses = {read["grabber: door"][0] for read in first}
    assert statuses == {200, 404}  # within reach at some positions, not at others
    bands = {json.loads(read["offered: door"][1])["distance"]["band"] for read in first}
    assert bands == {"lt_1km", "km_1_3", "km_3_5", "km_5_10", "gt_10km"}
    assert any(json.loads(read["open None"][1]) for read in first)
    assert any(not json.loads(read["open None"][1]) for read in first)

    # Twin wishes in one cell at different doors: the same answers but for their ids, and
    # side by side in every list (from every fourth position, and the other wish's too).
    door_id, twin_id = world.door.id, world.twin.id
    for read in (world.read_everything(p, twins=True) for p in positions[::4]):
        for who in ("grabber", "offered"):
            door, twin = read[f"{who}: door"], read[f"{who}: twin"]
            assert door[0] == twin[0]
            if door[0] == 200:
                assert _without_ids(json.loads(door[1])) == _without_ids(json.loads(twin[1]))
        for key in ("open None", "open 1000", "open 3000"):
            ids = [w["id"] for w in json.loads(read[key][1])]
            assert (door_id in ids) == (twin_id in ids)
            if door_id in ids:
                assert abs(ids.index(door_id) - ids.index(twin_id)) == 1
                rows = [w for w in json.loads(read[key][1]) if w["id"] in (door_id, twin_id)]
                assert _without_ids(rows[0]) == _without_ids(rows[1])
        offers = json.loads(read["offered: offers"][1])["items"]
        by_wish = {o["wish_id"]: o for o in offers}
        assert _without_ids(by_wish[door_id]) == _without_ids(by_wish[twin_id])
        # What is shown as the place is the cell's centre.
        detail = json.loads(read["offered: door"][1])
        assert (detail["lat"], detail["lng"]) == CENTRE and detail["distance_m"] is None
        assert detail["full_address"] is None and detail["redacted"] is True

    # (2) The attacker's estimate: one answer for both doors, so no better than the cell.
    observed = _bands_read(first)
    estimate = _estimate(positions, observed)
    assert _estimate(positions, _bands_read(second)) == estimate
    assert math.hypot(*estimate) < 100  # it finds the cell's centre, and that is all
    errors = [_error_m(estimate, door) for door in (DOOR_SW, DOOR_NE)]
    half_apart = distance_m(*DOOR_SW, *DOOR_NE) / 2
    assert min(errors) > 550 and max(errors) >= half_apart > 600

    # The estimator is not the weak part: given exact distances (what the API returned
    # before), it finds the door within metres; given bands measured from the exact door,
    # within tens of metres.
    for door in (DOOR_SW, DOOR_NE):
        exact = [(d, d) for d in (distance_m(*p, *door) for p in positions)]
        assert _error_m(_estimate(positions, exact), door) < 10
        from_door = []
        for p in positions:
            _, low, high, _ = band_of(distance_m(*p, *door))
            from_door.append((float(low), math.inf if high is None else float(high)))
        assert _error_m(_estimate(positions, from_door), door) < 150
