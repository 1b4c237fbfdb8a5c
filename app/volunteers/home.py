"""A volunteer's home location: every set or move is counted against limits and logged.

What a volunteer is shown about a wish (its distance band, whether it is within their reach)
depends on where they live; a volunteer who could move their home at will could read those
answers from many places. The answers depend only on wishes' coarse points
(`app.wishes.eligibility.distance_seen_m`), and on top of that, moves are limited
(`HOME_MOVES_PER_DAY`, `HOME_MOVES_PER_30_DAYS`; registration is the first) and written to
`home_moves` with the coarse cells moved from and to, never the exact points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.config import current_settings
from app.errors import TooManyRequests
from app.geo import cell_of, coarse_point
from app.models import HomeMove, Volunteer
from app.privacy import places

DAY = timedelta(days=1)
MONTH = timedelta(days=30)


class HomeMoveLimited(TooManyRequests):
    code = "HOME_MOVE_LIMITED"
    message = "常住地点修改过于频繁，请稍后再试"


@dataclass(frozen=True)
class Allowance:
    per_day: int
    per_30_days: int
    used_today: int  # moves in the last 24 hours
    used_30_days: int  # moves in the last 30 days
    next_allowed_at: datetime | None  # None: a move is allowed now

    @property
    def remaining_today(self) -> int:
        return max(0, min(self.per_day - self.used_today, self.per_30_days - self.used_30_days))

    @property
    def remaining_30_days(self) -> int:
        return max(0, self.per_30_days - self.used_30_days)


def allowance(session: Session, volunteer_id: int, now: datetime | None = None) -> Allowance:
    """How many moves the volunteer has made in the windows, and when the next is allowed."""
    now = now or clock.now()
    settings = current_settings()
    per_day, per_month = settings.home_moves_per_day, settings.home_moves_per_30_days
    # Newest first, the last 30 days.
    times = list(
        session.scalars(
            select(HomeMove.moved_at)
            .where(HomeMove.volunteer_id == volunteer_id, HomeMove.moved_at > now - MONTH)
            .order_by(HomeMove.moved_at.desc())
        )
    )
    today = [t for t in times if t > now - DAY]
    waits = []
    # A window admits a move again once the move that filled it leaves it.
    if len(today) >= per_day:
        waits.append(today[per_day - 1] + DAY)
    if len(times) >= per_month:
        waits.append(times[per_month - 1] + MONTH)
    return Allowance(
        per_day=per_day,
        per_30_days=per_month,
        used_today=len(today),
        used_30_days=len(times),
        next_allowed_at=max(waits) if waits else None,
    )


def _refuse(limits: Allowance, now: datetime) -> HomeMoveLimited:
    assert limits.next_allowed_at is not None
    seconds = max(1, math.ceil((limits.next_allowed_at - now).total_seconds()))
    hours, minutes = divmod(math.ceil(seconds / 60), 60)
    days, hours = divmod(hours, 24)
    if days:
        wait = f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    elif hours:
        wait = f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    else:
        wait = f"{max(minutes, 1)} 分钟"
    return HomeMoveLimited(
        f"常住地点修改过于频繁（每天最多 {limits.per_day} 次，30 天内最多 "
        f"{limits.per_30_days} 次），请 {wait}后再试",
        details={
            "per_day": limits.per_day,
            "per_30_days": limits.per_30_days,
            "retry_after_seconds": seconds,
            "next_allowed_at": limits.next_allowed_at.isoformat(),
        },
        headers={"Retry-After": str(seconds)},
    )


def set_home(
    session: Session, *, volunteer: Volunteer, lat: float, lng: float, actor_id: int | None
) -> bool:
    """Place the volunteer's home at (lat, lng), GCJ-02. A volunteer not yet flushed is being
    registered; an existing one is moving. Returns whether the home moved; raises
    `HomeMoveLimited` (429 with Retry-After) when a limit is reached, changing nothing."""
    now = clock.now()
    moving = volunteer.id is not None
    if moving:
        if (volunteer.home_point or (volunteer.lat, volunteer.lng)) == (lat, lng):
            return False
        # Two moves at once must not both pass the count: the volunteer's row is locked
        # (PostgreSQL; SQLite write transactions are serial already).
        session.execute(select(Volunteer.id).where(Volunteer.id == volunteer.id).with_for_update())
        limits = allowance(session, volunteer.id, now)
        if limits.next_allowed_at is not None:
            raise _refuse(limits, now)
        before: tuple[float | None, float | None] = coarse_point(
            *(volunteer.home_point or (volunteer.lat, volunteer.lng))
        )
    else:
        before = (None, None)
    # The exact home is sealed; matching reads it to about 100 m (app/privacy/places.py).
    volunteer.home_point = (lat, lng)
    volunteer.lat, volunteer.lng = places.home(lat, lng)
    volunteer.h3_cell = cell_of(volunteer.lat, volunteer.lng)
    session.add(volunteer)
    session.flush()
    to_lat, to_lng = coarse_point(lat, lng)
    session.add(
        HomeMove(
            volunteer_id=volunteer.id,
            actor_id=actor_id,
            moved_at=now,
            from_coarse_lat=before[0],
            from_coarse_lng=before[1],
            to_coarse_lat=to_lat,
            to_coarse_lng=to_lng,
        )
    )
    session.flush()
    return True


def moves(
    session: Session, *, volunteer_id: int, after_id: int | None, limit: int
) -> list[HomeMove]:
    """The volunteer's moves, newest first (keyset by id)."""
    query = select(HomeMove).where(HomeMove.volunteer_id == volunteer_id)
    if after_id is not None:
        query = query.where(HomeMove.id < after_id)
    return list(session.scalars(query.order_by(HomeMove.id.desc()).limit(limit)))
