"""The access log: every reveal of someone's personal data, written in the reveal's own
transaction (who read whose which fields, in which capacity, for what, when)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from app.models import AccessLog, User


class AccessPurpose(StrEnum):
    SERVE_WISH = "serve_wish"  # the volunteer serving a wish reaches the requester
    CONTACT_VOLUNTEER = "contact_volunteer"  # the requester reaches the volunteer coming
    COORDINATE = "coordinate"  # a coordinator or admin verifies, dispatches, follows up
    RECORD_EXPORT = "record_export"  # the national record system's export
    VISIT_HOUSEHOLD = "visit_household"  # a pairing's helper visits the household in need


def record(
    session: Session,
    *,
    actor_id: int,
    actor_role: str,
    subject_user_id: int,
    fields: Sequence[str],
    purpose: AccessPurpose,
    now: datetime,
    wish_id: int | None = None,
    volunteer_id: int | None = None,
    reason: str | None = None,
) -> AccessLog | None:
    """Log a reveal. Nothing is logged when nothing was shown, or when it was one's own."""
    if not fields or subject_user_id == actor_id:
        return None
    row = AccessLog(
        actor_id=actor_id,
        actor_role=actor_role,
        subject_user_id=subject_user_id,
        wish_id=wish_id,
        volunteer_id=volunteer_id,
        fields=",".join(sorted(set(fields))),
        purpose=purpose,
        reason=reason or None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def query(
    *,
    actor_id: int | None = None,
    subject_user_id: int | None = None,
    wish_id: int | None = None,
    volunteer_id: int | None = None,
    purpose: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int,
) -> Select[AccessLog, str, str]:
    """Log rows, newest first (keyset: `before_id`), with the reader's and subject's names."""
    actor, subject = aliased(User), aliased(User)
    statement = (
        select(AccessLog, actor.name, subject.name)
        .join(actor, actor.id == AccessLog.actor_id)
        .join(subject, subject.id == AccessLog.subject_user_id)
    )
    for column, value in (
        (AccessLog.actor_id, actor_id),
        (AccessLog.subject_user_id, subject_user_id),
        (AccessLog.wish_id, wish_id),
        (AccessLog.volunteer_id, volunteer_id),
        (AccessLog.purpose, purpose),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        statement = statement.where(AccessLog.created_at >= since)
    if until is not None:
        statement = statement.where(AccessLog.created_at < until)
    if before_id is not None:
        statement = statement.where(AccessLog.id < before_id)
    return statement.order_by(AccessLog.id.desc()).limit(limit + 1)
