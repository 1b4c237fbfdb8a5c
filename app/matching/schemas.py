from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from app.matching.scoring import REASON_TEXT, Reason


class FactorOut(BaseModel):
    value: float = Field(description="0–1")
    weight: float
    contribution: float = Field(description="value × weight; the contributions sum to the score")

    @classmethod
    def breakdown(
        cls, factors: Mapping[str, float], weights: Mapping[str, float]
    ) -> dict[str, FactorOut]:
        """Each factor's value with its weight and its share of the score."""
        return {
            name: cls(
                value=value,
                weight=round(weights[name], 4),
                contribution=round(value * weights[name], 4),
            )
            for name, value in factors.items()
        }


class CandidateOut(BaseModel):
    volunteer_id: int
    name: str
    distance_m: float
    score: float
    factors: dict[str, FactorOut] = Field(description="为什么是这位志愿者：各项得分")


class ReasonOut(BaseModel):
    code: Reason
    message: str

    @classmethod
    def of(cls, reason: Reason) -> ReasonOut:
        return cls(code=reason, message=REASON_TEXT[reason])


class IneligibleOut(BaseModel):
    volunteer_id: int
    name: str
    distance_m: float
    reasons: list[ReasonOut]


class RankingOut(BaseModel):
    wish_id: int
    weights: dict[str, float]
    season_fit: float = Field(description="心愿类别与当前“四季红”季节主题的契合度")
    considered: int = Field(description="读取的附近志愿者人数")
    eligible_count: int
    candidates: list[CandidateOut]
    ineligible: list[IneligibleOut] | None = None
