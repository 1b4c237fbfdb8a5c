"""Check-in and check-out as events of the wish loop: the lead's check moves the wish.

The wish loop applies these through `apply_event` like any event (the table, the roles, the
compare-and-set); their rules live here and are registered into the loop's specs, so the wish
loop never imports attendance.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.attendance.checks import Check, check_for
from app.attendance.errors import NotCheckedIn, NotOnTeam
from app.attendance.occasions import of_wish
from app.attendance.schemas import AttendanceIn
from app.attendance.service import (
    checked_out,
    lead_attendance_for_check_out,
    write_check_in,
    write_check_out,
)
from app.models import Attendance
from app.models.enums import AttendanceStatus
from app.wishes.handlers import register
from app.wishes.handlers.context import (
    Context,
    EventSpec,
    count,
    payload_of,
    requester_side,
    require_assignee,
)
from app.wishes.state import ActorRole, WishEvent


@dataclass(frozen=True)
class CheckPlan:
    check: Check
    row: Attendance | None  # the lead's record, when checking out


def _check(ctx: Context, *, out: bool) -> CheckPlan:
    """Validate the lead's check (fence, window, consent or a coordinator's reason)."""
    require_assignee(ctx)
    payload: AttendanceIn = payload_of(ctx, AttendanceIn)
    assert ctx.wish.assignee_id is not None
    if payload.volunteer_id not in (None, ctx.wish.assignee_id):
        raise NotOnTeam()
    manual = ctx.role != ActorRole.VOLUNTEER
    row = lead_attendance_for_check_out(ctx.session, ctx.wish) if out else None
    if row is not None and row.status != AttendanceStatus.IN_SERVICE:
        raise NotCheckedIn()
    check = check_for(
        ctx.session,
        occasion=of_wish(ctx.wish, ctx.station),
        actor=ctx.actor,
        volunteer_id=ctx.wish.assignee_id,
        manual=manual,
        body=payload,
        now=ctx.now,
        out=out,
        checked_in_at=row.checked_in_at if row is not None else None,
    )
    ctx.reason = check.manual_reason or check.summary
    ctx.event_data = {
        "volunteer_id": ctx.wish.assignee_id,
        "manual": manual,
        "late_sync": check.late_sync,
        "at": check.at.isoformat(),
    }
    return CheckPlan(check, row)


def _check_in_prepare(ctx: Context) -> CheckPlan:
    plan = _check(ctx, out=False)
    ctx.changes["reminded_at"] = None
    return plan


def _check_in_after(ctx: Context, plan: CheckPlan) -> None:
    write_check_in(
        ctx.session,
        wish=ctx.wish,
        check=plan.check,
        is_lead=True,
        actor_id=ctx.actor.user_id if ctx.actor else None,
    )
    assignee = ctx.loaded.assignee
    ctx.notify(
        "wish.in_service",
        requester_side(ctx.wish),
        volunteer_name=assignee.name if assignee is not None else None,
    )


def _check_out_prepare(ctx: Context) -> CheckPlan:
    return _check(ctx, out=True)


def _check_out_after(ctx: Context, plan: CheckPlan) -> None:
    assert plan.row is not None
    row = write_check_out(ctx.session, row=plan.row, check=plan.check)
    count(ctx, ctx.wish.assignee_id, "completed_count")
    ctx.notify("wish.completed", requester_side(ctx.wish))
    checked_out(ctx.session, row, of_wish(ctx.wish, ctx.station), ctx.now)


register(WishEvent.CHECK_IN, EventSpec(AttendanceIn, _check_in_prepare, _check_in_after))
register(WishEvent.CHECK_OUT, EventSpec(AttendanceIn, _check_out_prepare, _check_out_after))
