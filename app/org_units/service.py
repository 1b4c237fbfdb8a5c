"""The practice-unit tree: city → county centre → township institute → village station."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.auth.principal import Principal
from app.geo import bounding_box, distance_m
from app.models import OrgUnit, RoleGrant
from app.models.enums import PARENT_LEVEL, AccountRole, OrgLevel
from app.org_units.errors import InvalidOrgUnit, OrgUnitCodeTaken, OrgUnitNotFound

# How far intake looks for a station whose service area covers a wish.
MAX_STATION_RADIUS_M = 50_000

DEFAULT_RADIUS_M: dict[OrgLevel, int] = {
    OrgLevel.CITY: 100_000,
    OrgLevel.COUNTY: 50_000,
    OrgLevel.TOWNSHIP: 15_000,
    OrgLevel.VILLAGE: 5_000,
}


def in_subtree(path_column: InstrumentedAttribute[str], root_path: str) -> ColumnElement[bool]:
    """Units at or below the one with `root_path`, as an index range scan.

    Paths are codes each followed by "/", and "0" is the character after "/": every
    descendant's path sorts in [root, root-without-its-last-"/" + "0").
    """
    return and_(path_column >= root_path, path_column < root_path[:-1] + "0")


def unit_path(parent: OrgUnit | None, code: str) -> str:
    return (parent.path if parent else "") + code + "/"


def get_unit(*, session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise OrgUnitNotFound()
    return unit


def managed_unit(*, session: Session, actor: Principal, unit_id: int) -> OrgUnit:
    """A unit in the caller's subtree; 404 otherwise (a unit outside it is not shown)."""
    unit = get_unit(session=session, unit_id=unit_id)
    if not actor.manages(unit.path):
        raise OrgUnitNotFound()
    return unit


def acting_unit(
    *, session: Session, actor: Principal, station: OrgUnit, unit_id: int | None
) -> OrgUnit | None:
    """The unit a coordinator acts for about something at `station`: the one named (which they
    must manage), else their own unit over the station; None for an admin without one."""
    if unit_id is not None:
        return managed_unit(session=session, actor=actor, unit_id=unit_id)
    for scope in actor.coordinator_units:
        if station.path.startswith(scope.path):
            return get_unit(session=session, unit_id=scope.id)
    return None


def get_unit_by_code(*, session: Session, code: str) -> OrgUnit | None:
    return session.scalars(select(OrgUnit).where(OrgUnit.code == code)).one_or_none()


def create_unit(
    *,
    session: Session,
    code: str,
    name: str,
    level: OrgLevel,
    parent_id: int | None,
    lat: float | None = None,
    lng: float | None = None,
    address: str | None = None,
    service_radius_m: int | None = None,
) -> OrgUnit:
    parent = get_unit(session=session, unit_id=parent_id) if parent_id is not None else None
    expected_parent_level = PARENT_LEVEL[level]
    if parent is None and expected_parent_level is not None:
        raise InvalidOrgUnit(f"{level.value} 级单位必须指定上级单位", code="PARENT_REQUIRED")
    if parent is not None and parent.level != expected_parent_level:
        raise InvalidOrgUnit(
            "上级单位层级不匹配：市 → 县(区) → 乡镇(街道) → 村(社区)",
            code="PARENT_LEVEL_MISMATCH",
            details={"parent_level": parent.level, "level": level},
        )
    if (lat is None) != (lng is None):
        raise InvalidOrgUnit("经纬度须同时提供", code="INCOMPLETE_LOCATION")
    if get_unit_by_code(session=session, code=code) is not None:
        raise OrgUnitCodeTaken(details={"code": code})
    unit = OrgUnit(
        code=code,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        path=unit_path(parent, code),
        lat=lat,
        lng=lng,
        address=address,
        service_radius_m=service_radius_m or DEFAULT_RADIUS_M[level],
    )
    session.add(unit)
    session.flush()
    return unit


def update_unit(*, session: Session, unit: OrgUnit, values: dict[str, Any]) -> OrgUnit:
    """Change a unit's name, location, address, service radius or active flag."""
    allowed = {"name", "lat", "lng", "address", "service_radius_m", "is_active"}
    unknown = set(values) - allowed
    if unknown:
        raise InvalidOrgUnit(details={"fields": sorted(unknown)})
    for name, value in values.items():
        if value is not None:
            setattr(unit, name, value)
    session.flush()
    return unit


def subtree(
    *,
    session: Session,
    root: OrgUnit,
    level: OrgLevel | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> Sequence[OrgUnit]:
    query = select(OrgUnit).where(in_subtree(OrgUnit.path, root.path))
    if level is not None:
        query = query.where(OrgUnit.level == level)
    if after_id is not None:
        query = query.where(OrgUnit.id > after_id)
    return session.scalars(query.order_by(OrgUnit.id).limit(limit)).all()


def ancestors(*, session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """The unit's ancestors, root first."""
    codes = unit.path.strip("/").split("/")[:-1]
    if not codes:
        return []
    rows = session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes))).all()
    by_code = {u.code: u for u in rows}
    return [by_code[c] for c in codes if c in by_code]


def coordinators_for(session: Session, station: OrgUnit) -> list[int]:
    """The coordinators nearest the station: its own, else those of the closest ancestor."""
    chain = [station, *reversed(ancestors(session=session, unit=station))]
    for unit in chain:
        ids = list(
            session.scalars(
                select(RoleGrant.user_id).where(
                    RoleGrant.org_unit_id == unit.id,
                    RoleGrant.role == AccountRole.COORDINATOR,
                )
            )
        )
        if ids:
            return ids
    return []


def station_covering(
    *, session: Session, lat: float, lng: float, station_id: int | None = None
) -> tuple[OrgUnit | None, float | None]:
    """The station whose service area holds the point: the named one, or the nearest.

    Returns (station, distance) — station is None when no active station covers the point.
    """
    if station_id is not None:
        station = session.get(OrgUnit, station_id)
        if station is None or station.level != OrgLevel.VILLAGE or not station.is_active:
            raise OrgUnitNotFound("所选站点不存在或不是村(社区)实践站", code="STATION_NOT_FOUND")
        if station.lat is None or station.lng is None:
            return station, None
        d = distance_m(lat, lng, station.lat, station.lng)
        return (station, d) if d <= station.service_radius_m else (None, d)
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, MAX_STATION_RADIUS_M)
    candidates = session.scalars(
        select(OrgUnit).where(
            OrgUnit.level == OrgLevel.VILLAGE,
            OrgUnit.is_active.is_(True),
            OrgUnit.lat.between(min_lat, max_lat),
            OrgUnit.lng.between(min_lng, max_lng),
        )
    ).all()
    best: tuple[OrgUnit | None, float | None] = (None, None)
    for station in candidates:
        assert station.lat is not None and station.lng is not None
        d = distance_m(lat, lng, station.lat, station.lng)
        if d <= station.service_radius_m and (best[1] is None or d < best[1]):
            best = (station, d)
    return best
