"""Bodies of the ranking of units and its weights."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Schema


class RankedUnitRef(BaseModel):
    id: int
    name: str
    level: str


class RankingWeightOut(BaseModel):
    indicator: str = Field(description="考核指标")
    label: str
    weight: int = Field(description="权重，0–100")


class RankingWeightsOut(BaseModel):
    unit_id: int
    inherited: bool = Field(description="本单位未设置，沿用上级单位或系统默认")
    source_unit: RankedUnitRef | None = Field(description="设置这些权重的单位；null 为系统默认")
    weights: list[RankingWeightOut]


class RankingWeightIn(Schema):
    indicator: str = Field(min_length=1, max_length=40, description="考核指标")
    weight: int = Field(description="权重，0–100 的整数")


class RankingWeightsUpdate(Schema):
    """The unit's weights; indicators not listed get 0. At least one weight must be positive."""

    weights: list[RankingWeightIn] = Field(max_length=50)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "weights": [
                        {"indicator": "active", "weight": 30},
                        {"indicator": "hours", "weight": 30},
                        {"indicator": "completed", "weight": 20},
                        {"indicator": "coverage", "weight": 20},
                    ]
                }
            ]
        }
    )


class RankingIndicatorOut(BaseModel):
    key: str
    label: str
    value: float | int | None = Field(description="指标值；无法计算时为 null")
    score: float = Field(description="在各下级单位间按最小–最大归一化后的得分，0–1")


class RankingRow(BaseModel):
    rank: int
    unit: RankedUnitRef
    score: float = Field(description="加权得分，0–100")
    indicators: list[RankingIndicatorOut]


class UnitRankingOut(BaseModel):
    unit: RankedUnitRef
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    weights: list[RankingWeightOut]
    rows: list[RankingRow]

    model_config = ConfigDict(populate_by_name=True)
