"""The in-app inbox: every message to a user, rendered, newest first, with read marks.

A user's messages are the outbox rows addressed to them (`recipient_id`), whatever became of
their push (WeChat quota, opt-out, quiet hours): nothing depends on a push arriving. Rows for
webhook subscribers have no recipient and never show here. Another user's message is "not
found", never "forbidden", so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import OutboxMessage
from app.pagination import PageParams


class NotificationNotFound(NotFound):
    code = "NOTIFICATION_NOT_FOUND"
    message = "消息不存在"


def _mine(user_id: int):  # type: ignore[no-untyped-def]
    return OutboxMessage.recipient_id == user_id


def messages_of(
    session: Session, *, user_id: int, page: PageParams, unread_only: bool = False
) -> Sequence[OutboxMessage]:
    """Up to `limit + 1` of the user's messages, newest first (keyset on id)."""
    query = select(OutboxMessage).where(_mine(user_id))
    if unread_only:
        query = query.where(OutboxMessage.read_at.is_(None))
    if page.after_id is not None:
        query = query.where(OutboxMessage.id < page.after_id)
    return session.scalars(query.order_by(OutboxMessage.id.desc()).limit(page.limit + 1)).all()


def unread_count(session: Session, *, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(_mine(user_id), OutboxMessage.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, *, user_id: int, message_id: int, now: datetime) -> OutboxMessage:
    """Mark one of the user's messages read (again: keeps the first read time)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _mine(user_id), OutboxMessage.read_at.is_(None))
        .values(read_at=now),
        execution_options={"synchronize_session": False},
    )
    row = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id, _mine(user_id))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotificationNotFound()
    return row


def mark_all_read(
    session: Session, *, user_id: int, now: datetime, up_to_id: int | None = None
) -> int:
    """Mark the user's unread messages read (those up to `up_to_id` when given: what the
    client has shown, not what arrived since); returns how many."""
    query = (
        update(OutboxMessage)
        .where(_mine(user_id), OutboxMessage.read_at.is_(None))
        .values(read_at=now)
    )
    if up_to_id is not None:
        query = query.where(OutboxMessage.id <= up_to_id)
    done = session.execute(query, execution_options={"synchronize_session": False})
    return int(done.rowcount)  # type: ignore[attr-defined]
