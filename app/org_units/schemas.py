from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.models.enums import OrgLevel
from app.schemas import (
    Address,
    Id,
    Lat,
    LatOut,
    Lng,
    LngOut,
    Located,
    RadiusM,
    ReadSchema,
    UnitName,
)

AdminCode = Annotated[str, Field(pattern=r"^\d{12}$", description="12 位统计用区划代码")]


class OrgUnitCreate(Located):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "330521103201",
                    "name": "仙潭村新时代文明实践站",
                    "level": "village",
                    "parent_id": 5,
                    "lat": 30.5867,
                    "lng": 119.8652,
                    "address": "浙江省湖州市德清县莫干山镇仙潭村村委会",
                    "service_radius_m": 3000,
                }
            ]
        }
    )

    code: AdminCode
    name: UnitName
    level: OrgLevel
    parent_id: Id | None = None
    lat: Lat | None = None
    lng: Lng | None = None
    address: Address | None = None
    service_radius_m: RadiusM | None = None


class OrgUnitUpdate(Located):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"address": "莫干山镇仙潭村文化礼堂一楼", "service_radius_m": 5000},
                {"is_active": False},
            ]
        }
    )

    name: UnitName | None = None
    lat: Lat | None = None
    lng: Lng | None = None
    address: Address | None = None
    service_radius_m: RadiusM | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _pair(self) -> OrgUnitUpdate:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("经纬度须同时提供")
        return self


class OrgUnitOut(ReadSchema):
    id: int
    code: str
    name: str
    level: OrgLevel
    parent_id: int | None
    path: str
    lat: LatOut | None
    lng: LngOut | None
    address: str | None
    service_radius_m: int
    is_active: bool


class OrgUnitDetail(OrgUnitOut):
    ancestors: list[OrgUnitOut]


class LocateOut(BaseModel):
    station: OrgUnitOut | None
    distance_m: float | None
