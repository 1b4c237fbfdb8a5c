"""Distances on the earth and bounding boxes for indexed proximity queries."""

from __future__ import annotations

import math
from functools import lru_cache

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
