"""Each unit's rules for service records: its own, else its nearest ancestor's, else these."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import OrgUnit, RecordRules
from app.rules.unit_settings import InheritedSettings


@dataclass(frozen=True)
class Rules:
    fence_m: int = 500  # check-in and check-out within this distance of the wish's place
    checkin_early_minutes: int = 60  # check-in accepted from this long before the window
    checkin_late_minutes: int = 120  # … and until this long after the window ends
    late_sync_hours: int = 72  # an offline check-in/out uploaded within this is accepted
    confirm_by: str = "coordinator"  # who confirms hours: coordinator | requester | either
    rounding_minutes: int = 30  # credited time is rounded down to this unit (0.5 h)
    cap_minutes: int = 8 * 60  # at most this much per activity
    min_attendance_pct: int = 60  # below this share of the planned duration, nothing is credited
    points_per_hour: int = 10  # points earned per credited hour
    star_ladder: str = "default"  # the jurisdiction's star table (see star_ladders)
    notice_days: int = 7  # public notice (公示) before a star takes effect
    # A record checked out and not confirmed: the confirmer is reminded after this many hours,
    # and the unit above is told after `confirm_escalate_hours` (then again each time as long,
    # one level higher), so no record stays pending unseen (app/records/reminders.py).
    confirm_remind_hours: int = 48
    confirm_escalate_hours: int = 120


RULES = InheritedSettings(RecordRules, Rules())


def rules_for(session: Session, unit: OrgUnit) -> Rules:
    """The rules in force for a unit (cached for a few seconds per process)."""
    return RULES.for_unit(session, unit)
