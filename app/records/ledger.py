"""Reading the hours ledger: every total is a sum over `hours_entries`, never a stored figure."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import HoursEntry


def service_minutes(session: Session, volunteer_id: int) -> int:
    """The volunteer's credited service time: the sum of their service entries (corrections
    included, as they are service entries with negative minutes)."""
    total = session.scalar(
        select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
            HoursEntry.volunteer_id == volunteer_id, HoursEntry.category == "service"
        )
    )
    return int(total or 0)
