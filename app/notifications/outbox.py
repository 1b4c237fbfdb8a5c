"""Writing notifications to the outbox, in the transaction of the change that causes them.

Delivery (WeChat subscription messages, SMS) reads the outbox after commit; nothing here talks
to the outside world.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from app import clock
from app.models import OutboxMessage
from app.models.enums import OutboxStatus

_OUTBOX = OutboxMessage.metadata.tables["outbox"]


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
    return enqueue_many(
        session=session,
        messages=[(topic, recipient_ids, payload)],
        wish_id=wish_id,
        wish_event_id=wish_event_id,
    )


def enqueue_many(
    *,
    session: Session,
    messages: Iterable[tuple[str, Iterable[int], dict[str, Any]]],
    wish_id: int | None = None,
    wish_event_id: int | None = None,
) -> int:
    """Several (topic, recipients, payload) messages in one INSERT."""
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
        for topic, recipients, payload in messages
        for recipient_id in dict.fromkeys(recipients)
    ]
    if rows:
        # A Core executemany: the ORM's bulk path costs more than the insert itself here.
        session.execute(_OUTBOX.insert(), rows)
    return len(rows)
