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


class FlagOut(BaseModel):
    kind: Literal["MANUAL", "LATE_SYNC", "QUICK_FIVE_STAR", "SAME_SECOND_CHECKINS"]
    message: str
    attendance_ids: list[int]
    volunteer_ids: list[int]
    requester_id: int | None = None
    at: datetime | None = None
