"""Dead letters: listing them, re-driving one, counting messages by status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from app.delivery.errors import MessageNotDead, MessageNotFound
from app.models import OutboxMessage
from app.models.enums import OutboxStatus

M = OutboxMessage


def dead_letters(
    *, topic: str | None, channel: str | None, before_id: int | None, limit: int
) -> Select[OutboxMessage]:
    """Dead messages, newest first (keyset: `before_id`), `limit + 1` for the page."""
    query = select(M).where(M.status == OutboxStatus.DEAD)
    if topic is not None:
        query = query.where(M.topic == topic)
    if channel is not None:
        query = query.where(M.channel == channel)
    if before_id is not None:
        query = query.where(M.id < before_id)
    return query.order_by(M.id.desc()).limit(limit + 1)


def redrive(*, session: Session, message_id: int, now: datetime) -> OutboxMessage:
    """A dead message back to pending, due now, with its attempts counted afresh. A
    compare-and-set on the status: of two admins re-driving at once, one wins, one gets 409."""
    done = session.execute(
        update(M)
        .where(M.id == message_id, M.status == OutboxStatus.DEAD)
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            available_at=now,
            dead_at=None,
            lease_token=None,
            locked_by=None,
            locked_until=None,
        ),
        execution_options={"synchronize_session": False},
    )
    message = session.get(M, message_id, populate_existing=True)
    if message is None:
        raise MessageNotFound()
    if not done.rowcount:  # type: ignore[attr-defined]
        raise MessageNotDead(details={"status": message.status})
    return message


def counts(
    session: Session, now: datetime
) -> tuple[list[tuple[str, str, int]], int, datetime | None]:
    rows = session.execute(
        select(M.channel, M.status, func.count())
        .group_by(M.channel, M.status)
        .order_by(M.channel, M.status)
    ).all()
    due, oldest = session.execute(
        select(func.count(), func.min(M.available_at)).where(
            M.status == OutboxStatus.PENDING, M.available_at <= now
        )
    ).one()
    return [(c, s, n) for c, s, n in rows], int(due), oldest
