from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models.enums import VolunteerStatus, WishStatus
from app.schemas import Schema, ShortNote
from app.wishes.schemas import PersonRef


class RevealIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "志愿者联系不上点单人，需电话确认上门时间"}]}
    )

    reason: ShortNote = Field(default="", description="查看原因（记入查看记录）")


class WishContactOut(BaseModel):
    """A wish's full contact, as revealed (and logged) to the caller."""

    wish_id: int
    status: WishStatus
    acting_as: str = Field(description="查看人的身份：volunteer、requester、coordinator、admin")
    requester: PersonRef | None
    full_address: str | None
    contact_phone: str | None
    lat: float | None = Field(description="精确位置（已删除时为空）")
    lng: float | None
    assignee: PersonRef | None = Field(description="接单志愿者的电话（点单人、协调员可见）")


class VolunteerContactOut(BaseModel):
    volunteer_id: int
    user_id: int
    status: VolunteerStatus
    name: str
    phone: str | None
    id_number: str | None
    birth_date: date | None
    lat: float | None = Field(description="精确住址位置（未保存时为空）")
    lng: float | None


class DeletionIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"confirm": "注销账号"}]})

    confirm: Literal["注销账号"] = Field(
        description="确认注销：须填写“注销账号”", json_schema_extra={"enum": ["注销账号"]}
    )


class DeletionOut(BaseModel):
    pseudonym: str = Field(description="服务记录中保留的化名")
    deleted_at: datetime
    erased: dict[str, int] = Field(description="删除或处理的条目数")
