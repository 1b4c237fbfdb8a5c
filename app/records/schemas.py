"""Request and response bodies of attendance, the hours ledger, ratings and record rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from app.schemas import (
    Id,
    Instant,
    Lat,
    Lng,
    Located,
    OptionalNote,
    Reason,
    Schema,
    ShortReason,
)

Nonce = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
# Hours in a request: at most one day per entry, to the minute.
Hours = Annotated[float, Field(ge=0, le=24, allow_inf_nan=False)]


class AttendanceIn(Located):
    """A check-in or check-out. Volunteers send the phone's fix; a coordinator confirming on a
    volunteer's behalf names the volunteer and gives a reason."""

    lat: Lat | None = None
    lng: Lng | None = None
    client_time: Instant | None = Field(
        default=None, description="离线签到时手机记录的时间（补传时必填）"
    )
    nonce: Nonce | None = Field(
        default=None, description="客户端生成的唯一编号，重复提交不重复记录"
    )
    volunteer_id: Id | None = Field(
        default=None, description="协调员代签：志愿者编号（默认接单人）"
    )
    reason: ShortReason | None = Field(default=None, description="协调员代签的原因")
    summary: OptionalNote = Field(default="", description="签退时填写：服务内容简述")

    @model_validator(mode="after")
    def _location_pair(self) -> AttendanceIn:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("经纬度须同时提供")
        return self


class TeamMemberIn(Schema):
    volunteer_id: Id


class ConfirmIn(Schema):
    note: OptionalNote = ""


class RejectIn(Schema):
    reason: ShortReason


class FeedbackIn(Schema):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: OptionalNote = ""


class CorrectionIn(Schema):
    """Reverse an entry; optionally record the corrected hours in its place."""

    reason: ShortReason
    hours: Hours | None = Field(default=None, description="更正后的时长（小时）；不填则仅冲销")


class RecordEntryIn(Schema):
    """A training, award or evaluation record (service is recorded through check-in/out)."""

    category: Literal["training", "award", "evaluation"]
    content: Reason
    started_at: Instant
    ended_at: Instant | None = None
    hours: Hours = Field(default=0, description="培训时长（小时）；表彰和评价为 0")
    unit_id: Id | None = Field(default=None, description="记录单位（默认协调员所在单位）")

    @model_validator(mode="after")
    def _ordered(self) -> RecordEntryIn:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("结束时间不能早于开始时间")
        if self.category != "training" and self.hours:
            raise ValueError("只有培训记录可以登记时长")
        return self


class AttendanceOut(BaseModel):
    id: int
    wish_id: int
    volunteer_id: int
    volunteer_name: str
    unit_id: int
    is_lead: bool
    status: str
    checked_in_at: datetime | None
    check_in_method: str | None
    checked_out_at: datetime | None
    check_out_method: str | None
    manual: bool
    late_sync: bool
    manual_reason: str | None
    summary: str | None
    attended_hours: float | None = Field(description="签到至签退的实际时长")
    credited_hours: float | None = Field(description="确认后计入的时长（未确认为空）")
    confirmed_at: datetime | None
    reject_reason: str | None
    feedback_score: int | None


class HoursEntryOut(BaseModel):
    id: int
    volunteer_id: int
    category: str
    unit_id: int
    unit_name: str
    wish_id: int | None
    attendance_id: int | None
    content: str
    started_at: datetime
    ended_at: datetime | None
    hours: float
    verification: str
    confirmed_by_id: int | None
    reverses_id: int | None
    replaces_id: int | None
    reason: str | None
    approved_by_id: int | None
    created_at: datetime


class HoursSummary(BaseModel):
    volunteer_id: int
    service_hours: float = Field(description="累计志愿服务时长（记录之和）")
    training_hours: float
    entries: list[HoursEntryOut]


class CorrectionOut(BaseModel):
    reversal: HoursEntryOut
    replacement: HoursEntryOut | None
    service_hours: float


class FlagOut(BaseModel):
    kind: Literal["MANUAL", "LATE_SYNC", "QUICK_FIVE_STAR", "SAME_SECOND_CHECKINS"]
    message: str
    attendance_ids: list[int]
    volunteer_ids: list[int]
    requester_id: int | None = None
    at: datetime | None = None
