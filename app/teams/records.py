"""A team's figures, every one a query over the records: hours from the ledger, wishes taken as
a team, activities joined as a team, households and villages adopted.

Team hours are the members' credited service hours (`hours_entries`, corrections included)
started in the period, counted from the day each joined: a member's hours before they joined
belong to them, not the team. Members who have left no longer count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.models import (
    Activity,
    ActivitySignup,
    HoursEntry,
    Team,
    TeamAdoption,
    TeamCallup,
    TeamMember,
    User,
    Volunteer,
    Wish,
)
from app.models.enums import WishStatus
from app.seasons.service import local_date
from app.teams.errors import PeriodInvalid
from app.teams.schemas import CallupStatus, MemberStatus

MAX_PERIOD_DAYS = 3 * 366
SERVED = (WishStatus.COMPLETED, WishStatus.RATED, WishStatus.CLOSED)


@dataclass(frozen=True)
class Period:
    start_date: date
    end_date: date  # inclusive

    @property
    def starts_at(self) -> datetime:
        return clock.local_at(self.start_date, time(0)).astimezone(UTC)

    @property
    def ends_at(self) -> datetime:
        return clock.local_at(self.end_date + timedelta(days=1), time(0)).astimezone(UTC)


def period(start: date | None, end: date | None) -> Period:
    """From the first of the year to today by default; at most three years."""
    today = local_date()
    end = end or today
    start = start or date(end.year, 1, 1)
    if start > end or (end - start).days > MAX_PERIOD_DAYS or start.year < 2000:
        raise PeriodInvalid(details={"from": start.isoformat(), "to": end.isoformat()})
    return Period(start, end)


@dataclass(frozen=True)
class MemberMinutes:
    volunteer_id: int
    name: str
    minutes: int


def member_minutes(
    session: Session, *, team_id: int, starts_at: datetime, ends_at: datetime
) -> list[MemberMinutes]:
    """Each active member's service minutes started in [starts_at, ends_at) since joining,
    most first (members with none are listed with 0)."""
    joined = func.coalesce(TeamMember.decided_at, TeamMember.created_at)
    minutes = func.coalesce(func.sum(HoursEntry.minutes), 0)
    rows = session.execute(
        select(TeamMember.volunteer_id, User.name, minutes.label("minutes"))
        .join(Volunteer, Volunteer.id == TeamMember.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .outerjoin(
            HoursEntry,
            and_(
                HoursEntry.volunteer_id == TeamMember.volunteer_id,
                HoursEntry.category == "service",
                HoursEntry.started_at >= starts_at,
                HoursEntry.started_at < ends_at,
                HoursEntry.started_at >= joined,
            ),
        )
        .where(TeamMember.team_id == team_id, TeamMember.status == MemberStatus.ACTIVE)
        .group_by(TeamMember.volunteer_id, User.name)
        .order_by(minutes.desc(), TeamMember.volunteer_id)
    )
    return [MemberMinutes(v, name, int(m)) for v, name, m in rows]


def ranked(rows: list[MemberMinutes]) -> list[tuple[int, MemberMinutes]]:
    """Standard competition ranks (1, 2, 2, 4) of members with hours, most first."""
    out: list[tuple[int, MemberMinutes]] = []
    for index, row in enumerate(r for r in rows if r.minutes > 0):
        rank = out[-1][0] if out and out[-1][1].minutes == row.minutes else index + 1
        out.append((rank, row))
    return out


def team_wishes(session: Session, *, team_id: int, p: Period, limit: int = 50) -> list[
    tuple[Wish, int]
]:  # fmt: skip
    """The wishes the team took in the period (accepted then), newest first, each with how
    many members accepted their callup."""
    accepted = (
        select(func.count())
        .where(
            TeamCallup.wish_id == Wish.id,
            TeamCallup.team_id == team_id,
            TeamCallup.status == CallupStatus.ACCEPTED,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(Wish, accepted)
        .where(Wish.team_id == team_id, _taken_in(p))
        .order_by(Wish.accepted_at.desc(), Wish.id.desc())
        .limit(limit)
    )
    return [(wish, int(n)) for wish, n in rows]


def _taken_in(p: Period) -> ColumnElement[bool]:
    return and_(Wish.accepted_at >= p.starts_at, Wish.accepted_at < p.ends_at)


@dataclass(frozen=True)
class Counts:
    wishes_taken: int
    wishes_served: int
    activities_joined: int
    minutes: int
    households: int
    villages: int


def counts(session: Session, *, team: Team, p: Period) -> Counts:
    taken = session.execute(
        select(
            func.count(),
            func.count().filter(Wish.status.in_(SERVED)),
        ).where(Wish.team_id == team.id, _taken_in(p))
    ).one()
    activities = session.scalar(
        select(func.count(func.distinct(ActivitySignup.activity_id)))
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(
            ActivitySignup.team_id == team.id,
            ActivitySignup.status == "admitted",
            Activity.starts_at >= p.starts_at,
            Activity.starts_at < p.ends_at,
        )
    )
    minutes = sum(
        row.minutes
        for row in member_minutes(
            session, team_id=team.id, starts_at=p.starts_at, ends_at=p.ends_at
        )
    )
    in_force = and_(
        TeamAdoption.team_id == team.id,
        TeamAdoption.start_date <= p.end_date,
        or_(TeamAdoption.end_date.is_(None), TeamAdoption.end_date >= p.start_date),
    )
    households, villages = session.execute(
        select(
            func.count(func.distinct(TeamAdoption.household_id)),
            func.count(func.distinct(TeamAdoption.village_id)),
        ).where(in_force)
    ).one()
    return Counts(
        wishes_taken=int(taken[0]),
        wishes_served=int(taken[1]),
        activities_joined=int(activities or 0),
        minutes=minutes,
        households=int(households),
        villages=int(villages),
    )
