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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "topics": [
                        {"topic": "wish.accepted", "label": "志愿者接单", "enabled": True},
                        {
                            "topic": "wish.open_for_grab",
                            "label": "附近可抢的心愿",
                            "enabled": False,
                        },
                        {"topic": "record.credited", "label": "服务时长已记入", "enabled": True},
                    ],
                    "quiet_hours": {
                        "enabled": True,
                        "start": "21:30",
                        "end": "07:00",
                        "custom": True,
                    },
                }
            ]
        }
    )

    topics: list[TopicPreference]
    quiet_hours: QuietHoursOut


class NotificationPreferencesIn(BaseModel):
    """Replaces the caller's preferences: the topics to leave out of pushes (the inbox still
    lists them) and the quiet hours."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "opted_out": ["wish.open_for_grab", "offer.expired"],
                    "quiet_hours": {"enabled": True, "start": "21:30", "end": "07:00"},
                },
                {"opted_out": [], "quiet_hours": {"enabled": False}},
            ]
        },
    )

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

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "errMsg": "requestSubscribeMessage:ok",
                    "kGLMJ8pWb1Yx3cQz0aVn4Rt7UeHs2DfO9iLw6mPjXyA": "accept",
                    "Tq5vN1bRz8WcE3yKs0LdHm7GfA2uJo4XpI9tYnQeBwM": "reject",
                }
            ]
        },
    )

    errMsg: str | None = Field(default=None, max_length=200)
