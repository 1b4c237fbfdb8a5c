"""Request and response bodies of households in need, pairings and visits.

Size: every body carries the example the API document shows (and the tests validate), which is
half the file; the bodies of the domain's three parts stay together so that a client developer
reads them in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.models.enums import Urgency
from app.privacy.schemas import ConsentVersion
from app.schemas import (
    Code,
    Id,
    Instant,
    Lat,
    LatOut,
    Lng,
    LngOut,
    Located,
    LongText,
    Name,
    OptionalNote,
    Phone,
    RequiredAddress,
    Schema,
    ShortReason,
    ShortText,
)

CategoryCodes = Annotated[list[Code], Field(min_length=1, max_length=10)]


# ---------------------------------------------------------------- household categories


class HouseholdCategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str
    service_category_code: str | None
    sort_order: int
    is_active: bool


class HouseholdCategoryCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "veteran_family",
                    "name": "优抚对象家庭",
                    "description": "烈属、军属、退役军人等优抚对象家庭",
                    "service_category_code": "poverty_relief",
                    "sort_order": 60,
                }
            ]
        }
    )

    code: Code
    name: Name
    description: OptionalNote = ""
    service_category_code: Code | None = None
    sort_order: Annotated[int, Field(ge=0, le=10_000)] = 0


class HouseholdCategoryUpdate(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"is_active": False}, {"name": "独居高龄老人"}]}
    )

    name: Name | None = None
    description: OptionalNote | None = None
    service_category_code: Code | None = None
    sort_order: Annotated[int, Field(ge=0, le=10_000)] | None = None
    is_active: bool | None = None


# ---------------------------------------------------------------- households


class HouseholdConsent(Schema):
    """How the household agreed to be registered (PIPL Art 13/14), told by the station's staff."""

    method: Literal["verbal", "written", "in_person"] = Field(
        description="verbal 口头同意 · written 书面同意（纸质留存于站点）· in_person 当面确认"
    )
    version: ConsentVersion = Field(description="向家庭说明的个人信息授权文本版本")


class HouseholdCreate(Located):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "station_id": 12,
                    "head_name": "潘桂英",
                    "phone": "13800000201",
                    "full_address": "余村 3 组 18 号",
                    "coarse_address": "余村 3 组",
                    "lat": 30.5868,
                    "lng": 119.8651,
                    "category_codes": ["elderly_alone"],
                    "consent": {"method": "written", "version": "1"},
                }
            ]
        }
    )

    station_id: Id
    head_name: Name = Field(description="户主或被帮扶人姓名（加密保存，列表中脱敏显示）")
    phone: Phone = Field(description="联系电话（本人或监护人），用于代为点单与联系")
    full_address: RequiredAddress = Field(description="详细地址（加密保存）")
    coarse_address: ShortText = Field(description="公开显示的大致地址，如“余村 3 组”")
    lat: Lat | None = Field(default=None, description="家庭位置（走访签到的范围中心）")
    lng: Lng | None = None
    category_codes: CategoryCodes
    consent: HouseholdConsent

    @field_validator("category_codes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _point_pair(self) -> HouseholdCreate:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("经纬度须同时提供")
        return self


class HouseholdUpdate(Located):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"phone": "13800000202", "category_codes": ["elderly_alone", "disability"]},
                {"lat": 30.5869, "lng": 119.8650},
            ]
        }
    )

    head_name: Name | None = None
    phone: Phone | None = None
    full_address: RequiredAddress | None = None
    coarse_address: ShortText | None = None
    lat: Lat | None = None
    lng: Lng | None = None
    category_codes: CategoryCodes | None = None

    @field_validator("category_codes")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(value)) if value is not None else None

    @model_validator(mode="after")
    def _point_pair(self) -> HouseholdUpdate:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("经纬度须同时提供")
        return self


class HouseholdOut(BaseModel):
    """A household as lists and default views show it: name and phone masked, the coarse
    address only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "station_id": 12,
                    "station_name": "余村实践站",
                    "head_name": "潘*英",
                    "phone": "138****0201",
                    "coarse_address": "余村 3 组",
                    "located": True,
                    "category_codes": ["elderly_alone"],
                    "category_names": ["独居老人"],
                    "status": "active",
                    "consent_method": "written",
                    "created_at": "2026-11-02T08:00:00Z",
                }
            ]
        }
    )

    id: int
    station_id: int
    station_name: str
    head_name: str
    phone: str | None
    coarse_address: str
    located: bool = Field(description="是否登记了位置（走访签到按此位置判断范围）")
    category_codes: list[str]
    category_names: list[str]
    status: str
    consent_method: str
    created_at: datetime


class HouseholdRevealIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "上门走访前核对地址"}]})

    reason: ShortReason


class HouseholdRevealed(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "head_name": "潘桂英",
                    "phone": "13800000201",
                    "full_address": "余村 3 组 18 号",
                    "lat": 30.5868,
                    "lng": 119.8651,
                }
            ]
        }
    )

    id: int
    head_name: str
    phone: str | None
    full_address: str | None
    lat: LatOut | None
    lng: LngOut | None


# ---------------------------------------------------------------- pairings


class HelperIn(Schema):
    kind: Literal["volunteer", "household", "team"] = Field(
        description="volunteer 志愿者 · household 帮扶家庭（户帮户）· team 志愿服务队或企业"
    )
    volunteer_id: Id | None = None
    household_id: Id | None = None
    team_id: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> HelperIn:
        given = {
            "volunteer": self.volunteer_id,
            "household": self.household_id,
            "team": self.team_id,
        }
        if given[self.kind] is None or sum(v is not None for v in given.values()) != 1:
            raise ValueError("帮扶人须且只须填写与类型对应的编号")
        return self


class PairingCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "household_id": 7,
                    "helper": {"kind": "volunteer", "volunteer_id": 42},
                    "rhythm_days": 7,
                    "visit_minutes": 60,
                    "start_date": "2026-12-07",
                    "end_date": "2027-12-06",
                    "note": "每周上门一次，陪老人聊天、代购生活用品",
                }
            ]
        }
    )

    household_id: Id
    helper: HelperIn
    rhythm_days: Annotated[
        int, Field(ge=1, le=366, description="每隔几天走访一次：7 每周，30 每月")
    ]
    visit_minutes: Annotated[int, Field(ge=15, le=480, description="约定每次走访时长（分钟）")] = 60
    start_date: date
    end_date: date | None = None
    note: OptionalNote = ""


class PairingAction(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "老人住院，暂停走访"}]})

    reason: ShortReason


PAIRING_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "station_id": 12,
    "household": {
        "id": 7,
        "head_name": "潘*英",
        "coarse_address": "余村 3 组",
        "category_names": ["独居老人"],
    },
    "helper_kind": "volunteer",
    "helper_id": 42,
    "helper_name": "王*峰",
    "rhythm_days": 7,
    "visit_minutes": 60,
    "start_date": "2026-11-02",
    "end_date": None,
    "status": "active",
    "health": "overdue",
    "health_name": "逾期未走访",
    "next_due_at": "2026-11-24T16:00:00Z",
    "last_visit_at": "2026-11-17T02:00:00Z",
    "reminded_at": "2026-11-25T16:00:00Z",
    "escalated_at": None,
    "missed_count": 1,
    "visit_count": 3,
    "note": "",
    "version": 4,
}
VISIT_EXAMPLE: dict[str, Any] = {
    "id": 31,
    "pairing_id": 3,
    "volunteer_id": 42,
    "volunteer_name": "王*峰",
    "method": "gps",
    "started_at": "2026-11-17T02:00:00Z",
    "planned_end_at": "2026-11-17T03:00:00Z",
    "ended_at": "2026-11-17T03:10:00Z",
    "reason": None,
    "needs": "冬天快到了，家里缺一床厚棉被",
    "wish_id": None,
    "record_id": 517,
    "record_status": "checked_out",
}


class PairedHousehold(BaseModel):
    id: int
    head_name: str
    coarse_address: str
    category_names: list[str]


class PairingOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PAIRING_EXAMPLE]})

    id: int
    station_id: int
    household: PairedHousehold
    helper_kind: str
    helper_id: int
    helper_name: str
    rhythm_days: int
    visit_minutes: int
    start_date: date
    end_date: date | None
    status: str
    health: str
    health_name: str
    next_due_at: datetime
    last_visit_at: datetime | None
    reminded_at: datetime | None
    escalated_at: datetime | None
    missed_count: int
    visit_count: int
    note: str
    version: int


class VisitOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [VISIT_EXAMPLE]})

    id: int
    pairing_id: int
    volunteer_id: int | None
    volunteer_name: str | None
    method: str
    started_at: datetime
    planned_end_at: datetime
    ended_at: datetime | None
    reason: str | None
    needs: str | None
    wish_id: int | None
    record_id: int | None = Field(description="服务记录编号（POST /service-records/{id}/confirm）")
    record_status: str | None


class PairingDetail(PairingOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **PAIRING_EXAMPLE,
                    "visits": [VISIT_EXAMPLE],
                }
            ]
        }
    )

    visits: list[VisitOut]


# ---------------------------------------------------------------- visits


class VisitCheckIn(Located):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"lat": 30.5868, "lng": 119.8651, "nonce": "c1f7e2a9-4b6d-4e0a-9d1f-2b8c6a1e5f30"}
            ]
        }
    )

    lat: Lat
    lng: Lng
    client_time: Instant | None = Field(
        default=None, description="离线签到时手机记录的时间（补传时必填）"
    )
    nonce: (
        Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")] | None
    ) = None


class VisitCheckOut(Located):
    """The helper's check-out with the phone's fix, or a coordinator's on their behalf with a
    reason (no fix)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lat": 30.5868,
                    "lng": 119.8651,
                    "summary": "陪老人聊天，帮忙打扫了院子",
                    "needs": "冬天快到了，家里缺一床厚棉被",
                },
                {"reason": "志愿者手机没电，由站点协调员电话核实后代签"},
            ]
        }
    )

    lat: Lat | None = None
    lng: Lng | None = None
    client_time: Instant | None = None
    nonce: (
        Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")] | None
    ) = None
    reason: ShortReason | None = Field(default=None, description="协调员代签的原因")
    summary: OptionalNote = Field(default="", description="走访内容简述")
    needs: OptionalNote = Field(default="", description="家庭提出的需求（可一键转为心愿）")

    @model_validator(mode="after")
    def _location_pair(self) -> VisitCheckOut:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("经纬度须同时提供")
        return self


class ManualVisitIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "volunteer_id": 42,
                    "started_at": "2026-11-24T09:00:00+08:00",
                    "ended_at": "2026-11-24T10:00:00+08:00",
                    "reason": "老人家中信号差，无法定位签到，电话回访核实",
                    "summary": "陪老人去卫生院量血压",
                    "needs": "",
                }
            ]
        }
    )

    volunteer_id: Id | None = Field(
        default=None, description="走访的志愿者（默认结对的帮扶志愿者；帮扶队伍须指明队员）"
    )
    started_at: Instant
    ended_at: Instant
    reason: ShortReason = Field(description="人工登记的原因")
    summary: OptionalNote = ""
    needs: OptionalNote = ""


class VisitWishIn(Schema):
    """The visit's needs as a wish, ordered by the station's staff on the household's behalf."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category_code": "elderly_orphan_care",
                    "title": "为独居老人添置一床厚棉被",
                    "consent": {"method": "verbal", "version": "1"},
                }
            ]
        }
    )

    category_code: Code | None = Field(default=None, description="服务类别（默认按家庭类别）")
    title: ShortText
    description: LongText | None = Field(default=None, description="默认为走访记录的需求")
    skill_codes: Annotated[list[Code], Field(max_length=10)] = []
    wanted_start_at: Instant | None = Field(default=None, description="默认明天此时")
    wanted_end_at: Instant | None = Field(default=None, description="默认开始后一周内")
    urgency: Urgency = Urgency.NORMAL
    consent: HouseholdConsent = Field(description="家庭同意代为点单的方式与授权文本版本")


class WishCreatedOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"visit_id": 31, "wish_id": 1024, "status": "submitted"}]}
    )

    visit_id: int
    wish_id: int
    status: str
