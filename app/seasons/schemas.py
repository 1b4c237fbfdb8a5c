from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Code, Schema
from app.seasons.festivals import MAX_YEAR, MIN_YEAR, Festival
from app.seasons.monthdays import DateRange

YearPath = Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR, description="公历年份，1901–2099")]
YearQuery = Annotated[
    int | None,
    Query(ge=MIN_YEAR, le=MAX_YEAR, description="公历年份，1901–2099；不填则为今年和明年"),
]
# "MM-DD" of a day that exists in a leap year; whether it exists is the service's check
# (SEASON_PERIOD_INVALID), the shape is checked here. [0-9], not \d, which takes any digit.
MonthDay = Annotated[str, Field(max_length=5, pattern=r"^[0-9]{2}-[0-9]{2}$", examples=["12-01"])]
Weight = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class SeasonOut(BaseModel):
    code: str
    name: str
    description: str


class DateRangeOut(BaseModel):
    start_date: date
    end_date: date
    days: int

    @classmethod
    def of(cls, r: DateRange) -> DateRangeOut:
        return cls(start_date=r.start_date, end_date=r.end_date, days=r.days)


class FestivalOut(BaseModel):
    code: str
    name: str
    gregorian_date: date
    lunar_date: str
    rule: str
    season_code: str | None = None

    @classmethod
    def of(cls, f: Festival, season_code: str | None = None) -> FestivalOut:
        return cls(
            code=f.code,
            name=f.name,
            gregorian_date=f.gregorian_date,
            lunar_date=f.lunar_date,
            rule=f.rule,
            season_code=season_code,
        )


class CurrentSeasonOut(BaseModel):
    local_date: date = Field(description="城市当地（Asia/Shanghai）今天的日期")
    season: SeasonOut | None = Field(description="今天所在的季节；不在任何季节时为 null")
    period: DateRangeOut | None = Field(description="今天所在的连续时段（跨年时段跨越年末）")
    days_left: int | None = Field(description="本时段剩余天数，含今天（最后一天为 1）")
    affinities: dict[str, float] = Field(description="服务类别编码 → 与本季主题的契合度 0–1")


class SeasonYearOut(SeasonOut):
    ranges: list[DateRangeOut]
    days: int
    festivals: list[FestivalOut]


class YearOut(BaseModel):
    year: int
    seasons: list[SeasonYearOut]
    unassigned: list[DateRangeOut] = Field(description="不属于任何季节的日期")
    festivals: list[FestivalOut] = Field(description="全年节日，含不在任何季节内的")


class FestivalsOut(BaseModel):
    years: list[int]
    festivals: list[FestivalOut]


class PeriodIO(Schema):
    start_md: MonthDay
    end_md: MonthDay


class SeasonConfigOut(SeasonOut):
    sort_order: int
    is_active: bool
    periods: list[PeriodIO]
    affinities: dict[str, float]


class PeriodsIn(Schema):
    """The season's periods, replacing the old ones; "MM-DD" to "MM-DD" inclusive, a period
    whose start is after its end wraps the year's end (12-01 to 01-31)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"periods": [{"start_md": "12-01", "end_md": "01-31"}]}]}
    )

    periods: list[PeriodIO] = Field(max_length=24)


class AffinitiesIn(Schema):
    """The season's category affinities, replacing the old ones; unlisted categories get 0."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"weights": {"elderly_orphan_care": 1.0, "neighbourly_watch": 0.8, "culture": 0.5}}
            ]
        }
    )

    weights: dict[Code, Weight] = Field(max_length=100)
