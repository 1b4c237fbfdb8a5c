"""Each unit's dispatch settings: its own, else its nearest ancestor's, else the defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time

from sqlalchemy.orm import Session

from app import clock
from app.models import DispatchPolicy, OrgUnit
from app.rules.unit_settings import InheritedSettings


@dataclass(frozen=True)
class Policy:
    auto_dispatch: bool = True  # the system offers approved wishes without waiting
    offer_k: int = 3  # volunteers offered at once
    offer_minutes: int = 30  # how long an offer waits for an answer
    offer_rounds: int = 2  # rounds of offers before the wish opens for grab
    radius_growth: float = 1.5  # each further round looks this much wider
    grab_minutes: int = 120  # open for grab this long before escalating
    escalation_minutes: int = 240  # then escalate again every so often
    review_minutes: int = 240  # a submitted wish waits this long for review before escalation
    checkin_grace_minutes: int = 30  # after the window starts, remind the volunteer
    release_after_minutes: int = 30  # then, this much later, take the wish back (no-show)
    autoclose_days: int = 7  # completed but unrated this long: close
    quiet_start: str = "22:00"  # no offers to volunteers at night, unless urgent
    quiet_end: str = "07:00"

    def quiet_until(self, moment: datetime) -> datetime | None:
        """When quiet hours around `moment` end, or None outside them (city time)."""
        local = clock.to_local(moment)
        start = clock_time.fromisoformat(self.quiet_start)
        end = clock_time.fromisoformat(self.quiet_end)
        now = local.time()
        if start == end:
            return None
        inside = (start <= now or now < end) if start > end else (start <= now < end)
        if not inside:
            return None
        day = local.date() if now < end else local.date() + timedelta(days=1)
        return clock.local_at(day, end)


DEFAULTS = Policy()
POLICIES = InheritedSettings(DispatchPolicy, DEFAULTS)


def policy_for(session: Session, unit: OrgUnit) -> Policy:
    """The policy in force for a unit (cached for a few seconds per process)."""
    return POLICIES.for_unit(session, unit)
