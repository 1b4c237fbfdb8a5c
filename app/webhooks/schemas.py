from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from app.schemas import Id, ReadSchema, Schema, ShortText, Url

# "*", "wish.*" or a topic such as "wish.completed" (GET /admin/webhook-events lists them).
EventPattern = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^(\*|[a-z][a-z_]*\.(\*|[a-z][a-z_]*))$")
]
EventPatterns = Annotated[list[EventPattern], Field(min_length=1, max_length=50)]


class WebhookCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "德清县融媒体中心",
                    "url": "https://hooks.dqnews.example.cn/volunteer",
                    "events": ["wish.completed", "star.*"],
                    "unit_id": 3,
                }
            ]
        }
    )

    name: ShortText = Field(description="接收方名称，如“县融媒体中心”")
    url: Url = Field(description="接收地址；正式环境须为 https://")
    events: EventPatterns = Field(description='订阅的事件：事件类型，或 "wish.*"、"*" 等')
    unit_id: Id | None = Field(
        default=None, description="只接收该单位及其下级单位的事件；不填为全部"
    )


class WebhookUpdate(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"events": ["wish.*"]}, {"is_active": False}]}
    )

    name: ShortText | None = None
    url: Url | None = None
    events: EventPatterns | None = None
    unit_id: Id | None = Field(default=None, description="传 null 取消单位限制")
    is_active: bool | None = Field(default=None, description="停用或重新启用")


class WebhookOut(ReadSchema):
    id: int
    name: str
    url: str
    events: list[str]
    unit_id: int | None
    is_active: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    previous_secret_until: datetime | None = Field(
        description="轮换前的密钥仍一并签名至此时间（为空：没有旧密钥）"
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="签名密钥（whsec_…），只显示这一次")


class SecretRotated(ReadSchema):
    id: int
    secret: str = Field(description="新的签名密钥（whsec_…），只显示这一次")
    previous_secret_until: datetime | None = Field(
        description="旧密钥在此之前仍一并签名（两个签名同在 webhook-signature 中）"
    )


class WebhookDeliveryOut(ReadSchema):
    id: int
    uid: str | None = Field(description="消息编号，即 webhook-id，接收方据此去重")
    topic: str
    status: str
    attempts: int
    created_at: datetime
    available_at: datetime = Field(description="下次尝试的时间（待发送时）")
    sent_at: datetime | None
    last_error: str | None


class EventTypeOut(ReadSchema):
    type: str
    description: str
