"""Field types shared by every request schema, so bad input is refused at the edge.

Strings refuse NUL and other control characters and lone surrogates (PostgreSQL cannot store
them); numbers are bounded to what the database columns hold; coordinates are in range; times
without an offset are read in the city's time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from app.config import get_settings

MAX_ID = 2_147_483_647
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_PHONE = re.compile(r"^1[3-9]\d{9}$")


def _clean_text(value: str) -> str:
    if _BAD_CHARS.search(value):
        raise ValueError("文本中含有不允许的控制字符")
    return value.strip()


def _single_line(value: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
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
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lng = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
RadiusM = Annotated[int, Field(ge=100, le=200_000)]


def _local_time(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return value


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(get_settings().timezone))
    if not (2000 <= value.year <= 2200):
        raise ValueError("时间超出允许范围")
    return value.astimezone(UTC)


# An instant; an ISO time without an offset is read in the city's time zone.
Instant = Annotated[datetime, BeforeValidator(_local_time), AfterValidator(_to_utc)]


class Schema(BaseModel):
    """Request bodies: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


CodePath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
