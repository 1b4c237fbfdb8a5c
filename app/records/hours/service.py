"""The hours ledger (志愿服务记录): crediting confirmed service, corrections, other records.

Hours are credited once a record is confirmed — by the coordinator, the requester, or either,
as the unit's rules say — by the unit's rules: attended time (check-in to check-out, so travel
is excluded), nothing below the minimum share of the planned duration, capped per activity,
rounded down to the rounding unit. Each credit is one append-only entry tied to its attendance
(unique), so concurrent confirmations credit once. A correction reverses an entry with an
approver and a reason, and may add the corrected entry in its place; nothing is edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.attendance.errors import RecordNotFound
from app.attendance.occasions import Occasion
from app.attendance.occasions import load_record as load_occasion
from app.attendance.state import DECIDED, AttendanceEvent, attended_minutes, move
from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.errors import BadRequest
from app.models import Attendance, HoursEntry, OrgUnit, Volunteer
from app.models.enums import AttendanceStatus
from app.org_units.service import acting_unit
from app.records import messages
from app.records.hours.errors import (
    AlreadyConfirmed,
    AlreadyReversed,
    ConfirmerNotAllowed,
    EntryNotFound,
    HoursOverCap,
    NotConfirmable,
    ReversalNotReversible,
)
from app.records.hours.schemas import ConfirmIn, CorrectionIn, RecordEntryIn
from app.records.points import service as points
from app.records.stars import service as stars
from app.rules.records import Rules, rules_for
from app.schemas import hours_of
from app.volunteers.service import lock_volunteer
from app.webhooks import events as webhook_events
from app.webhooks.fanout import publish

# ---------------------------------------------------------------- the rule


def credit_minutes(attended: int, planned: int, rules: Rules) -> tuple[int, str | None]:
    """Minutes credited for `attended` minutes of an activity planned for `planned`, and why
    less when nothing is credited."""
    if planned > 0 and attended * 100 < rules.min_attendance_pct * planned:
        return 0, f"实际服务时长不足计划时长的 {rules.min_attendance_pct}%，不计入"
    capped = min(attended, rules.cap_minutes)
    return capped - capped % rules.rounding_minutes, None


# ---------------------------------------------------------------- confirmation


@dataclass
class RecordContext:
    row: Attendance
    occasion: Occasion

    @property
    def station(self) -> OrgUnit:
        return self.occasion.station


def load_record(session: Session, attendance_id: int) -> RecordContext:
    found = load_occasion(session, attendance_id)
    if found is None:
        raise RecordNotFound()
    return RecordContext(*found)


def record_visible(ctx: RecordContext, actor: Principal) -> bool:
    return (
        actor.manages(ctx.station.path)
        or actor.user_id in ctx.occasion.requester_ids
        or actor.volunteer_id == ctx.row.volunteer_id
    )


def confirm(
    session: Session, *, attendance_id: int, actor: Principal, body: ConfirmIn, now: datetime
) -> tuple[RecordContext, HoursEntry]:
    ctx = load_record(session, attendance_id)
    if not record_visible(ctx, actor):
        raise RecordNotFound()
    refuse_self(session, actor, action="confirm_service_record", volunteer_id=ctx.row.volunteer_id)
    rules = rules_for(session, ctx.station)
    as_staff = actor.manages(ctx.station.path)
    as_requester = actor.user_id in ctx.occasion.requester_ids
    allowed = (as_staff and rules.confirm_by in ("coordinator", "either")) or (
        as_requester and rules.confirm_by in ("requester", "either")
    )
    if not allowed:
        raise ConfirmerNotAllowed(details={"confirm_by": rules.confirm_by})
    row = ctx.row
    if row.status in DECIDED:
        raise AlreadyConfirmed()
    if row.status != AttendanceStatus.CHECKED_OUT:
        raise NotConfirmable()
    assert row.checked_in_at is not None and row.checked_out_at is not None
    lock_volunteer(session, row.volunteer_id)
    if not move(
        session, row, AttendanceEvent.CREDIT, confirmed_by_id=actor.user_id, confirmed_at=now
    ):
        raise AlreadyConfirmed()
    planned = attended_minutes(ctx.occasion.starts_at, ctx.occasion.ends_at)
    minutes, why = credit_minutes(
        attended_minutes(row.checked_in_at, row.checked_out_at), planned, rules
    )
    entry = HoursEntry(
        volunteer_id=row.volunteer_id,
        category="service",
        unit_id=row.unit_id,
        wish_id=row.wish_id,
        attendance_id=row.id,
        category_code=ctx.occasion.category_code,
        content=(row.summary or ctx.occasion.title)[:500],
        started_at=row.checked_in_at,
        ended_at=row.checked_out_at,
        minutes=minutes,
        verification="manual" if row.manual else "late_sync" if row.late_sync else "gps",
        confirmed_by_id=actor.user_id,
        reason=why or (body.note or None),
        created_by_id=actor.user_id,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    points.earn_for(session, entry, rules, actor.user_id)
    stars.after_credit(session, row.volunteer_id, now)
    messages.credited(session, row=row, occasion=ctx.occasion, minutes=minutes, note=why)
    session.refresh(row)
    data = webhook_events.record_data(row, entry, ctx.station)
    publish(
        session,
        topic="record.confirmed",
        unit=ctx.station,
        data=data,
        now=now,
        wish_id=row.wish_id,
    )
    return ctx, entry


def reject(
    session: Session, *, attendance_id: int, actor: Principal, reason: str, now: datetime
) -> RecordContext:
    """A coordinator refuses to credit a record (e.g. a suspicious late upload)."""
    ctx = load_record(session, attendance_id)
    if not actor.manages(ctx.station.path):
        raise RecordNotFound()
    refuse_self(session, actor, action="reject_service_record", volunteer_id=ctx.row.volunteer_id)
    if ctx.row.status in DECIDED:
        raise AlreadyConfirmed()
    if ctx.row.status != AttendanceStatus.CHECKED_OUT:
        raise NotConfirmable()
    if not move(
        session,
        ctx.row,
        AttendanceEvent.REJECT,
        reject_reason=reason,
        confirmed_by_id=actor.user_id,
        confirmed_at=now,
    ):
        raise AlreadyConfirmed()
    messages.rejected(session, row=ctx.row, occasion=ctx.occasion, reason=reason)
    session.refresh(ctx.row)
    return ctx


# ---------------------------------------------------------------- corrections


def correct(
    session: Session, *, entry_id: int, actor: Principal, body: CorrectionIn, now: datetime
) -> tuple[HoursEntry, HoursEntry | None]:
    found = session.execute(
        select(HoursEntry, OrgUnit)
        .join(OrgUnit, OrgUnit.id == HoursEntry.unit_id)
        .where(HoursEntry.id == entry_id)
    ).one_or_none()
    if found is None or not actor.manages(found[1].path):
        raise EntryNotFound()
    original, unit = found
    refuse_self(session, actor, action="correct_hours_entry", volunteer_id=original.volunteer_id)
    if original.reverses_id is not None:
        raise ReversalNotReversible()
    rules = rules_for(session, unit)
    minutes = round(body.hours * 60) if body.hours is not None else None
    if minutes is not None and original.category in ("service", "training"):
        if minutes > rules.cap_minutes:
            raise HoursOverCap(details={"cap_hours": hours_of(rules.cap_minutes)})
    elif minutes:
        raise BadRequest("表彰和评价记录没有时长", code="NO_HOURS_FOR_CATEGORY")
    lock_volunteer(session, original.volunteer_id)
    if session.scalar(select(HoursEntry.id).where(HoursEntry.reverses_id == original.id)):
        raise AlreadyReversed()
    copied = {
        "volunteer_id": original.volunteer_id,
        "category": original.category,
        "unit_id": original.unit_id,
        "wish_id": original.wish_id,
        "category_code": original.category_code,
        "content": original.content,
        "started_at": original.started_at,
        "ended_at": original.ended_at,
        "verification": "correction",
        "confirmed_by_id": original.confirmed_by_id,
        "reason": body.reason,
        "approved_by_id": actor.user_id,
        "created_by_id": actor.user_id,
        "created_at": now,
    }
    reversal = HoursEntry(**copied, minutes=-original.minutes, reverses_id=original.id)
    session.add(reversal)
    session.flush()
    points.reverse_for(session, reversal, original, actor.user_id)
    replacement = None
    if minutes is not None:
        replacement = HoursEntry(**copied, minutes=minutes, replaces_id=original.id)
        session.add(replacement)
        session.flush()
        if replacement.category == "service":
            points.earn_for(session, replacement, rules, actor.user_id)
    stars.after_credit(session, original.volunteer_id, now)
    return reversal, replacement


# ---------------------------------------------------------------- other records


def add_entry(
    session: Session,
    *,
    volunteer: Volunteer,
    station: OrgUnit,
    actor: Principal,
    body: RecordEntryIn,
    now: datetime,
) -> HoursEntry:
    refuse_self(session, actor, action="add_record_entry", user_id=volunteer.user_id)
    # An admin without a unit of their own records for the volunteer's station.
    unit = acting_unit(session=session, actor=actor, station=station, unit_id=body.unit_id)
    unit = unit or station
    rules = rules_for(session, unit)
    minutes = round(body.hours * 60)
    if minutes > rules.cap_minutes:
        raise HoursOverCap(details={"cap_hours": hours_of(rules.cap_minutes)})
    entry = HoursEntry(
        volunteer_id=volunteer.id,
        category=body.category,
        unit_id=unit.id,
        content=body.content,
        started_at=body.started_at,
        ended_at=body.ended_at,
        minutes=minutes,
        verification="record",
        confirmed_by_id=actor.user_id,
        created_by_id=actor.user_id,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry
