from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.models.enums import VolunteerStatus
from app.privacy.masking import valid_id_number
from app.schemas import Code, Id, Lat, LatOut, Lng, LngOut, Located, RadiusM, Schema, ShortReason

# Half-hour steps: availability is kept as half-hour masks (app/volunteers/availability.py).
_HHMM = r"^([01]\d|2[0-3]):(00|30)$|^24:00$"


class AvailabilitySlot(Schema):
    weekday: Annotated[int, Field(ge=0, le=6, description="0 = 周一 … 6 = 周日")]
    start: Annotated[str, Field(pattern=_HHMM, examples=["08:30"])]
    end: Annotated[str, Field(pattern=_HHMM, examples=["11:30"])]

    @model_validator(mode="after")
    def _ordered(self) -> AvailabilitySlot:
        if self.end <= self.start:
            raise ValueError("结束时间必须晚于开始时间")
        return self


Capacity = Annotated[int, Field(ge=1, le=50)]
CategoryCodes = Annotated[list[Code], Field(max_length=20)]
Availability = Annotated[list[AvailabilitySlot], Field(max_length=50)]
SkillCodes = Annotated[list[Code], Field(max_length=30)]


def _birth_date(value: date | None) -> date | None:
    if value is not None and not (date(1900, 1, 1) <= value <= date.today()):
        raise ValueError("出生日期不合理")
    return value


def _id_number(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    if not valid_id_number(value):
        raise ValueError("身份证号码不正确")
    return value


IdNumber = Annotated[
    str,
    Field(
        min_length=18,
        max_length=18,
        description="居民身份证号码（选填，仅用于导出至全国志愿服务信息系统；加密保存，他人只见脱敏值）",
    ),
]


class VolunteerRegister(Located):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "home_station_id": 12,
                    "lat": 30.5912,
                    "lng": 119.8703,
                    "service_radius_m": 5000,
                    "skill_codes": ["errands", "companionship", "computer"],
                    "weekly_availability": [
                        {"weekday": 5, "start": "08:30", "end": "11:30"},
                        {"weekday": 6, "start": "14:00", "end": "17:00"},
                    ],
                    "max_concurrent_tasks": 2,
                    "birth_date": "1992-06-18",
                    "preferred_category_codes": ["elderly_orphan_care", "culture"],
                }
            ]
        }
    )

    home_station_id: Id
    lat: Lat
    lng: Lng
    service_radius_m: RadiusM = 3000
    skill_codes: SkillCodes = []
    weekly_availability: Availability = []
    max_concurrent_tasks: Capacity = 2
    birth_date: date | None = None
    preferred_category_codes: CategoryCodes = Field(
        default=[], description="愿意服务的类别（匹配时优先）"
    )
    id_number: IdNumber | None = None

    _check_birth = field_validator("birth_date")(_birth_date)
    _check_id_number = field_validator("id_number")(_id_number)


class VolunteerUpdate(Located):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_radius_m": 8000,
                    "skill_codes": ["errands", "companionship", "driving"],
                    "weekly_availability": [{"weekday": 6, "start": "08:30", "end": "12:00"}],
                },
                {"lat": 30.5903, "lng": 119.8721},
            ]
        }
    )

    home_station_id: Id | None = None
    lat: Lat | None = None
    lng: Lng | None = None
    service_radius_m: RadiusM | None = None
    skill_codes: SkillCodes | None = None
    weekly_availability: Availability | None = None
    max_concurrent_tasks: Capacity | None = None
    birth_date: date | None = None
    preferred_category_codes: CategoryCodes | None = None
    id_number: IdNumber | None = None

    _check_birth = field_validator("birth_date")(_birth_date)
    _check_id_number = field_validator("id_number")(_id_number)

    @model_validator(mode="after")
    def _location_pair(self) -> VolunteerUpdate:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("经纬度须同时提供")
        return self


class QualificationIn(Schema):
    """A coordinator records that a volunteer holds a qualified skill (Art 16)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"skill_code": "driving", "qualified_until": "2032-05-31"}]}
    )

    skill_code: Code
    qualified_until: date = Field(description="证书或培训有效期的最后一天")


class InsuranceIn(Schema):
    """A coordinator records the volunteer's accident insurance (Art 17)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"insured_until": "2027-12-31"}]})

    insured_until: date = Field(description="保险有效期的最后一天")


class SuspendIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "连续三次接单后未到场，经站点核实暂停接单一个月"}]
        }
    )

    reason: ShortReason


class StationBrief(BaseModel):
    id: int
    name: str


class VolunteerOut(BaseModel):
    """A volunteer's profile. Others than the volunteer see it `masked`: phone and ID number
    masked, the age band instead of the birth date, the home to about 100 m."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "user_id": 301,
                    "name": "王晓峰",
                    "phone": "13957205678",
                    "home_station": {"id": 12, "name": "仙潭村新时代文明实践站"},
                    "lat": 30.5912,
                    "lng": 119.8703,
                    "service_radius_m": 5000,
                    "skill_codes": ["errands", "companionship", "computer"],
                    "qualifications": {},
                    "preferred_category_codes": ["elderly_orphan_care", "culture"],
                    "insured_until": "2027-06-30",
                    "weekly_availability": [
                        {"weekday": 5, "start": "08:30", "end": "11:30"},
                        {"weekday": 6, "start": "14:00", "end": "17:00"},
                    ],
                    "max_concurrent_tasks": 2,
                    "active_tasks": 0,
                    "status": "active",
                    "suspended_reason": None,
                    "birth_date": "1992-06-18",
                    "age_band": "30–39岁",
                    "id_number": None,
                    "masked": False,
                    "completed_count": 0,
                    "withdrawn_count": 0,
                    "released_count": 0,
                    "created_at": "2026-12-02T02:30:00Z",
                }
            ]
        }
    )

    id: int
    user_id: int
    name: str
    phone: str | None
    home_station: StationBrief
    lat: LatOut
    lng: LngOut
    service_radius_m: int
    skill_codes: list[str]
    qualifications: dict[str, date] = Field(description="需资质的技能及其有效期")
    preferred_category_codes: list[str]
    insured_until: date | None
    weekly_availability: list[AvailabilitySlot]
    max_concurrent_tasks: int
    active_tasks: int
    status: VolunteerStatus
    suspended_reason: str | None
    birth_date: date | None = Field(description="仅本人可见；他人见 age_band")
    age_band: str | None = Field(description="年龄段，如“30–39岁”")
    id_number: str | None = Field(description="身份证号码（他人只见脱敏值，如 3301**********1234）")
    masked: bool
    completed_count: int
    withdrawn_count: int
    released_count: int
    created_at: datetime


class HomeMoveOut(BaseModel):
    """One setting of a volunteer's home: when, by whom, and the coarse cells (centres of the
    0.01° grid, GCJ-02) it moved from and to — never the exact points."""

    id: int
    moved_at: datetime
    actor_id: int | None = Field(description="操作人（用户编号）")
    from_coarse_lat: float | None = Field(description="原住址所在网格中心纬度；首次登记为 null")
    from_coarse_lng: float | None
    to_coarse_lat: float
    to_coarse_lng: float


class HomeMoveAllowance(BaseModel):
    per_day: int = Field(description="每 24 小时最多修改次数（注册计为一次）")
    per_30_days: int = Field(description="每 30 天最多修改次数")
    remaining_today: int
    remaining_30_days: int
    next_allowed_at: datetime | None = Field(description="下次可修改的时间；null 表示现在即可")


class MyHomeMoves(BaseModel):
    allowance: HomeMoveAllowance
    items: list[HomeMoveOut] = Field(description="最近的修改记录（新的在前）")
