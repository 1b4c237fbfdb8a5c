"""Distances on the earth, bounding boxes for indexed proximity queries, the coarse point
volunteers see, and the coordinate systems the API speaks."""

from __future__ import annotations

import math
from enum import StrEnum
from functools import lru_cache

import geocoordinates_ffi
import h3

EARTH_RADIUS_M = 6_371_008.8
# H3 resolution of the proximity index: cells of about 0.74 km², centres about 0.9 km apart.
H3_RESOLUTION = 8


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) of a box that contains the circle."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if min_lat <= -90.0 or max_lat >= 90.0:
        return min_lat, max_lat, -180.0, 180.0
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    if dlng >= 180.0:
        return min_lat, max_lat, -180.0, 180.0
    # Boxes that would cross the antimeridian are widened to all longitudes (rare for one city).
    min_lng, max_lng = lng - dlng, lng + dlng
    if min_lng < -180.0 or max_lng > 180.0:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, min_lng, max_lng


def cell_of(lat: float, lng: float) -> int:
    """The H3 cell (as a 64-bit integer) holding the point."""
    return h3.str_to_int(h3.latlng_to_cell(lat, lng, H3_RESOLUTION))


def cells_within(lat: float, lng: float, radius_m: float) -> tuple[int, ...]:
    """H3 cells that together cover the circle (a superset: exact distance decides later)."""
    return _cells_around(h3.latlng_to_cell(lat, lng, H3_RESOLUTION), math.ceil(radius_m))


@lru_cache(maxsize=8192)
def _cells_around(centre: str, radius_m: int) -> tuple[int, ...]:
    # Measured from the centre of the point's cell, so that all points of a cell share one
    # answer. A point lies within spacing/√3 of its cell's centre (10 % more for the grid's
    # distortion), once for the circle's centre and once for the points it covers; a cell k
    # rings away has its centre at least k·spacing·√3/2 off. Take the disk that reaches that
    # far, then keep the cells whose centres are near enough to matter.
    c_lat, c_lng = h3.cell_to_latlng(centre)
    spacing = min(distance_m(c_lat, c_lng, *h3.cell_to_latlng(n)) for n in h3.grid_ring(centre, 1))
    reach = radius_m + 2 * 1.1 * spacing / math.sqrt(3)
    rings = math.ceil(reach / (spacing * math.sqrt(3) / 2))
    return tuple(
        h3.str_to_int(cell)
        for cell in h3.grid_disk(centre, rings)
        if distance_m(c_lat, c_lng, *h3.cell_to_latlng(cell)) <= reach
    )


# ---------------------------------------------------------------- the coarse point
#
# Volunteers who have not accepted a wish learn nothing finer than the cell of a 0.01° grid
# that holds it (about 1.1 km north–south, 0.96 km east–west around 安吉): its centre is the
# wish's coarse point, and every figure they are shown (the location, the distance band,
# whether the wish is within their reach, the order of a list) is computed from it alone.

COARSE_STEP = 0.01
COARSE_DECIMALS = 2


def coarse(degrees: float) -> float:
    """The coarse value of one coordinate: the nearest multiple of 0.01° (halves round up).

    Latitude and longitude are coarsened separately, so a wish's coarse point follows from
    each of its coordinates on its own."""
    return round(math.floor(degrees * 100 + 0.5) / 100, COARSE_DECIMALS)


def coarse_point(lat: float, lng: float) -> tuple[float, float]:
    return coarse(lat), coarse(lng)


class DistanceBand(StrEnum):
    """How far a wish is, as volunteers who have not accepted it are told."""

    LT_1KM = "lt_1km"
    KM_1_3 = "km_1_3"
    KM_3_5 = "km_3_5"
    KM_5_10 = "km_5_10"
    GT_10KM = "gt_10km"


# (band, lower bound inclusive, upper bound exclusive, label)
DISTANCE_BANDS: tuple[tuple[DistanceBand, int, int | None, str], ...] = (
    (DistanceBand.LT_1KM, 0, 1_000, "1 公里内"),
    (DistanceBand.KM_1_3, 1_000, 3_000, "1–3 公里"),
    (DistanceBand.KM_3_5, 3_000, 5_000, "3–5 公里"),
    (DistanceBand.KM_5_10, 5_000, 10_000, "5–10 公里"),
    (DistanceBand.GT_10KM, 10_000, None, "10 公里以上"),
)


def band_of(metres: float) -> tuple[DistanceBand, int, int | None, str]:
    """The band holding a distance: (band, min_m, max_m or None, Chinese label)."""
    for entry in DISTANCE_BANDS:
        upper = entry[2]
        if upper is None or metres < upper:
            return entry
    raise AssertionError("the last band is open-ended")


# ---------------------------------------------------------------- coordinate systems
#
# The API speaks GCJ-02 (国测局坐标, what maps in China and the mini-program's map component
# show) and stores it; WGS-84 (what `wx.getLocation` returns by default, and raw GPS) is
# converted on input. The conversion is the published GCJ-02 offset as implemented by the
# `geocoordinates-rs` package (its tests pin it to eviltransform's and coordtransform's
# reference pairs); outside China's box it is the identity.


class CoordSystem(StrEnum):
    GCJ02 = "gcj02"
    WGS84 = "wgs84"


def to_gcj02(lat: float, lng: float, system: CoordSystem) -> tuple[float, float]:
    """The point in GCJ-02, from coordinates in `system`."""
    if system == CoordSystem.GCJ02:
        return lat, lng
    point = geocoordinates_ffi.wgs84_to_gcj02(geocoordinates_ffi.Wgs84(lat=lat, lon=lng))
    return float(point.lat), float(point.lon)
