from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.pagination import Page
from app.schemas import Id, Schema


class NotificationOut(BaseModel):
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
    up_to_id: Id | None = Field(
        default=None, description="只标记此 id 及更早的消息（客户端已显示的）"
    )


class ReadAllOut(BaseModel):
    marked: int
    unread_count: int
