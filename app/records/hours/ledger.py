"""Reading the hours ledger: every total is a sum over `hours_entries`, never a stored figure."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import HoursEntry, OrgUnit


def service_minutes(session: Session, volunteer_id: int) -> int:
    """The volunteer's credited service time: the sum of their service entries (corrections
    included, as they are service entries with negative minutes)."""
    total = session.scalar(
        select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
            HoursEntry.volunteer_id == volunteer_id, HoursEntry.category == "service"
        )
    )
    return int(total or 0)


def totals(session: Session, volunteer_id: int) -> dict[str, int]:
    """Minutes per record category: sums over the ledger."""
    rows = session.execute(
        select(HoursEntry.category, func.coalesce(func.sum(HoursEntry.minutes), 0))
        .where(HoursEntry.volunteer_id == volunteer_id)
        .group_by(HoursEntry.category)
    ).all()
    return {category: int(total) for category, total in rows}


def entries(session: Session, volunteer_id: int) -> list[tuple[HoursEntry, OrgUnit]]:
    """The volunteer's ledger in time order, each entry with its recording unit."""
    return [
        (entry, unit)
        for entry, unit in session.execute(
            select(HoursEntry, OrgUnit)
            .join(OrgUnit, OrgUnit.id == HoursEntry.unit_id)
            .where(HoursEntry.volunteer_id == volunteer_id)
            .order_by(HoursEntry.started_at, HoursEntry.id)
        ).all()
    ]


def sums(rows: list[tuple[HoursEntry, OrgUnit]]) -> dict[str, int]:
    """Minutes per category of entries already read (the same figures as `totals`)."""
    out: dict[str, int] = {}
    for entry, _unit in rows:
        out[entry.category] = out.get(entry.category, 0) + entry.minutes
    return out
