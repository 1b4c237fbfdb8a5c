"""Schemas of points: the ledger, redemption at the 爱心超市, adjustments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.pagination import Page
from app.records.points.service import MAX_POINTS
from app.schemas import Schema, ShortReason, ShortText


def _not_zero(value: int) -> int:
    if value == 0:
        raise ValueError("调整的积分不能为 0")
    return value


# Strict: `true` or `"10"` are not a number of points.
Points = Annotated[int, Field(strict=True, ge=1, le=MAX_POINTS)]
SignedPoints = Annotated[
    int,
    Field(strict=True, ge=-MAX_POINTS, le=MAX_POINTS),
    AfterValidator(_not_zero),
]
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class RedemptionIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "points": 30,
                    "item": "爱心超市：食用油一桶",
                    "idempotency_key": "redeem-42-20261202-01",
                }
            ]
        }
    )

    points: Points
    item: ShortText
    idempotency_key: IdempotencyKey | None = Field(
        default=None,
        description=(
            "可选。同一志愿者重复提交同一幂等键时，返回第一次兑换的记录（replayed=true），"
            "不再扣分；同一幂等键用于不同的积分或物品时返回 422 IDEMPOTENCY_KEY_REUSED。"
        ),
    )


class AdjustmentIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"points": 20, "reason": "协助组织重阳节敬老活动，站点奖励积分"},
                {"points": -10, "reason": "兑换登记错误，扣回多记的积分"},
            ]
        }
    )

    points: SignedPoints
    reason: ShortReason


class PointsEntryOut(BaseModel):
    id: int
    kind: str
    points: int
    item: str | None
    reason: str | None
    unit_id: int
    hours_entry_id: int | None
    created_by_id: int | None
    created_at: datetime


class PointsLedgerOut(Page[PointsEntryOut]):
    volunteer_id: int
    balance: int


class PointsMovementOut(BaseModel):
    entry: PointsEntryOut
    balance: int
    replayed: bool = False
