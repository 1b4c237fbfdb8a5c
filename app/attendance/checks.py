"""One check-in or check-out judged against the unit's rules: fence, window, consent, late sync.

A volunteer checks in with the phone's fix, taken at this moment only and only with their
consent in force (PIPL Art 28). Without consent, or when GPS fails indoors, a coordinator checks
the volunteer in on their behalf with a reason, and the record is flagged `manual`. A check made
offline carries the phone's time and a nonce: uploaded within the unit's late-sync window it is
accepted at the phone's time and flagged `late_sync` for review. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.attendance.errors import (
    CheckOutBeforeCheckIn,
    ClientTimeInFuture,
    ConsentRequired,
    LateSyncExpired,
    LocationRequired,
    OutsideFence,
    OutsideWindow,
)
from app.attendance.occasions import Occasion
from app.attendance.schemas import AttendanceIn
from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.geo import distance_m
from app.privacy.consent import ConsentPurpose, in_force
from app.rules.records import Rules, rules_for
from app.wishes.errors import ReasonRequired

# Phones' clocks drift: a check this much older than its upload is still "live".
CLOCK_SKEW = timedelta(minutes=5)


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
    occasion: Occasion,
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
        if occasion.point is not None:
            away = distance_m(body.lat, body.lng, *occasion.point)
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
    opens = occasion.starts_at - timedelta(minutes=rules.checkin_early_minutes)
    closes = occasion.ends_at + timedelta(minutes=rules.checkin_late_minutes)
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
    occasion: Occasion,
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
        or (
            actor.manages(occasion.station.path)
            and body.reason
            and (body.lat is None or body.lng is None)
        )
    ):
        refuse_self(session, actor, action="manual_check_of_self", volunteer_id=volunteer_id)
    consent = (
        not manual
        and actor is not None
        and in_force(session, actor.user_id, ConsentPurpose.LOCATION) is not None
    )
    return validate(
        occasion=occasion,
        rules=rules_for(session, occasion.station),
        volunteer_id=volunteer_id,
        manual=manual,
        consent=consent,
        body=body,
        now=now,
        checking_out=out,
        checked_in_at=checked_in_at,
    )
