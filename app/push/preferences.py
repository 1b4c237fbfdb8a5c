"""Each user's push policy: topics opted out of, and quiet hours (local time of TIMEZONE).

Quiet hours hold a non-urgent push until they end (`quiet_until`); urgent messages are never
held. Nothing here hides a message from the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.config import Settings
from app.models import NotificationPreference


@dataclass(frozen=True)
class Policy:
    opted_out: frozenset[str]
    quiet_hours_enabled: bool
    quiet_start: time
    quiet_end: time
    custom_hours: bool  # the user chose the times (else the service's defaults)


def policy_of(session: Session, *, user_id: int, settings: Settings) -> Policy:
    row = session.get(NotificationPreference, user_id)
    if row is None:
        return Policy(
            opted_out=frozenset(),
            quiet_hours_enabled=True,
            quiet_start=settings.quiet_hours_start,
            quiet_end=settings.quiet_hours_end,
            custom_hours=False,
        )
    custom = row.quiet_start is not None and row.quiet_end is not None
    return Policy(
        opted_out=frozenset(row.opted_out),
        quiet_hours_enabled=row.quiet_hours_enabled,
        quiet_start=(row.quiet_start if custom else None) or settings.quiet_hours_start,
        quiet_end=(row.quiet_end if custom else None) or settings.quiet_hours_end,
        custom_hours=custom,
    )


def save(
    session: Session,
    *,
    user_id: int,
    opted_out: list[str],
    quiet_hours_enabled: bool,
    quiet_start: time | None,
    quiet_end: time | None,
) -> None:
    row = session.get(NotificationPreference, user_id)
    if row is None:
        row = NotificationPreference(user_id=user_id)
        session.add(row)
    row.opted_out = sorted(set(opted_out))
    row.quiet_hours_enabled = quiet_hours_enabled
    row.quiet_start = quiet_start
    row.quiet_end = quiet_end
    session.flush()


def quiet_until(policy: Policy, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When the quiet hours that hold `now` end (UTC), or None outside them."""
    if not policy.quiet_hours_enabled:
        return None
    local = now.astimezone(tz)
    start, end, at = policy.quiet_start, policy.quiet_end, local.time().replace(tzinfo=None)
    if start < end:  # e.g. 12:00–14:00, within one day
        inside, ends_on = start <= at < end, local.date()
    else:  # e.g. 22:00–07:00, over midnight
        inside = at >= start or at < end
        ends_on = local.date() + timedelta(days=1) if at >= start else local.date()
    if not inside:
        return None
    return datetime.combine(ends_on, end, tzinfo=tz).astimezone(UTC)
