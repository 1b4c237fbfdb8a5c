from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Code

TopicName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z_]+\.[a-z_]+$")]
TemplateId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
Answer = Literal["accept", "reject", "ban", "filter"]


class TopicPreference(BaseModel):
    topic: str
    label: str
    enabled: bool


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    start: time | None = Field(
        default=None, description="本地时间 HH:MM；与 end 同时为空则用系统默认"
    )
    end: time | None = None


class QuietHoursOut(BaseModel):
    enabled: bool
    start: str
    end: str
    custom: bool = Field(description="是否为本人设置的时段（否则为系统默认）")


class NotificationPreferencesOut(BaseModel):
    topics: list[TopicPreference]
    quiet_hours: QuietHoursOut


class NotificationPreferencesIn(BaseModel):
    """Replaces the caller's preferences: the topics to leave out of pushes (the inbox still
    lists them) and the quiet hours."""

    model_config = ConfigDict(extra="forbid")

    opted_out: list[TopicName] = Field(default_factory=list, max_length=100)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)


class TemplateQuota(BaseModel):
    kind: Code
    template_id: str
    remaining: int
    last_result: str | None


class SubscriptionsOut(BaseModel):
    templates: list[TemplateQuota]
    subscribe_hint: list[str] = Field(
        description="建议现在以 wx.requestSubscribeMessage 请求订阅的模板 id（至多 3 个）"
    )


class SubscriptionAnswers(BaseModel):
    """The result of `wx.requestSubscribeMessage` as WeChat returns it: template id →
    accept / reject / ban / filter (its `errMsg` key is ignored)."""

    model_config = ConfigDict(extra="allow")

    errMsg: str | None = Field(default=None, max_length=200)
