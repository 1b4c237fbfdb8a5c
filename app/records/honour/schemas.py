"""Schemas of honour lists."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from app.records.honour.service import HonourBy, HonourPeriod


class UnitRef(BaseModel):
    id: int
    name: str


class SeasonRef(BaseModel):
    code: str
    name: str


class HonourRowOut(BaseModel):
    rank: int = Field(description="名次；数值相同者名次相同（1、2、2、4）")
    volunteer_id: int
    name: str
    station: UnitRef
    hours: float = Field(description="期内服务时长（小时，两位小数）")
    average_rating: float | None = Field(
        default=None, description="按评价排行时：期内评价均分（两位小数）"
    )
    rating_count: int | None = Field(default=None, description="按评价排行时：期内评价次数")


class HonourListOut(BaseModel):
    unit: UnitRef
    by: HonourBy
    period: HonourPeriod
    start_date: date
    end_date: date
    season: SeasonRef | None = None
    theme_category_codes: list[str] | None = Field(
        default=None, description="当季主题榜：计入的服务类别"
    )
    min_ratings: int | None = Field(default=None, description="按评价排行时：上榜所需最少评价数")
    items: list[HonourRowOut]
    mine: HonourRowOut | None = Field(
        default=None, description="调用者本人（志愿者）在本榜的名次，未上榜为空"
    )
