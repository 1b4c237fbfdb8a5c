"""What service records and stars tell people, and the timer of records nobody confirms.

A record checked out waits for its confirmer (the station's coordinators, the requester, or
either, as the unit's `confirm_by` says): they are told at once (`record.to_confirm`), reminded
after the unit's `confirm_remind_hours` (`record.confirm_reminder`), and after
`confirm_escalate_hours` the coordinators of the unit above are told (`record.confirm_escalated`),
then one level higher each further `confirm_escalate_hours`, up to the top unit, which is told
again each time, until someone confirms or rejects it. The timer's handler looks at the record
as it is now and marks each step with a compare-and-set, so a step runs once however often the
handler does.

Messages go to the outbox in the transaction of their cause, like the wish loop's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.attendance.occasions import Occasion, load_record
from app.attendance.service import after_check_out
from app.jobs import store
from app.jobs.registry import register
from app.models import Attendance, OrgUnit, StarAward, User, Volunteer
from app.models.enums import AttendanceStatus
from app.notifications.outbox import enqueue
from app.org_units.service import ancestors, coordinators_for
from app.rules.records import Rules, rules_for
from app.schemas import hours_of

log = structlog.get_logger()

RECORD_CONFIRM = "record_confirm"  # the jobs table's kind; subject: the attendance id
PENDING = AttendanceStatus.CHECKED_OUT


@dataclass(frozen=True)
class Pending:
    row: Attendance
    occasion: Occasion

    @property
    def station(self) -> OrgUnit:
        return self.occasion.station


def volunteer_user(session: Session, volunteer_id: int) -> list[int]:
    user_id = session.scalar(select(Volunteer.user_id).where(Volunteer.id == volunteer_id))
    return [user_id] if user_id is not None else []


def confirmers(session: Session, occasion: Occasion, rules: Rules) -> list[int]:
    """Who may confirm the record's hours under the unit's rules."""
    ids: list[int | None] = []
    if rules.confirm_by in ("coordinator", "either"):
        ids += coordinators_for(session, occasion.station)
    if rules.confirm_by in ("requester", "either"):
        ids += occasion.requester_ids
    return [i for i in dict.fromkeys(ids) if i is not None]


def _facts(session: Session, found: Pending) -> dict[str, Any]:
    row = found.row
    name = session.scalar(
        select(User.name)
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(Volunteer.id == row.volunteer_id)
    )
    facts: dict[str, Any] = {
        "record_id": row.id,
        **subject_facts(found.occasion),
        "volunteer_name": name or "",
        "station_name": found.station.name,
    }
    if row.checked_in_at is not None and row.checked_out_at is not None:
        minutes = max(0, int((row.checked_out_at - row.checked_in_at).total_seconds() // 60))
        facts["attended_hours"] = hours_of(minutes)
    return facts


def subject_facts(occasion: Occasion) -> dict[str, Any]:
    """What a message says of the occasion: the wish's id and title, or the activity's or the
    pairing's."""
    facts: dict[str, Any] = {"title": occasion.title}
    if occasion.kind == "wish":
        facts["wish_id"] = occasion.subject_id
    elif occasion.kind == "activity":
        facts["activity_id"] = occasion.parent_id
    else:
        facts["pairing_id"] = occasion.parent_id
    return facts


def _pending_since(row: Attendance) -> datetime:
    """When the record began to wait: its check-out as received (a late upload waits from then)."""
    since = row.check_out_received_at or row.checked_out_at
    assert since is not None, "a checked-out record has a check-out time"
    return since


# ---------------------------------------------------------------- awaiting confirmation


def awaiting_confirmation(
    session: Session, *, row: Attendance, occasion: Occasion, now: datetime
) -> None:
    """A record was checked out: tell its confirmers and start its timer."""
    found = Pending(row, occasion)
    rules = rules_for(session, occasion.station)
    enqueue(
        session=session,
        topic="record.to_confirm",
        recipient_ids=confirmers(session, occasion, rules),
        payload=_facts(session, found),
        wish_id=occasion.wish_id,
    )
    run_at = _pending_since(row) + timedelta(hours=rules.confirm_remind_hours)
    store.set_timer(
        session, kind=RECORD_CONFIRM, subject_id=row.id, run_at=max(run_at, now), now=now
    )


@after_check_out
def _awaiting_confirmation(
    session: Session, row: Attendance, occasion: Occasion, now: datetime
) -> None:
    awaiting_confirmation(session, row=row, occasion=occasion, now=now)


def _load(session: Session, record_id: int) -> Pending | None:
    found = load_record(session, record_id)
    return Pending(*found) if found is not None else None


def _escalation_unit(session: Session, station: OrgUnit, level: int) -> OrgUnit:
    """The unit `level` steps above the station (1: its parent), the top unit beyond the root."""
    above = list(reversed(ancestors(session=session, unit=station)))
    if not above:
        return station
    return above[min(level, len(above)) - 1]


def run(session: Session, record_id: int, now: datetime) -> str | None:
    """The timer's handler: what is due for the record now (reminder or escalation), once;
    then the next time, or no timer when the record is confirmed, rejected or gone."""
    found = _load(session, record_id)
    if found is None or found.row.status != PENDING:
        store.clear_timer(session, kind=RECORD_CONFIRM, subject_id=record_id)
        return None
    row = found.row
    rules = rules_for(session, found.station)
    since = _pending_since(row)
    remind_at = since + timedelta(hours=rules.confirm_remind_hours)
    step = timedelta(hours=rules.confirm_escalate_hours)
    escalations = row.confirm_escalations
    done: str | None = None
    if now >= since + step * (escalations + 1):
        moved = session.execute(
            update(Attendance)
            .where(
                Attendance.id == row.id,
                Attendance.status == PENDING,
                Attendance.confirm_escalations == escalations,
            )
            .values(confirm_escalations=escalations + 1, confirm_escalated_at=now),
            execution_options={"synchronize_session": False},
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            escalations += 1
            unit = _escalation_unit(session, found.station, escalations)
            payload = _facts(session, found)
            payload.update(
                waiting_hours=int((now - since).total_seconds() // 3600),
                unit_name=unit.name,
            )
            enqueue(
                session=session,
                topic="record.confirm_escalated",
                recipient_ids=coordinators_for(session, unit),
                payload=payload,
                wish_id=found.occasion.wish_id,
            )
            done = "escalated"
    elif now >= remind_at and row.confirm_reminded_at is None:
        moved = session.execute(
            update(Attendance)
            .where(
                Attendance.id == row.id,
                Attendance.status == PENDING,
                Attendance.confirm_reminded_at.is_(None),
            )
            .values(confirm_reminded_at=now),
            execution_options={"synchronize_session": False},
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            payload = _facts(session, found)
            payload["waiting_hours"] = int((now - since).total_seconds() // 3600)
            enqueue(
                session=session,
                topic="record.confirm_reminder",
                recipient_ids=confirmers(session, found.occasion, rules),
                payload=payload,
                wish_id=found.occasion.wish_id,
            )
            done = "reminded"
    reminded = row.confirm_reminded_at is not None or done == "reminded"
    next_escalation = since + step * (escalations + 1)
    next_at = next_escalation if reminded or remind_at >= next_escalation else remind_at
    store.set_timer(
        session, kind=RECORD_CONFIRM, subject_id=record_id, run_at=max(next_at, now), now=now
    )
    if done:
        log.info("records.confirm_timer", record_id=record_id, step=done)
    return done


# ---------------------------------------------------------------- confirmed or rejected


def credited(
    session: Session, *, row: Attendance, occasion: Occasion, minutes: int, note: str | None
) -> None:
    enqueue(
        session=session,
        topic="record.credited",
        recipient_ids=volunteer_user(session, row.volunteer_id),
        payload={
            "record_id": row.id,
            **subject_facts(occasion),
            "hours": hours_of(minutes),
            "note": note,
        },
        wish_id=occasion.wish_id,
    )


def rejected(session: Session, *, row: Attendance, occasion: Occasion, reason: str) -> None:
    enqueue(
        session=session,
        topic="record.rejected",
        recipient_ids=volunteer_user(session, row.volunteer_id),
        payload={"record_id": row.id, **subject_facts(occasion), "reason": reason},
        wish_id=occasion.wish_id,
    )


# ---------------------------------------------------------------- stars


def _award_facts(award: StarAward) -> dict[str, Any]:
    return {
        "award_id": award.id,
        "star": award.star,
        "hours": hours_of(award.minutes_at_award),
        "notice_ends_at": award.notice_ends_at.isoformat(),
    }


def star_awarded(session: Session, award: StarAward) -> None:
    enqueue(
        session=session,
        topic="star.awarded",
        recipient_ids=volunteer_user(session, award.volunteer_id),
        payload=_award_facts(award),
    )


def star_held(session: Session, award: StarAward) -> None:
    """The volunteer hears their award is held (not who objected, nor why); the certifying
    unit's coordinators hear that an objection waits for their decision."""
    enqueue(
        session=session,
        topic="star.held",
        recipient_ids=volunteer_user(session, award.volunteer_id),
        payload=_award_facts(award),
    )
    unit = session.get(OrgUnit, award.certifying_unit_id)
    assert unit is not None  # foreign key
    name = session.scalar(
        select(User.name)
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(Volunteer.id == award.volunteer_id)
    )
    enqueue(
        session=session,
        topic="star.objection",
        recipient_ids=coordinators_for(session, unit),
        payload={**_award_facts(award), "volunteer_name": name or ""},
    )


def star_resolved(session: Session, award: StarAward, *, upheld: bool, reason: str) -> None:
    enqueue(
        session=session,
        topic="star.revoked" if upheld else "star.reinstated",
        recipient_ids=volunteer_user(session, award.volunteer_id),
        payload={**_award_facts(award), "reason": reason},
    )


register(RECORD_CONFIRM, run)
