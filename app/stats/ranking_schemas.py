"""Bodies of the ranking of units and its weights."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Schema

WEIGHTS_EXAMPLE: list[Any] = [
    {"indicator": "active", "label": "活跃志愿者", "weight": 30},
    {"indicator": "hours", "label": "服务时长", "weight": 30},
    {"indicator": "completed", "label": "完成心愿", "weight": 20},
    {"indicator": "coverage", "label": "实践站覆盖率", "weight": 20},
]


def _village(unit_id: int, name: str) -> dict[str, object]:
    return {"id": unit_id, "name": name, "level": "village"}


def _measures(values: list[float | None], scores: list[float]) -> list[dict[str, object]]:
    return [
        {"key": w["indicator"], "label": w["label"], "value": value, "score": score}
        for w, value, score in zip(WEIGHTS_EXAMPLE, values, scores, strict=True)
    ]


# The ranking's example, shown on its route (its `from` is an alias the model's own examples
# cannot name).
RANKING_EXAMPLE = {
    "unit": {"id": 3, "name": "递铺街道新时代文明实践所", "level": "township"},
    "from": "2026-11-01",
    "to": "2026-11-30",
    "weights": WEIGHTS_EXAMPLE,
    "rows": [
        {
            "rank": 1,
            "unit": _village(41, "三合村新时代文明实践站"),
            "score": 82.5,
            "indicators": _measures([18, 96.5, 11, 1.0], [1.0, 0.75, 1.0, 0.5]),
        },
        {
            "rank": 2,
            "unit": _village(42, "五四村新时代文明实践站"),
            "score": 0.0,
            "indicators": _measures([6, 20.0, 2, None], [0.0, 0.0, 0.0, 0.0]),
        },
    ],
}


class RankedUnitRef(BaseModel):
    id: int
    name: str
    level: str


class RankingWeightOut(BaseModel):
    indicator: str = Field(description="考核指标")
    label: str
    weight: int = Field(description="权重，0–100")


class RankingWeightsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unit_id": 3,
                    "inherited": True,
                    "source_unit": {"id": 1, "name": "德清县新时代文明实践中心", "level": "county"},
                    "weights": WEIGHTS_EXAMPLE,
                }
            ]
        }
    )

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
    model_config = ConfigDict(populate_by_name=True)

    unit: RankedUnitRef
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    weights: list[RankingWeightOut]
    rows: list[RankingRow]
