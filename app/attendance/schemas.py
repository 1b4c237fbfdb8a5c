"""Request and response bodies of check-in, check-out, team service and the volunteer's feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.models.enums import AttendanceStatus
from app.schemas import Id, Instant, Lat, Lng, Located, OptionalNote, Schema, ShortReason

Nonce = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class AttendanceIn(Located):
    """A check-in or check-out. Volunteers send the phone's fix; a coordinator confirming on a
    volunteer's behalf names the volunteer and gives a reason."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"lat": 30.5869, "lng": 119.8650, "nonce": "c1f7e2a9-4b6d-4e0a-9d1f-2b8c6a1e5f30"},
                {
                    "lat": 30.5868,
                    "lng": 119.8651,
                    "nonce": "7d2e9b14-0c3a-4f58-8e6b-91a4d2c7f0e1",
                    "summary": "买了青菜、豆腐和鸡蛋，陪奶奶聊了一个小时，老人精神不错。",
                },
                {
                    "volunteer_id": 42,
                    "reason": "志愿者手机没电，由站点协调员现场确认代签",
                },
            ]
        }
    )

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"volunteer_id": 57}]})

    volunteer_id: Id


class FeedbackIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"score": 5, "comment": "奶奶很热情，下次还愿意来帮忙。"}]}
    )

    score: Annotated[int, Field(ge=1, le=5)]
    comment: OptionalNote = ""


class AttendanceOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 517,
                    "kind": "wish",
                    "wish_id": 1024,
                    "activity_session_id": None,
                    "visit_id": None,
                    "volunteer_id": 42,
                    "volunteer_name": "王晓峰",
                    "unit_id": 12,
                    "is_lead": True,
                    "status": "checked_out",
                    "checked_in_at": "2026-12-05T00:58:00Z",
                    "check_in_method": "gps",
                    "checked_out_at": "2026-12-05T03:02:00Z",
                    "check_out_method": "gps",
                    "manual": False,
                    "late_sync": False,
                    "manual_reason": None,
                    "summary": "买了青菜、豆腐和鸡蛋，陪奶奶聊了一个小时，老人精神不错。",
                    "attended_hours": 2.07,
                    "credited_hours": None,
                    "confirmed_at": None,
                    "reject_reason": None,
                    "feedback_score": 5,
                }
            ]
        }
    )

    id: int
    kind: Literal["wish", "activity", "visit"] = Field(
        description="记录的对象：心愿（wish_id）、活动场次（activity_session_id）或结对走访（visit_id）"
    )
    wish_id: int | None
    activity_session_id: int | None = None
    visit_id: int | None = None
    volunteer_id: int
    volunteer_name: str
    unit_id: int
    is_lead: bool
    status: AttendanceStatus
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
