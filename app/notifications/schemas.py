from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.pagination import Page
from app.schemas import Id, Schema


class NotificationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 8812,
                    "uid": "wish.accepted:1024:288",
                    "topic": "wish.accepted",
                    "title": "志愿者已接单",
                    "body": "王晓峰已接下您的心愿“帮独居老人买菜”，12月5日 09:00 上门。",
                    "urgent": False,
                    "kind": "wish_update",
                    "page": "/pages/wish/detail?id=1024",
                    "wish_id": 1024,
                    "created_at": "2026-12-02T04:02:05Z",
                    "read_at": None,
                }
            ]
        }
    )

    id: int
    uid: str | None = Field(default=None, description="消息的稳定标识（接收方据此去重）")
    topic: str
    title: str
    body: str
    urgent: bool
    kind: str
    page: str | None = Field(default=None, description="点击后打开的小程序页面")
    wish_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Page[NotificationOut]):
    unread_count: int


class UnreadCount(BaseModel):
    unread_count: int


class ReadAllIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"up_to_id": 8812}]})

    up_to_id: Id | None = Field(
        default=None, description="只标记此 id 及更早的消息（客户端已显示的）"
    )


class ReadAllOut(BaseModel):
    marked: int
    unread_count: int
