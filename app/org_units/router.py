from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy import select

from app.auth.deps import AdminUser, CurrentUser
from app.db import SessionDep
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
from app.schemas import Id, IdPath, Lat, Lng

router = make_router(prefix="/org-units", tags=["实践阵地"])


@router.get("", response_model=list[OrgUnitOut], summary="下级单位（不填 parent_id 则为顶级）")
def children(
    session: SessionDep,
    _actor: CurrentUser,
    parent_id: Annotated[Id | None, Query()] = None,
) -> list[OrgUnitOut]:
    condition = OrgUnit.parent_id.is_(None) if parent_id is None else OrgUnit.parent_id == parent_id
    rows = session.scalars(select(OrgUnit).where(condition).order_by(OrgUnit.code).limit(1000))
    return [OrgUnitOut.model_validate(u) for u in rows]


@router.get("/locate", response_model=LocateOut, summary="按位置查找服务该地点的实践站")
def locate(
    session: SessionDep,
    _actor: CurrentUser,
    lat: Annotated[Lat, Query()],
    lng: Annotated[Lng, Query()],
) -> LocateOut:
    station, distance = service.station_covering(session=session, lat=lat, lng=lng)
    return LocateOut(
        station=OrgUnitOut.model_validate(station) if station else None,
        distance_m=round(distance, 1) if station is not None and distance is not None else None,
    )


@router.get("/{unit_id}", response_model=OrgUnitDetail, summary="单位详情（含上级链）")
def get_unit(unit_id: IdPath, session: SessionDep, _actor: CurrentUser) -> OrgUnitDetail:
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
    root = service.get_unit(session=session, unit_id=unit_id)
    rows = service.subtree(
        session=session, root=root, level=level, after_id=page.after_id, limit=page.limit + 1
    )
    return make_page(rows, page, OrgUnitOut.model_validate)


@router.post("", response_model=OrgUnitOut, status_code=201, summary="管理员：新增单位")
def create_unit(body: OrgUnitCreate, session: SessionDep, _admin: AdminUser) -> OrgUnitOut:
    unit = service.create_unit(session=session, **body.model_dump())
    return OrgUnitOut.model_validate(unit)


@router.patch("/{unit_id}", response_model=OrgUnitOut, summary="管理员：修改单位")
def update_unit(
    unit_id: IdPath, body: OrgUnitUpdate, session: SessionDep, _admin: AdminUser
) -> OrgUnitOut:
    unit = service.get_unit(session=session, unit_id=unit_id)
    service.update_unit(session=session, unit=unit, values=body.model_dump(exclude_unset=True))
    return OrgUnitOut.model_validate(unit)
