"""Writing messages to the outbox, in the transaction of the change that causes them.

Every row is one message to one recipient: a user (channel "user": pushed by WeChat or SMS,
always listed in the inbox) or a webhook subscriber (channel "webhook"). Each gets a stable
`uid` at enqueue, the id receivers de-duplicate on. Delivery (`app.delivery`) reads the outbox
after commit; nothing here talks to the outside world.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from app import clock
from app.models import OutboxMessage
from app.models.enums import OutboxStatus

_OUTBOX = OutboxMessage.metadata.tables["outbox"]

USER = "user"
WEBHOOK = "webhook"


def new_uid() -> str:
    """A message's stable id: `msg_` and 32 random hex digits."""
    return "msg_" + uuid.uuid4().hex


def enqueue(
    *,
    session: Session,
    topic: str,
    recipient_ids: Iterable[int | None],
    payload: dict[str, Any],
    wish_id: int | None = None,
    wish_event_id: int | None = None,
    channel: str = USER,
    subscriber_id: int | None = None,
) -> int:
    """One outbox row per recipient (each is delivered and counted separately)."""
    return enqueue_many(
        session=session,
        messages=[(topic, recipient_ids, payload)],
        wish_id=wish_id,
        wish_event_id=wish_event_id,
        channel=channel,
        subscriber_id=subscriber_id,
    )


def enqueue_many(
    *,
    session: Session,
    messages: Iterable[tuple[str, Iterable[int | None], dict[str, Any]]],
    wish_id: int | None = None,
    wish_event_id: int | None = None,
    channel: str = USER,
    subscriber_id: int | None = None,
) -> int:
    """Several (topic, recipients, payload) messages in one INSERT.

    User messages need a recipient; a webhook message names its subscriber and has recipient
    None (pass `recipient_ids=[None]`)."""
    now = clock.now()
    rows = [
        {
            "uid": new_uid(),
            "channel": channel,
            "topic": topic,
            "recipient_id": recipient_id,
            "subscriber_id": subscriber_id,
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
    if any(row["recipient_id"] is None for row in rows) and channel == USER:
        raise ValueError("a user message needs a recipient")
    if rows:
        # A Core executemany: the ORM's bulk path costs more than the insert itself here.
        session.execute(_OUTBOX.insert(), rows)
    return len(rows)
