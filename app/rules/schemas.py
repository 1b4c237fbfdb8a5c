"""Schemas of the units' rules: dispatch policy and service-record rules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Schema

_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class PolicyFields(BaseModel):
    auto_dispatch: bool | None = Field(default=None, description="审核通过后系统自动派单")
    offer_k: Annotated[int, Field(ge=1, le=20)] | None = Field(
        default=None, description="每轮同时邀请的志愿者人数"
    )
    offer_minutes: Annotated[int, Field(ge=5, le=24 * 60)] | None = Field(
        default=None, description="派单邀请的有效时长（分钟）"
    )
    offer_rounds: Annotated[int, Field(ge=0, le=10)] | None = Field(
        default=None, description="开放抢单之前的定向派单轮数"
    )
    radius_growth: Annotated[float, Field(ge=1.0, le=5.0, allow_inf_nan=False)] | None = Field(
        default=None, description="每轮扩大的搜索范围倍数"
    )
    grab_minutes: Annotated[int, Field(ge=10, le=7 * 24 * 60)] | None = Field(
        default=None, description="开放抢单多久无人接单即上报"
    )
    escalation_minutes: Annotated[int, Field(ge=10, le=7 * 24 * 60)] | None = None
    review_minutes: Annotated[int, Field(ge=10, le=7 * 24 * 60)] | None = Field(
        default=None, description="提交后多久未审核即上报"
    )
    checkin_grace_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | None = None
    release_after_minutes: Annotated[int, Field(ge=5, le=24 * 60)] | None = None
    autoclose_days: Annotated[int, Field(ge=1, le=90)] | None = None
    quiet_start: Annotated[str, Field(pattern=_HHMM)] | None = None
    quiet_end: Annotated[str, Field(pattern=_HHMM)] | None = None


class PolicyUpdate(PolicyFields, Schema):
    """Fields to set on this unit; a null clears the unit's own value (it inherits again)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "auto_dispatch": True,
                    "offer_k": 3,
                    "offer_minutes": 30,
                    "quiet_start": "21:30",
                    "quiet_end": "07:00",
                },
                {"offer_rounds": None},
            ]
        }
    )


class PolicyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "org_unit_id": 12,
                    "own": {"offer_k": 5, "quiet_start": "21:30"},
                    "effective": {
                        "auto_dispatch": True,
                        "offer_k": 5,
                        "offer_minutes": 30,
                        "offer_rounds": 2,
                        "radius_growth": 1.5,
                        "grab_minutes": 120,
                        "escalation_minutes": 240,
                        "review_minutes": 240,
                        "checkin_grace_minutes": 30,
                        "release_after_minutes": 30,
                        "autoclose_days": 7,
                        "quiet_start": "21:30",
                        "quiet_end": "07:00",
                    },
                }
            ]
        }
    )

    org_unit_id: int
    own: PolicyFields = Field(description="本单位自己的设置（未设置的沿用上级或默认值）")
    effective: dict[str, object] = Field(description="实际生效的设置")


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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fence_m": 300,
                    "confirm_by": "either",
                    "rounding_minutes": 15,
                    "points_per_hour": 10,
                },
                {"cap_minutes": None},
            ]
        }
    )


class RulesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "org_unit_id": 12,
                    "own": {"fence_m": 300, "confirm_by": "either"},
                    "effective": {
                        "fence_m": 300,
                        "checkin_early_minutes": 60,
                        "checkin_late_minutes": 120,
                        "late_sync_hours": 72,
                        "confirm_by": "either",
                        "rounding_minutes": 30,
                        "cap_minutes": 480,
                        "min_attendance_pct": 60,
                        "points_per_hour": 10,
                        "star_ladder": "default",
                        "notice_days": 7,
                        "confirm_remind_hours": 48,
                        "confirm_escalate_hours": 120,
                    },
                }
            ]
        }
    )

    org_unit_id: int
    own: RulesFields
    effective: dict[str, object]
