"""Each unit's dispatch settings: its own, else its nearest ancestor's, else the defaults."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models import DispatchPolicy, OrgUnit


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
        zone = ZoneInfo(get_settings().timezone)
        local = moment.astimezone(zone)
        start = clock_time.fromisoformat(self.quiet_start)
        end = clock_time.fromisoformat(self.quiet_end)
        now = local.time()
        if start == end:
            return None
        inside = (start <= now or now < end) if start > end else (start <= now < end)
        if not inside:
            return None
        day = local.date() if now < end else local.date() + timedelta(days=1)
        return datetime.combine(day, end, tzinfo=zone)


POLICY_FIELDS = [f.name for f in fields(Policy)]
DEFAULTS = Policy()

_cache: dict[int, tuple[float, Policy]] = {}
_lock = threading.Lock()
CACHE_SECONDS = 30.0


def forget_policies() -> None:
    with _lock:
        _cache.clear()


def policy_for(session: Session, unit: OrgUnit) -> Policy:
    """The policy in force for a unit (cached for a few seconds per process)."""
    with _lock:
        hit = _cache.get(unit.id)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    codes = unit.path.strip("/").split("/")
    rows = session.execute(
        select(OrgUnit.code, DispatchPolicy)
        .join(DispatchPolicy, DispatchPolicy.org_unit_id == OrgUnit.id)
        .where(OrgUnit.code.in_(codes))
    ).all()
    by_code = {code: row for code, row in rows}
    policy = DEFAULTS
    for code in codes:  # root first: the nearest unit's settings are applied last
        row = by_code.get(code)
        if row is None:
            continue
        changes = {
            name: getattr(row, name) for name in POLICY_FIELDS if getattr(row, name) is not None
        }
        policy = replace(policy, **changes)
    with _lock:
        _cache[unit.id] = (time.monotonic(), policy)
    return policy
