"""What admins see of messages and their delivery (never the payload: it may hold personal
data)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class OutboxMessageOut(BaseModel):
    id: int
    uid: str
    channel: str
    topic: str
    status: str
    recipient_id: int | None
    subscriber_id: int | None
    wish_id: int | None
    attempts: int
    created_at: datetime
    available_at: datetime
    sent_at: datetime | None
    delivered_via: str | None
    dead_at: datetime | None
    last_error: str | None


class DeliveryCount(BaseModel):
    channel: str
    status: str
    count: int


class DeliveryStats(BaseModel):
    counts: list[DeliveryCount]
    pending_due: int  # pending and available now
    oldest_due_at: datetime | None  # the longest-waiting message due now
