"""Schemas of star volunteers: standings, the public notice, objections, ladders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

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
    reason: Reason


class ResolveIn(Schema):
    uphold: bool = Field(description="true：异议成立，撤销认定；false：异议不成立，恢复公示")
    reason: Reason
