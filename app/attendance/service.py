"""Service records: check-in and check-out at the wish's place, offline sync, team service and
the volunteer's feedback.

The lead (the wish's assignee) moves the wish through the wish loop's events (check-in → in
service, check-out → completed; `app.attendance.events` holds their rules); team members each
keep their own record beside it and the wish does not move. A check made offline carries a
nonce: the same nonce twice is the same check, answered like the first. Records checked out wait
for confirmation downstream (`app.records.hours.service`), told through `after_check_out`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.attendance.checks import Check, check_for
from app.attendance.errors import (
    AlreadyCheckedIn,
    AlreadyOnTeam,
    AlreadyRated,
    NonceReused,
    NotCheckedIn,
    RecordNotFound,
    TeamClosed,
    VolunteerUnavailable,
)
from app.attendance.occasions import Occasion, of_wish
from app.attendance.schemas import AttendanceIn, FeedbackIn
from app.attendance.state import SERVED, AttendanceEvent, move
from app.auth.principal import Principal
from app.models import Attendance, OrgUnit, Volunteer, Wish
from app.models.enums import TASK_STATUSES, AttendanceStatus, VolunteerStatus, WishStatus
from app.wishes.access import VisibleWish, visible_wish
from app.wishes.errors import WishNotFound
from app.wishes.service import apply_event
from app.wishes.state import WishEvent

# A team serves while the wish is someone's task; members may check out until it is closed.
TEAM_CHECK_IN = TASK_STATUSES
TEAM_CHECK_OUT = frozenset({WishStatus.IN_SERVICE, WishStatus.COMPLETED, WishStatus.RATED})

CheckedOut = Callable[[Session, Attendance, Occasion, datetime], None]
_AFTER_CHECK_OUT: list[CheckedOut] = []


def after_check_out(hook: CheckedOut) -> CheckedOut:
    """Register what happens once any record is checked out (the lead's or a team member's)."""
    if hook not in _AFTER_CHECK_OUT:
        _AFTER_CHECK_OUT.append(hook)
    return hook


def checked_out(session: Session, row: Attendance, occasion: Occasion, now: datetime) -> None:
    for hook in _AFTER_CHECK_OUT:
        hook(session, row, occasion, now)


def attendance_of(session: Session, wish_id: int, volunteer_id: int) -> Attendance | None:
    return session.scalars(
        select(Attendance).where(
            Attendance.wish_id == wish_id, Attendance.volunteer_id == volunteer_id
        )
    ).one_or_none()


def check_target(
    session: Session, wish_id: int, actor: Principal, body: AttendanceIn
) -> int | None:
    """The volunteer a check is for: the one named, else the caller when they serve on the wish
    (as its lead or on its team), else the wish's lead (a coordinator's check)."""
    if body.volunteer_id is not None:
        return body.volunteer_id
    assignee = session.scalar(select(Wish.assignee_id).where(Wish.id == wish_id))
    own = actor.volunteer_id
    if own is not None and (own == assignee or attendance_of(session, wish_id, own) is not None):
        return own
    return assignee


def hold_for_nonce(session: Session, wish_id: int, body: AttendanceIn) -> None:
    """Checks with a nonce on one wish are taken one at a time: a lock on the wish's row until
    the transaction ends (on SQLite, writers already run one at a time). A repeat that arrives
    while the first is still being written waits for it, then finds it (`replayed`), so both
    answer alike on every engine."""
    if body.nonce is not None:
        session.execute(select(Wish.id).where(Wish.id == wish_id).with_for_update())


def replayed(
    session: Session, *, wish_id: int, actor: Principal, body: AttendanceIn, out: bool
) -> bool:
    """Whether a check carrying a nonce was already recorded: the same check uploaded again
    (call `hold_for_nonce` first). The same nonce on another wish's record is refused (409)."""
    if body.nonce is None:
        return False
    volunteer_id = check_target(session, wish_id, actor, body)
    if volunteer_id is None:
        return False
    column = Attendance.check_out_nonce if out else Attendance.check_in_nonce
    found = session.scalar(
        select(Attendance.wish_id).where(
            Attendance.volunteer_id == volunteer_id, column == body.nonce
        )
    )
    if found is None:
        return False
    if found != wish_id:
        raise NonceReused()
    return True


def write_check_in(
    session: Session, *, wish: Wish, check: Check, is_lead: bool, actor_id: int | None
) -> Attendance:
    row = attendance_of(session, wish.id, check.volunteer_id)
    if row is None:
        row = Attendance(
            wish_id=wish.id,
            volunteer_id=check.volunteer_id,
            unit_id=wish.station_id,
            is_lead=is_lead,
            status=AttendanceStatus.ASSIGNED,
            added_by_id=actor_id,
        )
        session.add(row)
        session.flush()
    return record_check_in(session, row=row, check=check)


def record_check_in(session: Session, *, row: Attendance, check: Check) -> Attendance:
    """Move a record (of any occasion) to in service with a validated check-in."""
    if not move(
        session,
        row,
        AttendanceEvent.CHECK_IN,
        checked_in_at=check.at,
        check_in_received_at=check.received_at,
        check_in_fix=check.fix,
        check_in_method=check.method,
        check_in_nonce=check.nonce,
        manual=Attendance.manual | (check.method == "manual"),
        late_sync=Attendance.late_sync | check.late_sync,
        manual_reason=check.manual_reason,
    ):
        raise AlreadyCheckedIn()
    return row


def write_check_out(session: Session, *, row: Attendance, check: Check) -> Attendance:
    values: dict[str, object] = {
        "checked_out_at": check.at,
        "check_out_received_at": check.received_at,
        "check_out_fix": check.fix,
        "check_out_method": check.method,
        "check_out_nonce": check.nonce,
        "summary": check.summary,
        "manual": Attendance.manual | (check.method == "manual"),
        "late_sync": Attendance.late_sync | check.late_sync,
    }
    if check.manual_reason:
        values["manual_reason"] = check.manual_reason
    if not move(session, row, AttendanceEvent.CHECK_OUT, **values):
        raise NotCheckedIn()
    return row


def lead_attendance_for_check_out(session: Session, wish: Wish) -> Attendance:
    """The lead's record, checked in. A wish put in service before records were kept (or by an
    import) has none: one is made from the wish's own start-of-service time, flagged manual."""
    assert wish.assignee_id is not None
    row = attendance_of(session, wish.id, wish.assignee_id)
    if row is not None:
        return row
    started = wish.in_service_at or wish.wanted_start_at
    row = Attendance(
        wish_id=wish.id,
        volunteer_id=wish.assignee_id,
        unit_id=wish.station_id,
        is_lead=True,
        status=AttendanceStatus.IN_SERVICE,
        checked_in_at=started,
        check_in_received_at=started,
        check_in_method="manual",
        manual=True,
        manual_reason="签到记录缺失，按心愿开始服务时间补记",
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- team service


def team_record(
    session: Session, wish: Wish, actor: Principal, body: AttendanceIn
) -> Attendance | None:
    """The team member's record (not the lead's) this check is for; None when it is the lead's."""
    target = body.volunteer_id if body.volunteer_id is not None else actor.volunteer_id
    if target is None or target == wish.assignee_id:
        return None
    return attendance_of(session, wish.id, target)


def team_check(
    session: Session,
    *,
    wish: Wish,
    station: OrgUnit,
    actor: Principal,
    row: Attendance,
    body: AttendanceIn,
    now: datetime,
    out: bool,
) -> Attendance:
    """A team member's check-in or check-out: their own record; the wish does not move."""
    manual = actor.volunteer_id != row.volunteer_id
    if manual and not actor.manages(station.path):
        raise WishNotFound()
    allowed = TEAM_CHECK_OUT if out else TEAM_CHECK_IN
    if wish.status not in allowed:
        raise TeamClosed("心愿当前状态不能签到签退")
    check = check_for(
        session,
        occasion=of_wish(wish, station),
        actor=actor,
        volunteer_id=row.volunteer_id,
        manual=manual,
        body=body,
        now=now,
        out=out,
        checked_in_at=row.checked_in_at,
    )
    if out:
        return write_check_out(session, row=row, check=check)
    return write_check_in(session, wish=wish, check=check, is_lead=False, actor_id=actor.user_id)


def add_member(session: Session, *, wish: Wish, volunteer_id: int, actor_id: int) -> Attendance:
    if wish.status not in TEAM_CHECK_IN:
        raise TeamClosed()
    status = session.scalar(select(Volunteer.status).where(Volunteer.id == volunteer_id))
    if status != VolunteerStatus.ACTIVE:
        raise VolunteerUnavailable()
    if volunteer_id == wish.assignee_id or attendance_of(session, wish.id, volunteer_id):
        raise AlreadyOnTeam()
    row = Attendance(
        wish_id=wish.id,
        volunteer_id=volunteer_id,
        unit_id=wish.station_id,
        is_lead=False,
        status=AttendanceStatus.ASSIGNED,
        added_by_id=actor_id,
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- the endpoints' work


def attend(
    session: Session, *, wish_id: int, actor: Principal, body: AttendanceIn, out: bool
) -> VisibleWish:
    """A check-in or check-out as the endpoint receives it: the lead's moves the wish, a team
    member's is their own record; a repeated nonce is the same check again, answered like the
    first (what the wish is now)."""
    hold_for_nonce(session, wish_id, body)
    outcome = visible_wish(session, wish_id=wish_id, actor=actor)
    if replayed(session, wish_id=wish_id, actor=actor, body=body, out=out):
        return outcome
    member = team_record(session, outcome.loaded.wish, actor, body)
    if member is None:
        event = WishEvent.CHECK_OUT if out else WishEvent.CHECK_IN
        return apply_event(session=session, wish_id=wish_id, event=event, actor=actor, payload=body)
    now = clock.now()
    row = team_check(
        session,
        wish=outcome.loaded.wish,
        station=outcome.loaded.station,
        actor=actor,
        row=member,
        body=body,
        now=now,
        out=out,
    )
    if out:
        checked_out(session, row, of_wish(outcome.loaded.wish, outcome.loaded.station), now)
    return visible_wish(session, wish_id=wish_id, actor=actor)


def feedback(
    session: Session, *, wish_id: int, actor: Principal, body: FeedbackIn, now: datetime
) -> Attendance:
    """The volunteer rates the experience back, once, after serving."""
    row = attendance_of(session, wish_id, actor.volunteer_id) if actor.volunteer_id else None
    if row is None or row.status not in SERVED:
        raise RecordNotFound("您在此心愿下没有已完成的服务记录")
    moved = session.execute(
        update(Attendance)
        .where(Attendance.id == row.id, Attendance.feedback_score.is_(None))
        .values(feedback_score=body.score, feedback_comment=body.comment or None, feedback_at=now),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyRated()
    session.refresh(row)
    return row
