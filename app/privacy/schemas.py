from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.privacy.consent import ConsentPurpose, Method
from app.schemas import Document, Schema, ShortText

# The version of a consent text, as a resident was shown it.
ConsentVersion = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z._-]+$")]


class ConsentTextOut(BaseModel):
    purpose: ConsentPurpose
    version: str
    title: str
    body: str
    effective_date: date


class ConsentTextIn(Schema):
    """A new version of a consent text. Published texts never change: a new wording is a new
    version, in force from its effective date (today or later)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "purpose": "location",
                    "version": "3",
                    "title": "签到签退位置信息授权",
                    "body": "为核实服务是否在服务地点进行，签到、签退时将记录您手机的精确位置……",
                    "effective_date": "2027-01-01",
                }
            ]
        }
    )

    purpose: ConsentPurpose
    version: ConsentVersion
    title: ShortText
    body: Document
    effective_date: date


class ConsentIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"granted": True, "version": "2"}, {"granted": False}]}
    )

    granted: bool = Field(description="同意（true）或撤回（false）")
    version: ConsentVersion | None = Field(
        default=None, description="同意时必填：所阅读的授权文本版本（GET /consent-texts/{purpose}）"
    )

    @model_validator(mode="after")
    def _version_with_grant(self) -> ConsentIn:
        if self.granted and self.version is None:
            raise ValueError("同意时须注明所阅读的授权文本版本")
        return self


class ConsentOut(BaseModel):
    purpose: ConsentPurpose
    granted: bool
    version: str | None = Field(description="同意的文本版本")
    method: Method | None
    since: datetime | None
    current_version: str | None = Field(description="现行文本版本")
    up_to_date: bool = Field(description="已同意且同意的是现行版本")
    removed_fixes: int | None = Field(
        default=None, description="撤回位置授权时：删除的签到签退定位条数"
    )


class AccessLogOut(BaseModel):
    id: int
    actor_id: int
    actor_name: str
    actor_role: str
    subject_user_id: int
    subject_name: str
    wish_id: int | None
    volunteer_id: int | None
    fields: list[str]
    purpose: str
    reason: str | None
    created_at: datetime


class MyAccessOut(BaseModel):
    """Who (in which capacity) saw which of my data, for what, when."""

    id: int
    actor_role: str
    fields: list[str]
    purpose: str
    wish_id: int | None
    created_at: datetime
