"""Request and response bodies of the hours ledger, confirmation and record rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "点单人电话确认服务属实"}]})

    note: OptionalNote = ""


class RejectIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "签到位置与服务地址不符，且点单人表示当天无人上门"}]
        }
    )

    reason: ShortReason


class CorrectionIn(Schema):
    """Reverse an entry; optionally record the corrected hours in its place."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"reason": "签退时忘记操作，经点单人确认实际服务 2 小时", "hours": 2.0},
                {"reason": "重复登记，冲销此条"},
            ]
        }
    )

    reason: ShortReason
    hours: Hours | None = Field(default=None, description="更正后的时长（小时）；不填则仅冲销")


class RecordEntryIn(Schema):
    """A training, award or evaluation record (service is recorded through check-in/out)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category": "training",
                    "content": "参加德清县新时代文明实践中心急救知识培训",
                    "started_at": "2026-11-28T09:00:00+08:00",
                    "ended_at": "2026-11-28T12:00:00+08:00",
                    "hours": 3.0,
                },
                {
                    "category": "award",
                    "content": "获评莫干山镇 2026 年度优秀志愿者",
                    "started_at": "2026-12-01T10:00:00+08:00",
                },
            ]
        }
    )

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


_ENTRY_EXAMPLE: dict[str, Any] = {
    "id": 2301,
    "volunteer_id": 42,
    "category": "service",
    "unit_id": 12,
    "unit_name": "仙潭村新时代文明实践站",
    "wish_id": 1024,
    "attendance_id": 517,
    "content": "帮独居老人买菜并陪聊一小时",
    "started_at": "2026-12-05T00:58:00Z",
    "ended_at": "2026-12-05T03:02:00Z",
    "hours": 2.0,
    "verification": "gps",
    "confirmed_by_id": 7,
    "reverses_id": None,
    "replaces_id": None,
    "reason": None,
    "approved_by_id": None,
    "created_at": "2026-12-05T08:15:00Z",
}
_TRAINING_EXAMPLE: dict[str, Any] = {
    **_ENTRY_EXAMPLE,
    "id": 2288,
    "category": "training",
    "unit_id": 3,
    "unit_name": "德清县新时代文明实践中心",
    "wish_id": None,
    "attendance_id": None,
    "content": "急救知识培训",
    "started_at": "2026-11-28T01:00:00Z",
    "ended_at": "2026-11-28T04:00:00Z",
    "hours": 3.0,
    "verification": "record",
    "confirmed_by_id": None,
    "approved_by_id": 7,
    "created_at": "2026-11-28T06:00:00Z",
}


class HoursEntryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY_EXAMPLE]})

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "volunteer_id": 42,
                    "service_hours": 126.5,
                    "training_hours": 3.0,
                    "entries": [_ENTRY_EXAMPLE, _TRAINING_EXAMPLE],
                }
            ]
        }
    )

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
