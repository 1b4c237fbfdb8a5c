"""Schemas of star volunteers: standings, the public notice, objections, ladders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.records.stars.service import AwardStatus
from app.schemas import Name, Reason, Schema


class UnitWithLevel(BaseModel):
    id: int
    name: str
    level: str


class LadderOut(BaseModel):
    code: str
    name: str
    thresholds: list[int] = Field(description="1 星起各星级所需累计服务小时数")
    certifying_levels: list[str] = Field(description="各星级的认定单位层级")


class LadderIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "德清县星级（100/300/600/1000/1500 小时）",
                    "thresholds": [100, 300, 600, 1000, 1500],
                    "certifying_levels": ["township", "township", "county", "county", "city"],
                }
            ]
        }
    )

    name: Name
    # Lengths, order and levels are the service's check (STAR_LADDER_INVALID, 400); the
    # bound here only keeps bodies small.
    thresholds: list[int] = Field(max_length=100)
    certifying_levels: list[Annotated[str, Field(max_length=16)]] = Field(max_length=100)


class AwardOut(BaseModel):
    id: int
    star: int
    ladder_code: str
    hours_at_award: float
    certifying_unit: UnitWithLevel
    status: AwardStatus = Field(
        description="notice 公示中 | held 异议处理中 | effective 已生效 | revoked 已撤销"
    )
    notice_starts_at: datetime
    notice_ends_at: datetime
    objection: str | None
    objection_at: datetime | None
    resolution: str | None
    resolved_at: datetime | None


class StarStandingOut(BaseModel):
    volunteer_id: int
    name: str
    current_star: int = Field(description="已生效的最高星级，0 为尚无")
    total_hours: float
    ladder: LadderOut | None
    next_star: int | None
    next_threshold_hours: int | None
    hours_to_go: float | None
    awards: list[AwardOut]


class StarNoticeOut(BaseModel):
    id: int
    volunteer_id: int
    volunteer_name: str
    station: UnitWithLevel
    star: int
    hours_at_award: float
    certifying_unit: UnitWithLevel
    status: AwardStatus
    notice_starts_at: datetime
    notice_ends_at: datetime


class ObjectionIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "该志愿者今年有多次服务记录为代签，时长存疑，请核实。"}]
        }
    )

    reason: Reason


class ResolveIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uphold": False,
                    "reason": "经站点核实，代签记录均有点单人确认，时长属实，恢复公示。",
                }
            ]
        }
    )

    uphold: bool = Field(description="true：异议成立，撤销认定；false：异议不成立，恢复公示")
    reason: Reason
