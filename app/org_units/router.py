from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy import select

from app.auth.deps import AdminUser, CurrentUser
from app.db import SessionDep
from app.geo import CoordSystem, to_gcj02
from app.models import OrgUnit
from app.models.enums import OrgLevel
from app.org_units import service
from app.org_units.schemas import (
    LocateOut,
    OrgUnitCreate,
    OrgUnitDetail,
    OrgUnitOut,
    OrgUnitUpdate,
)
from app.pagination import Page, PageDep, make_page
from app.routing import make_router
from app.schemas import COORD_SYSTEM_TEXT, Id, IdPath, Lat, Lng

router = make_router(prefix="/org-units", tags=["实践阵地"])


@router.get("", response_model=list[OrgUnitOut], summary="下级单位（不填 parent_id 则为顶级）")
def children(
    session: SessionDep,
    _actor: CurrentUser,
    parent_id: Annotated[Id | None, Query()] = None,
) -> list[OrgUnitOut]:
    """任何已登录用户：某单位的直接下级单位（中心→所→站）；不填 parent_id 返回顶级单位。
    用于小程序与后台逐级选择单位。
    """
    condition = OrgUnit.parent_id.is_(None) if parent_id is None else OrgUnit.parent_id == parent_id
    rows = session.scalars(select(OrgUnit).where(condition).order_by(OrgUnit.code).limit(1000))
    return [OrgUnitOut.model_validate(u) for u in rows]


@router.get("/locate", response_model=LocateOut, summary="按位置查找服务该地点的实践站")
def locate(
    session: SessionDep,
    _actor: CurrentUser,
    lat: Annotated[Lat, Query()],
    lng: Annotated[Lng, Query()],
    coord_system: Annotated[CoordSystem, Query(description=COORD_SYSTEM_TEXT)] = CoordSystem.GCJ02,
) -> LocateOut:
    """任何已登录用户：按坐标（默认 GCJ-02）找服务该地点的实践站，返回该站及其距离，
    供点单和注册志愿者时预选站点。
    该地点不在任何站点服务范围内时 station 为 null。
    """
    lat, lng = to_gcj02(lat, lng, coord_system)
    station, distance = service.station_covering(session=session, lat=lat, lng=lng)
    return LocateOut(
        station=OrgUnitOut.model_validate(station) if station else None,
        distance_m=round(distance, 1) if station is not None and distance is not None else None,
    )


@router.get("/{unit_id}", response_model=OrgUnitDetail, summary="单位详情（含上级链）")
def get_unit(unit_id: IdPath, session: SessionDep, _actor: CurrentUser) -> OrgUnitDetail:
    """任何已登录用户：单位的名称、层级、行政区划代码、位置、服务半径，以及从上到下的上级链。
    单位不存在返回 404 ORG_UNIT_NOT_FOUND。
    """
    unit = service.get_unit(session=session, unit_id=unit_id)
    chain = service.ancestors(session=session, unit=unit)
    return OrgUnitDetail(
        **OrgUnitOut.model_validate(unit).model_dump(),
        ancestors=[OrgUnitOut.model_validate(u) for u in chain],
    )


@router.get("/{unit_id}/subtree", response_model=Page[OrgUnitOut], summary="单位及其全部下级")
def subtree(
    unit_id: IdPath,
    session: SessionDep,
    _actor: CurrentUser,
    page: PageDep,
    level: OrgLevel | None = None,
) -> Page[OrgUnitOut]:
    """任何已登录用户：该单位及其全部下级单位，可按层级筛选，分页返回。"""
    root = service.get_unit(session=session, unit_id=unit_id)
    rows = service.subtree(
        session=session, root=root, level=level, after_id=page.after_id, limit=page.limit + 1
    )
    return make_page(rows, page, OrgUnitOut.model_validate)


@router.post("", response_model=OrgUnitOut, status_code=201, summary="管理员：新增单位")
def create_unit(body: OrgUnitCreate, session: SessionDep, _admin: AdminUser) -> OrgUnitOut:
    """管理员：新增中心、所或站；上级单位的层级须正好高一级（400 PARENT_LEVEL_MISMATCH），
    行政区划代码不得重复（409 ORG_UNIT_CODE_TAKEN）。返回新单位。
    """
    unit = service.create_unit(session=session, **body.model_dump(exclude={"coord_system"}))
    return OrgUnitOut.model_validate(unit)


@router.patch("/{unit_id}", response_model=OrgUnitOut, summary="管理员：修改单位")
def update_unit(
    unit_id: IdPath, body: OrgUnitUpdate, session: SessionDep, _admin: AdminUser
) -> OrgUnitOut:
    """管理员：修改单位的名称、位置、服务半径或启用状态（只改所填字段）。返回修改后的单位。"""
    unit = service.get_unit(session=session, unit_id=unit_id)
    values = body.model_dump(exclude_unset=True, exclude={"coord_system"})
    service.update_unit(session=session, unit=unit, values=values)
    return OrgUnitOut.model_validate(unit)
