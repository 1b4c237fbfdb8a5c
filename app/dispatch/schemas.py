from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

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


class PolicyOut(BaseModel):
    org_unit_id: int
    own: PolicyFields = Field(description="本单位自己的设置（未设置的沿用上级或默认值）")
    effective: dict[str, object] = Field(description="实际生效的设置")
