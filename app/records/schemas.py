"""Request and response bodies of the hours ledger, confirmation and record rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from app.schemas import (
    Id,
    Instant,
    OptionalNote,
    Reason,
    Schema,
    ShortReason,
)

# Hours in a request: at most one day per entry, to the minute.
Hours = Annotated[float, Field(ge=0, le=24, allow_inf_nan=False)]


class ConfirmIn(Schema):
    note: OptionalNote = ""


class RejectIn(Schema):
    reason: ShortReason


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


class RulesFields(BaseModel):
    fence_m: Annotated[int, Field(ge=50, le=5000)] | None = Field(
        default=None, description="签到围栏半径（米）"
    )
    checkin_early_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | None = None
    checkin_late_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | None = None
    late_sync_hours: Annotated[int, Field(ge=0, le=30 * 24)] | None = Field(
        default=None, description="离线签到补传的最长期限（小时）"
    )
    confirm_by: Literal["coordinator", "requester", "either"] | None = Field(
        default=None, description="由谁确认时长：协调员、点单人或任一方"
    )
    rounding_minutes: Annotated[int, Field(ge=1, le=240)] | None = Field(
        default=None, description="时长取整单位（分钟，向下取整）"
    )
    cap_minutes: Annotated[int, Field(ge=30, le=24 * 60)] | None = Field(
        default=None, description="单次活动计入时长上限（分钟）"
    )
    min_attendance_pct: Annotated[int, Field(ge=0, le=100)] | None = Field(
        default=None, description="实际服务时长不足计划时长的此比例则不计入"
    )
    points_per_hour: Annotated[int, Field(ge=0, le=1000)] | None = None
    star_ladder: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    notice_days: Annotated[int, Field(ge=1, le=60)] | None = None
    confirm_remind_hours: Annotated[int, Field(ge=1, le=30 * 24)] | None = Field(
        default=None, description="签退后多少小时仍未确认时长，提醒确认人"
    )
    confirm_escalate_hours: Annotated[int, Field(ge=1, le=90 * 24)] | None = Field(
        default=None, description="签退后多少小时仍未确认，上报上级单位（此后每隔此时长再上报一级）"
    )


class RulesUpdate(RulesFields, Schema):
    """Fields to set on this unit; a null clears the unit's own value (it inherits again)."""


class RulesOut(BaseModel):
    org_unit_id: int
    own: RulesFields
    effective: dict[str, object]


class FlagOut(BaseModel):
    kind: Literal["MANUAL", "LATE_SYNC", "QUICK_FIVE_STAR", "SAME_SECOND_CHECKINS"]
    message: str
    attendance_ids: list[int]
    volunteer_ids: list[int]
    requester_id: int | None = None
    at: datetime | None = None
