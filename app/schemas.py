"""Field types shared by every request schema, so bad input is refused at the edge.

Strings refuse control characters, Unicode format controls outside emoji and lone surrogates
(`app.text`); numbers are bounded to what the database columns hold; coordinates are in range
and in the coordinate system the request names (`Located`); times without an offset are read
in the city's time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from app import clock
from app.geo import CoordSystem, to_gcj02
from app.text import check_text

MAX_ID = 2_147_483_647
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_LINE_BREAKS = re.compile(r"[\n\r\t\u2028\u2029]")


def _clean_text(value: str) -> str:
    check_text(value)  # raises ValueError (TextError) with a Chinese message
    return value.strip()


def _single_line(value: str) -> str:
    if _LINE_BREAKS.search(value):
        raise ValueError("此字段只能为单行文本")
    return value


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("不能为空")
    return value


def text(max_length: int, *, min_length: int = 0, multiline: bool = False) -> Any:
    """A cleaned string type, used as the annotation itself: `title: text(100)`.

    Name it at module level (`Title = text(100)`) and use the name; never wrap it in another
    `Annotated[str, ...]`, where pydantic would drop its constraints.
    """
    validators: list[Any] = [AfterValidator(_clean_text)]
    if not multiline:
        validators.append(AfterValidator(_single_line))
    if min_length:
        validators.append(AfterValidator(_not_blank))
    return Annotated[str, Field(min_length=min_length, max_length=max_length), *validators]


Name = text(50, min_length=1)
ShortText = text(100, min_length=1)
Reason = text(500, min_length=1, multiline=True)
ShortReason = text(200, min_length=1, multiline=True)
OptionalNote = text(500, multiline=True)
ShortNote = text(200)
LongText = text(2000, multiline=True)
Url = text(2000, min_length=1)
Document = text(5000, min_length=1, multiline=True)
UnitName = text(100, min_length=1)
Address = text(200)
RequiredAddress = text(200, min_length=1)
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


def _phone(value: str) -> str:
    value = value.strip()
    if not _PHONE.match(value):
        raise ValueError("请输入 11 位中国大陆手机号")
    return value


Phone = Annotated[str, Field(max_length=20), AfterValidator(_phone)]

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Lat = Annotated[
    float,
    Field(
        ge=-90,
        le=90,
        allow_inf_nan=False,
        description="纬度，按 coord_system 所指坐标系（默认 gcj02）",
    ),
]
Lng = Annotated[
    float,
    Field(
        ge=-180,
        le=180,
        allow_inf_nan=False,
        description="经度，按 coord_system 所指坐标系（默认 gcj02）",
    ),
]
# Coordinates in responses: always GCJ-02.
LatOut = Annotated[float, Field(description="纬度（GCJ-02）")]
LngOut = Annotated[float, Field(description="经度（GCJ-02）")]
COORD_SYSTEM_TEXT = (
    "lat/lng 所用坐标系：gcj02（默认；国内地图与小程序 map 组件所用）或 wgs84"
    "（wx.getLocation 默认返回、GPS 原始坐标）。服务端一律换算为 GCJ-02 保存和返回。"
)
RadiusM = Annotated[int, Field(ge=100, le=200_000)]


def _local_time(value: Any) -> Any:
    if isinstance(value, datetime):
        return clock.assume_local(value)
    return value


def _to_utc(value: datetime) -> datetime:
    value = clock.assume_local(value)
    if not (2000 <= value.year <= 2200):
        raise ValueError("时间超出允许范围")
    return value.astimezone(UTC)


# An instant; an ISO time without an offset is read in the city's time zone.
Instant = Annotated[datetime, BeforeValidator(_local_time), AfterValidator(_to_utc)]


class Schema(BaseModel):
    """Request bodies: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class Located(Schema):
    """A request body with a point (`lat`, `lng`, possibly optional): the point is read in
    `coord_system` and converted to GCJ-02, which is what services see and store. After
    validation `coord_system` says `gcj02`, true of the numbers the model then holds."""

    coord_system: CoordSystem = Field(default=CoordSystem.GCJ02, description=COORD_SYSTEM_TEXT)

    @model_validator(mode="after")
    def _to_gcj02(self) -> Located:
        lat, lng = getattr(self, "lat", None), getattr(self, "lng", None)
        if self.coord_system != CoordSystem.GCJ02 and lat is not None and lng is not None:
            converted = to_gcj02(lat, lng, self.coord_system)
            object.__setattr__(self, "lat", converted[0])
            object.__setattr__(self, "lng", converted[1])
        self.coord_system = CoordSystem.GCJ02
        return self


class ReadSchema(BaseModel):
    """A response body read from a row's attributes (`Model.model_validate(row)`)."""

    model_config = ConfigDict(from_attributes=True)


CodePath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


def hours_of(minutes: int) -> float:
    """Minutes as the hours every report shows: decimal hours, two places."""
    return round(minutes / 60, 2)
