"""Writing notifications to the outbox, in the transaction of the change that causes them.

Delivery (WeChat subscription messages, SMS) reads the outbox after commit; nothing here talks
to the outside world.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app import clock
from app.models import OutboxMessage
from app.models.enums import OutboxStatus


def enqueue(
    *,
    session: Session,
    topic: str,
    recipient_ids: Iterable[int],
    payload: dict[str, Any],
    wish_id: int | None = None,
    wish_event_id: int | None = None,
) -> int:
    """One outbox row per recipient (each is delivered and counted separately)."""
    now = clock.now()
    rows = [
        {
            "topic": topic,
            "recipient_id": recipient_id,
            "wish_id": wish_id,
            "wish_event_id": wish_event_id,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "available_at": now,
        }
        for recipient_id in dict.fromkeys(recipient_ids)
    ]
    if rows:
        session.execute(insert(OutboxMessage), rows)
    return len(rows)
