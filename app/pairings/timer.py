"""The visit timer: one per active pairing, at the next step that is due.

A visit is due by `next_due_at`. `REMIND_AFTER` later the helper is reminded (and the visit is
counted missed), `ESCALATE_AFTER` after the due time the station's coordinators are told; each
step once, a compare-and-set on the pairing's version, so a visit recorded meanwhile (which
moves `next_due_at` on and clears both steps) wins and the step is decided again. After the
end date the pairing ends by itself. The handler runs in the worker's fenced transaction and
never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.jobs import store
from app.jobs.registry import register
from app.models import Household, OrgUnit, Pairing
from app.notifications.outbox import enqueue
from app.org_units.service import coordinators_for
from app.pairings.errors import PairingChanged
from app.pairings.helpers import helper_user_ids
from app.pairings.state import (
    ESCALATE_AFTER,
    REMIND_AFTER,
    PairingStatus,
    due_after,
    ends_at,
)
from app.privacy.masking import shown_name

log = structlog.get_logger()

KIND = "pairing.visit"


def due_from(pairing: Pairing, at: datetime) -> datetime:
    return due_after(at, pairing.rhythm_days)


def next_step_at(pairing: Pairing) -> datetime | None:
    """When the timer should next look at the pairing (None: nothing more to do)."""
    if pairing.status != PairingStatus.ACTIVE:
        return None
    if pairing.reminded_at is None:
        step: datetime | None = pairing.next_due_at + REMIND_AFTER
    elif pairing.escalated_at is None:
        step = pairing.next_due_at + ESCALATE_AFTER
    else:
        step = None
    end = ends_at(pairing.end_date)
    if end is not None and (step is None or end < step):
        return end
    return step


def follow(session: Session, pairing: Pairing, now: datetime) -> None:
    """Set the pairing's timer to its next step, or clear it."""
    at = next_step_at(pairing)
    if at is None:
        store.clear_timer(session, kind=KIND, subject_id=pairing.id)
    else:
        store.set_timer(session, kind=KIND, subject_id=pairing.id, run_at=max(at, now), now=now)


def facts(session: Session, pairing: Pairing, station: OrgUnit) -> dict[str, Any]:
    """What a message says of the pairing: the household masked, never its address."""
    home = session.get(Household, pairing.household_id)
    return {
        "pairing_id": pairing.id,
        "household": (shown_name(home.head_name) + "家") if home is not None else "",
        "coarse_address": home.coarse_address if home is not None else "",
        "station_name": station.name,
        "due_at": pairing.next_due_at.isoformat(),
        "last_visit_at": pairing.last_visit_at.isoformat() if pairing.last_visit_at else None,
        "rhythm_days": pairing.rhythm_days,
    }


def _step(session: Session, pairing: Pairing, **values: Any) -> bool:
    moved = session.execute(
        update(Pairing)
        .where(
            Pairing.id == pairing.id,
            Pairing.status == PairingStatus.ACTIVE,
            Pairing.version == pairing.version,
        )
        .values(version=pairing.version + 1, **values),
        execution_options={"synchronize_session": False},
    )
    session.refresh(pairing)
    return moved.rowcount == 1  # type: ignore[attr-defined]


def due_step(pairing: Pairing, now: datetime) -> str | None:
    """The step due now for an active pairing: ended, reminded, escalated or none."""
    end = ends_at(pairing.end_date)
    if end is not None and now >= end:
        return "ended"
    if pairing.reminded_at is None and now >= pairing.next_due_at + REMIND_AFTER:
        return "reminded"
    if (
        pairing.reminded_at is not None
        and pairing.escalated_at is None
        and now >= pairing.next_due_at + ESCALATE_AFTER
    ):
        return "escalated"
    return None


def run(session: Session, pairing_id: int, now: datetime) -> str | None:
    """The timer's handler: the step due now (end, reminder or escalation), once; then the
    next time, or no timer."""
    found = session.execute(
        select(Pairing, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Pairing.station_id)
        .where(Pairing.id == pairing_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None or found[0].status != PairingStatus.ACTIVE:
        store.clear_timer(session, kind=KIND, subject_id=pairing_id)
        return None
    pairing, station = found
    done: str | None = None
    due = due_step(pairing, now)
    if due == "ended" and _step(session, pairing, status=PairingStatus.ENDED):
        done = due
    elif due == "reminded" and _step(
        session, pairing, reminded_at=now, missed_count=pairing.missed_count + 1
    ):
        enqueue(
            session=session,
            topic="pairing.visit_reminder",
            recipient_ids=helper_user_ids(session, pairing),
            payload=facts(session, pairing, station),
        )
        done = due
    elif due == "escalated" and _step(session, pairing, escalated_at=now):
        enqueue(
            session=session,
            topic="pairing.lapsing",
            recipient_ids=coordinators_for(session, station),
            payload={**facts(session, pairing, station), "missed_count": pairing.missed_count},
        )
        done = due
    follow(session, pairing, now)
    if done:
        log.info("pairings.visit_timer", pairing_id=pairing_id, step=done)
    return done


def visited(session: Session, pairing: Pairing, at: datetime, now: datetime) -> None:
    """A visit at `at`: the next is due a rhythm after it, the reminder and notice clear. An
    older visit recorded late changes nothing. Retried against the timer's own steps."""
    for _ in range(3):
        if pairing.status != PairingStatus.ACTIVE:
            return
        if pairing.last_visit_at is not None and at <= pairing.last_visit_at:
            return
        moved = session.execute(
            update(Pairing)
            .where(
                Pairing.id == pairing.id,
                Pairing.status == PairingStatus.ACTIVE,
                Pairing.version == pairing.version,
            )
            .values(
                last_visit_at=at,
                next_due_at=due_from(pairing, at),
                reminded_at=None,
                escalated_at=None,
                version=pairing.version + 1,
            ),
            execution_options={"synchronize_session": False},
        )
        session.refresh(pairing)
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            follow(session, pairing, now)
            return
    raise PairingChanged()


register(KIND, run)
