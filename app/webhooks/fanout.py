"""Fan-out at enqueue: one outbox message per subscriber whose filter takes the event, written
in the transaction of the event's cause (so an event is announced if and only if it happened).

Called by the wish loop and the records; it only reads the subscribers and inserts outbox rows.
Each message gets its own stable `uid`: the `webhook-id` every attempt carries, on which the
receiver drops duplicates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OrgUnit, OutboxMessage, WebhookSubscriber, Wish
from app.models.enums import OutboxStatus
from app.notifications.outbox import new_uid
from app.webhooks import events
from app.wishes.hooks import Moved, after_transition
from app.wishes.state import WishEvent

_OUTBOX = OutboxMessage.metadata.tables["outbox"]
CHANNEL = "webhook"


def publish(
    session: Session,
    *,
    topic: str,
    unit: OrgUnit,
    data: dict[str, Any],
    now: datetime,
    wish_id: int | None = None,
    wish_event_id: int | None = None,
) -> int:
    """Queue the event `topic` about `unit` for every active subscriber that takes it (its
    filter matches and its unit, if any, is `unit` or above it). Returns how many."""
    assert topic in events.TOPICS, topic
    subscribers = session.execute(
        select(WebhookSubscriber.id, WebhookSubscriber.events, OrgUnit.path)
        .outerjoin(OrgUnit, OrgUnit.id == WebhookSubscriber.unit_id)
        .where(WebhookSubscriber.is_active.is_(True), WebhookSubscriber.deleted_at.is_(None))
        .order_by(WebhookSubscriber.id)
    ).all()
    payload = events.envelope(topic, data, now)
    rows = [
        {
            "uid": new_uid(),
            "channel": CHANNEL,
            "topic": topic,
            "recipient_id": None,
            "subscriber_id": subscriber_id,
            "wish_id": wish_id,
            "wish_event_id": wish_event_id,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "available_at": now,
        }
        for subscriber_id, patterns, path in subscribers
        if events.matches(patterns, topic) and (path is None or unit.path.startswith(path))
    ]
    if rows:
        session.execute(_OUTBOX.insert(), rows)
    return len(rows)


def publish_wish(
    session: Session,
    *,
    wish: Wish,
    station: OrgUnit,
    event: WishEvent,
    now: datetime,
    wish_event_id: int | None,
) -> int:
    """The public event of a wish event, if it has one (see `events.WISH_TOPICS`)."""
    topic = events.WISH_TOPICS.get(event)
    if topic is None:
        return 0
    return publish(
        session,
        topic=topic,
        unit=station,
        data=events.wish_data(wish, station),
        now=now,
        wish_id=wish.id,
        wish_event_id=wish_event_id,
    )


def _after_transition(moved: Moved) -> None:
    publish_wish(
        moved.session,
        wish=moved.wish,
        station=moved.station,
        event=moved.event,
        now=moved.now,
        wish_event_id=moved.wish_event_id,
    )


after_transition(_after_transition)
