"""Coordinate systems, the coarse point and distance bands (`app.geo`), and `coord_system` on
every request that carries coordinates."""

from __future__ import annotations

import itertools
from typing import Any

import geocoordinates_ffi
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.geo import (
    DISTANCE_BANDS,
    CoordSystem,
    DistanceBand,
    band_of,
    coarse,
    coarse_point,
    distance_m,
    to_gcj02,
)
from app.models import OrgUnit, Volunteer, Wish
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_resident,
    make_tree,
    make_user,
    wish_body,
)

API = "/api/v1"

# Published WGS-84 → GCJ-02 pairs: the test vectors of eviltransform
# (github.com/googollee/eviltransform, `TESTS` in its Python and Go ports), (lat, lng).
PUBLISHED_PAIRS = [
    ("上海", (31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ("深圳", (22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ("北京", (39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]
ANJI = (30.6380, 119.6800)  # 安吉县 (the demo's and the tests' county)


@pytest.mark.parametrize(
    ("name", "wgs", "gcj"), PUBLISHED_PAIRS, ids=[p[0] for p in PUBLISHED_PAIRS]
)
def test_wgs84_converts_to_the_published_gcj02_point(
    name: str, wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    converted = to_gcj02(*wgs, CoordSystem.WGS84)
    assert distance_m(*converted, *gcj) < 0.05, name
    # And the offset is the real thing: hundreds of metres, not a rounding.
    assert distance_m(*wgs, *gcj) > 300


def test_the_offset_around_anji_is_about_500_metres() -> None:
    moved = to_gcj02(*ANJI, CoordSystem.WGS84)
    assert 450 <= distance_m(*ANJI, *moved) <= 600
    assert to_gcj02(*ANJI, CoordSystem.GCJ02) == ANJI


@pytest.mark.parametrize(
    "point",
    [(51.5074, -0.1278), (35.6812, 139.7671), (-33.8688, 151.2093), (40.7128, -74.0060)],
    ids=["London", "Tokyo", "Sydney", "New York"],
)
def test_outside_china_the_two_systems_coincide(point: tuple[float, float]) -> None:
    assert to_gcj02(*point, CoordSystem.WGS84) == point


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(18.0, 53.0), lng=st.floats(74.0, 134.0))
def test_conversion_inside_china_moves_a_point_by_a_bounded_offset(lat: float, lng: float) -> None:
    moved = to_gcj02(lat, lng, CoordSystem.WGS84)
    assert 0 < distance_m(lat, lng, *moved) < 1200  # the offset is at most about 1 km
    # The library's own inverse takes the point back (within its stated error).
    back = geocoordinates_ffi.gcj02_to_wgs84_refined(
        geocoordinates_ffi.Gcj02(lat=moved[0], lon=moved[1])
    )
    assert distance_m(lat, lng, back.lat, back.lon) <= back.max_error_m


@settings(max_examples=300, deadline=None)
@given(value=st.floats(-179.99, 179.99))
def test_coarse_is_the_nearest_hundredth(value: float) -> None:
    c = coarse(value)
    assert abs(c - value) <= 0.005 + 1e-9
    assert c == round(c, 2)
    assert coarse(c) == c  # a cell's centre is its own coarse point


def test_coarse_point_cells() -> None:
    assert coarse_point(30.6349, 119.6851) == (30.63, 119.69)
    assert coarse_point(30.635, 119.685) in {(30.64, 119.69), (30.63, 119.68), (30.64, 119.68),
                                             (30.63, 119.69)}  # fmt: skip
    assert coarse(-0.004) == 0.0 and coarse(-0.006) == -0.01


@pytest.mark.parametrize(
    ("metres", "band"),
    [
        (0, DistanceBand.LT_1KM),
        (999.9, DistanceBand.LT_1KM),
        (1000, DistanceBand.KM_1_3),
        (2999, DistanceBand.KM_1_3),
        (3000, DistanceBand.KM_3_5),
        (5000, DistanceBand.KM_5_10),
        (9999, DistanceBand.KM_5_10),
        (10_000, DistanceBand.GT_10KM),
        (1e7, DistanceBand.GT_10KM),
    ],
)
def test_bands(metres: float, band: DistanceBand) -> None:
    found, low, high, label = band_of(metres)
    assert found == band
    assert low <= metres and (high is None or metres < high)
    assert "公里" in label


def test_bands_cover_every_distance_without_gaps() -> None:
    for (_, _, high, _), (_, low, _, _) in itertools.pairwise(DISTANCE_BANDS):
        assert high == low
    assert DISTANCE_BANDS[0][1] == 0 and DISTANCE_BANDS[-1][2] is None


# ---------------------------------------------------------------- coord_system in the API


def _wgs_of(lat: float, lng: float) -> tuple[float, float]:
    """The WGS-84 point a phone would report where the map shows (lat, lng) in GCJ-02."""
    p = geocoordinates_ffi.gcj02_to_wgs84_refined(geocoordinates_ffi.Gcj02(lat=lat, lon=lng))
    return p.lat, p.lon


def test_wish_placed_in_wgs84_is_stored_and_returned_in_gcj02(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = make_resident(session)
    body = wish_body(station.lat, station.lng)
    gcj = (float(body["lat"]), float(body["lng"]))  # type: ignore[arg-type]
    wgs = _wgs_of(*gcj)
    r = client.post(
        f"{API}/wishes",
        json={**body, "lat": wgs[0], "lng": wgs[1], "coord_system": "wgs84"},
        headers=auth(resident, settings),
    )
    assert r.status_code == 201, r.text
    assert distance_m(r.json()["lat"], r.json()["lng"], *gcj) < 1.0
    wish = session.get(Wish, r.json()["id"])
    assert wish is not None and distance_m(wish.lat, wish.lng, *gcj) < 1.0
    # Sent as GCJ-02 (the default), the same numbers are taken as they are.
    r = client.post(f"{API}/wishes", json=body, headers=auth(resident, settings))
    assert (r.json()["lat"], r.json()["lng"]) == gcj


def test_volunteer_home_in_wgs84_is_converted(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    user = make_user(session)
    wgs = _wgs_of(station.lat, station.lng)
    body: dict[str, Any] = {"home_station_id": station.id, "lat": wgs[0], "lng": wgs[1],
                            "coord_system": "wgs84"}  # fmt: skip
    r = client.post(f"{API}/me/volunteer", json=body, headers=auth(user, settings))
    assert r.status_code == 201, r.text
    assert distance_m(r.json()["lat"], r.json()["lng"], station.lat, station.lng) < 1.0
    far = _wgs_of(station.lat + 0.01, station.lng)
    r = client.patch(
        f"{API}/me/volunteer",
        json={"lat": far[0], "lng": far[1], "coord_system": "wgs84"},
        headers=auth(user, settings),
    )
    assert r.status_code == 200, r.text
    stored = session.scalars(select(Volunteer).where(Volunteer.user_id == user.id)).one()
    session.refresh(stored)
    assert distance_m(stored.lat, stored.lng, station.lat + 0.01, station.lng) < 1.0
    r = client.patch(
        f"{API}/me/volunteer", json={"coord_system": "bd09"}, headers=auth(user, settings)
    )
    assert r.status_code == 422


def test_locate_and_org_units_take_wgs84(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    admin = make_admin(session)
    wgs = _wgs_of(station.lat, station.lng)
    r = client.get(
        f"{API}/org-units/locate",
        params={"lat": wgs[0], "lng": wgs[1], "coord_system": "wgs84"},
        headers=auth(admin, settings),
    )
    assert r.status_code == 200, r.text
    assert r.json()["station"]["id"] == station.id and r.json()["distance_m"] < 1.0
    # Read as GCJ-02, the same numbers are some 540 m off.
    r = client.get(f"{API}/org-units/locate", params={"lat": wgs[0], "lng": wgs[1]},
                   headers=auth(admin, settings))  # fmt: skip
    assert r.json()["distance_m"] > 450

    r = client.patch(
        f"{API}/org-units/{station.id}",
        json={"lat": wgs[0], "lng": wgs[1], "coord_system": "wgs84"},
        headers=auth(admin, settings),
    )
    assert r.status_code == 200, r.text
    assert distance_m(r.json()["lat"], r.json()["lng"], station.lat, station.lng) < 1.0
    r = client.post(
        f"{API}/org-units",
        json={"code": "990000000001", "name": "新市", "level": "city", "lat": wgs[0],
              "lng": wgs[1], "coord_system": "wgs84"},
        headers=auth(admin, settings),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    created = session.get(OrgUnit, r.json()["id"])
    assert created is not None and created.lat is not None and created.lng is not None
    assert distance_m(created.lat, created.lng, station.lat, station.lng) < 1.0


BODIES_WITH_COORDINATES = {
    ("/api/v1/wishes", "post"): "WishCreate",
    ("/api/v1/me/volunteer", "post"): "VolunteerRegister",
    ("/api/v1/me/volunteer", "patch"): "VolunteerUpdate",
    ("/api/v1/wishes/{wish_id}/check-in", "post"): "AttendanceIn",
    ("/api/v1/wishes/{wish_id}/check-out", "post"): "AttendanceIn",
    ("/api/v1/org-units", "post"): "OrgUnitCreate",
    ("/api/v1/org-units/{unit_id}", "patch"): "OrgUnitUpdate",
    ("/api/v1/activities", "post"): "ActivityCreate",
    ("/api/v1/activities/{activity_id}", "patch"): "ActivityUpdate",
    ("/api/v1/households", "post"): "HouseholdCreate",
    ("/api/v1/households/{household_id}", "patch"): "HouseholdUpdate",
    ("/api/v1/pairings/{pairing_id}/visits/check-in", "post"): "VisitCheckIn",
    ("/api/v1/pairing-visits/{visit_id}/check-out", "post"): "VisitCheckOut",
}


def test_openapi_states_the_coordinate_system(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    assert "GCJ-02" in spec["info"]["description"] and "wgs84" in spec["info"]["description"]
    schemas = spec["components"]["schemas"]
    # Every request body and query with a latitude names its coordinate system...
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            if "lat" in names:
                assert "coord_system" in names, (method, path)
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            body = schemas.get(ref.rsplit("/", 1)[-1], {})
            if "lat" in body.get("properties", {}):
                assert BODIES_WITH_COORDINATES.get((path, method)) == ref.rsplit("/", 1)[-1]
                prop = body["properties"]["coord_system"]
                assert prop["default"] == "gcj02" and "wgs84" in prop["description"]
    assert len(BODIES_WITH_COORDINATES) == 13
    # ...and every response with one says it is GCJ-02.
    for name in ("WishOut", "VolunteerOut", "OrgUnitOut"):
        lat = schemas[name]["properties"]["lat"]
        text = lat.get("description") or str(lat)
        assert "GCJ-02" in text, name
    assert set(schemas["CoordSystem"]["enum"]) == {"gcj02", "wgs84"}
