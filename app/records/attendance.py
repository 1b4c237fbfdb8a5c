"""Check-in and check-out at the wish's place: fence, window, consent, late sync, team service.

A volunteer checks in with the phone's fix, taken at this moment only and only with their
consent in force (PIPL Art 28). Without consent, or when GPS fails indoors, a coordinator checks
the volunteer in on their behalf with a reason, and the record is flagged `manual`. A check made
offline carries the phone's time and a nonce: uploaded within the unit's late-sync window it is
accepted at the phone's time and flagged `late_sync` for review; the same nonce twice is the same
check. The lead (the wish's assignee) moves the wish (check-in → in service, check-out →
completed) through the wish's events; team members each keep their own record beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.deps import Principal
from app.auth.separation import refuse_self
from app.errors import BadRequest, Conflict, NotFound
from app.geo import distance_m
from app.models import Attendance, OrgUnit, Volunteer, Wish
from app.models.enums import VolunteerStatus
from app.privacy.consent import ConsentPurpose, in_force
from app.records.schemas import AttendanceIn
from app.rules.records import Rules, rules_for
from app.wishes.errors import ReasonRequired, WishNotFound
from app.wishes.state import WishStatus

# Phones' clocks drift: a check this much older than its upload is still "live".
CLOCK_SKEW = timedelta(minutes=5)

# A record of service done: checked out, then credited (or awaiting it).
SERVED = ("checked_out", "credited")
TEAM_CHECK_IN = frozenset({WishStatus.ACCEPTED, WishStatus.IN_SERVICE})
TEAM_CHECK_OUT = frozenset({WishStatus.IN_SERVICE, WishStatus.COMPLETED, WishStatus.RATED})


class ConsentRequired(Conflict):
    code = "LOCATION_CONSENT_REQUIRED"
    message = "您尚未同意签到时获取位置：请先授权，或请协调员人工确认"


class LocationRequired(BadRequest):
    code = "LOCATION_REQUIRED"
    message = "签到签退须提供当前位置；室内无法定位时请协调员人工确认"


class OutsideFence(BadRequest):
    code = "OUTSIDE_FENCE"
    message = "您不在服务地点附近，无法签到签退"


class OutsideWindow(BadRequest):
    code = "OUTSIDE_SERVICE_WINDOW"
    message = "不在心愿的服务时间范围内"


class ClientTimeInFuture(BadRequest):
    code = "CLIENT_TIME_IN_FUTURE"
    message = "手机时间晚于服务器时间，请校准手机时间"


class LateSyncExpired(BadRequest):
    code = "LATE_SYNC_EXPIRED"
    message = "离线签到签退已超过补传期限，请联系协调员人工确认"


class CheckOutBeforeCheckIn(BadRequest):
    code = "CHECK_OUT_BEFORE_CHECK_IN"
    message = "签退时间不能早于签到时间"


class NotCheckedIn(Conflict):
    code = "NOT_CHECKED_IN"
    message = "尚未签到，不能签退"


class AlreadyCheckedIn(Conflict):
    code = "ALREADY_CHECKED_IN"
    message = "已经签到"


class NotOnTeam(BadRequest):
    code = "NOT_ON_TEAM"
    message = "该志愿者不在此心愿的服务团队中"


class AlreadyOnTeam(Conflict):
    code = "ALREADY_ON_TEAM"
    message = "该志愿者已在服务团队中"


class TeamClosed(Conflict):
    code = "TEAM_CLOSED"
    message = "心愿当前状态不能调整服务团队"


class VolunteerUnavailable(BadRequest):
    code = "VOLUNTEER_NOT_AVAILABLE"
    message = "该志愿者不存在或已暂停资格"


class RecordNotFound(NotFound):
    code = "SERVICE_RECORD_NOT_FOUND"
    message = "服务记录不存在"


# ---------------------------------------------------------------- one check


@dataclass(frozen=True)
class Check:
    """A validated check-in or check-out, ready to be written."""

    volunteer_id: int
    at: datetime
    received_at: datetime
    method: str  # gps | manual
    fix: tuple[float, float] | None  # the phone's position, kept only with consent
    nonce: str | None
    late_sync: bool
    manual_reason: str | None
    summary: str | None


def validate(
    *,
    wish: Wish,
    rules: Rules,
    volunteer_id: int,
    manual: bool,
    consent: bool,
    body: AttendanceIn,
    now: datetime,
    checking_out: bool,
    checked_in_at: datetime | None = None,
) -> Check:
    """Every rule a check must meet; raises the error that fits, writes nothing."""
    reason = body.reason or None
    fix = None
    if manual:
        if not reason:
            raise ReasonRequired("协调员代为签到签退须说明原因（如室内无法定位）")
    else:
        if not consent:
            raise ConsentRequired()
        if body.lat is None or body.lng is None:
            raise LocationRequired()
        # The fence is around the exact place (sealed at rest), not the public coarse point.
        away = distance_m(body.lat, body.lng, *wish.point)
        if away > rules.fence_m:
            raise OutsideFence(
                f"您距服务地点约 {away:.0f} 米，超出 {rules.fence_m} 米签到范围",
                details={"distance_m": round(away), "fence_m": rules.fence_m},
            )
        fix = (body.lat, body.lng)
    at = body.client_time or now
    if at > now + CLOCK_SKEW:
        raise ClientTimeInFuture()
    late = now - at > CLOCK_SKEW
    if late and now - at > timedelta(hours=rules.late_sync_hours):
        raise LateSyncExpired(details={"late_sync_hours": rules.late_sync_hours})
    opens = wish.wanted_start_at - timedelta(minutes=rules.checkin_early_minutes)
    closes = wish.wanted_end_at + timedelta(minutes=rules.checkin_late_minutes)
    if not checking_out and not opens <= at <= closes:
        raise OutsideWindow(
            details={"opens_at": opens.isoformat(), "closes_at": closes.isoformat()}
        )
    if checking_out:
        if checked_in_at is not None and at < checked_in_at:
            raise CheckOutBeforeCheckIn()
        if at > closes:
            raise OutsideWindow(details={"closes_at": closes.isoformat()})
    return Check(
        volunteer_id=volunteer_id,
        at=at,
        received_at=now,
        method="manual" if manual else "gps",
        fix=fix,
        nonce=body.nonce,
        late_sync=late,
        manual_reason=reason if manual else None,
        summary=(body.summary or None) if checking_out else None,
    )


def check_for(
    session: Session,
    *,
    wish: Wish,
    station: OrgUnit,
    actor: Principal | None,
    volunteer_id: int,
    manual: bool,
    body: AttendanceIn,
    now: datetime,
    out: bool,
    checked_in_at: datetime | None,
) -> Check:
    """`validate` with the station's rules and, for a volunteer's own check, their consent.

    A coordinator never checks themselves in or out by hand: a check of their own record with
    a reason and no fix (what a manual check sends) is refused (SELF_APPROVAL), not taken for a
    volunteer's check that lacks its location."""
    if actor is not None and (
        manual
        or (actor.manages(station.path) and body.reason and (body.lat is None or body.lng is None))
    ):
        refuse_self(session, actor, action="manual_check_of_self", volunteer_id=volunteer_id)
    consent = (
        not manual
        and actor is not None
        and in_force(session, actor.user_id, ConsentPurpose.LOCATION) is not None
    )
    return validate(
        wish=wish,
        rules=rules_for(session, station),
        volunteer_id=volunteer_id,
        manual=manual,
        consent=consent,
        body=body,
        now=now,
        checking_out=out,
        checked_in_at=checked_in_at,
    )


def attendance_of(session: Session, wish_id: int, volunteer_id: int) -> Attendance | None:
    return session.scalars(
        select(Attendance).where(
            Attendance.wish_id == wish_id, Attendance.volunteer_id == volunteer_id
        )
    ).one_or_none()


class NonceReused(Conflict):
    code = "CHECK_NONCE_REUSED"
    message = "该离线签到签退编号已用于另一个心愿的记录，请重新签到签退"


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
            status="assigned",
            added_by_id=actor_id,
        )
        session.add(row)
        session.flush()
    moved = session.execute(
        update(Attendance)
        .where(Attendance.id == row.id, Attendance.status == "assigned")
        .values(
            status="in_service",
            checked_in_at=check.at,
            check_in_received_at=check.received_at,
            check_in_fix=check.fix,
            check_in_method=check.method,
            check_in_nonce=check.nonce,
            manual=Attendance.manual | (check.method == "manual"),
            late_sync=Attendance.late_sync | check.late_sync,
            manual_reason=check.manual_reason,
        ),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyCheckedIn()
    session.refresh(row)
    return row


def write_check_out(session: Session, *, row: Attendance, check: Check) -> Attendance:
    values: dict[str, object] = {
        "status": "checked_out",
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
    moved = session.execute(
        update(Attendance)
        .where(Attendance.id == row.id, Attendance.status == "in_service")
        .values(values),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise NotCheckedIn()
    session.refresh(row)
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
        status="in_service",
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
        wish=wish,
        station=station,
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
        status="assigned",
        added_by_id=actor_id,
    )
    session.add(row)
    session.flush()
    return row
