"""Schemas of batch dispatch: the plan to review and the reviewed plan to apply.

Kept here rather than in `app/rules/schemas.py`, which belongs to the dispatch policy
endpoints."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.dispatch.batch.plan import UnassignedReason
from app.dispatch.batch.problem import MAX_WISHES
from app.matching.schemas import FactorOut
from app.models.enums import WishStatus
from app.schemas import Id, Schema, ShortNote


class PlanItemOut(BaseModel):
    wish_id: int
    title: str
    volunteer_id: int
    name: str
    distance_m: float
    score: float
    factors: dict[str, FactorOut] = Field(description="为什么是这位志愿者：各项得分")


class UnassignedOut(BaseModel):
    wish_id: int
    title: str
    reason: UnassignedReason
    message: str
    eligible_count: int = Field(description="符合硬性条件的志愿者人数")


class PlanCounts(BaseModel):
    wishes: int = Field(description="参与计算的待派单心愿数")
    assigned: int
    unassigned: int
    volunteers: int = Field(description="本单位（含下级）参与计算的在岗志愿者数")
    eligible_pairs: int = Field(description="满足硬性条件的（心愿, 志愿者）组合数")


class PlanOut(BaseModel):
    org_unit_id: int
    weights: dict[str, float]
    items: list[PlanItemOut] = Field(description="建议的派单：每个心愿至多一位志愿者")
    unassigned: list[UnassignedOut]
    total_score: float = Field(description="方案总得分（全局最优）")
    counts: PlanCounts
    truncated: bool = Field(
        description=f"待派单心愿超过 {MAX_WISHES} 个，只计算了最早的 {MAX_WISHES} 个"
    )
    elapsed_ms: float
    timings_ms: dict[str, float]


class AssignmentIn(Schema):
    wish_id: Id
    volunteer_id: Id


class PlanApply(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "assignments": [
                        {"wish_id": 1024, "volunteer_id": 42},
                        {"wish_id": 1031, "volunteer_id": 57},
                    ],
                    "expires_in_minutes": 60,
                    "note": "周六上午集中派单",
                }
            ]
        }
    )

    assignments: Annotated[list[AssignmentIn], Field(min_length=1, max_length=MAX_WISHES)] = Field(
        description="审核后的派单方案（可删改）：每个心愿至多出现一次"
    )
    expires_in_minutes: Annotated[int, Field(ge=5, le=7 * 24 * 60)] | None = Field(
        default=None, description="邀请有效时长（分钟），默认按系统设置"
    )
    note: ShortNote = ""

    @field_validator("assignments")
    @classmethod
    def _one_per_wish(cls, value: list[AssignmentIn]) -> list[AssignmentIn]:
        seen: set[int] = set()
        for assignment in value:
            if assignment.wish_id in seen:
                raise ValueError(f"心愿 {assignment.wish_id} 出现了多次，每个心愿只能派给一人")
            seen.add(assignment.wish_id)
        return value


class ItemError(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class AppliedOut(BaseModel):
    wish_id: int
    volunteer_id: int
    ok: bool
    status: WishStatus | None = Field(description="派单后心愿的状态（成功时）")
    error: ItemError | None = None


class ApplyStatus(StrEnum):
    APPLYING = "applying"
    DONE = "done"


class ApplyOut(BaseModel):
    org_unit_id: int
    sent: int = Field(description="已发出的派单邀请数")
    failed: int
    items: list[AppliedOut] = Field(description="逐条结果（后台发送的，全部完成后才列出）")
    id: int | None = Field(
        default=None,
        description="后台发送时的记录号，用于 GET /dispatch-plan/applies/{id} 查询进度；"
        "在本次请求内发完时为空",
    )
    status: ApplyStatus = Field(
        default=ApplyStatus.DONE, description="applying：后台发送中；done：全部处理完"
    )
    total: int = Field(default=0, description="方案条数")
    done: int = Field(default=0, description="已处理条数（已发出或已失败）")
