"""The SQL the statistics sections share: what counts as a completed wish, a credited hour, a
registered volunteer or a station of a scope, each as a query whose rows are the evidence.

Every function takes the `Scope` and an optional extra condition (`when`), so a section can
narrow a figure to a season, a festival campaign or a programme without writing the base rules
again. Counts and sums are taken over the same queries the drill-downs list.

- A wish is *completed* in the window when the first event of its log that reached `completed`
  (`wish_events.to_status`, the check-out) has its instant in the window, and its station is in
  the subtree; read from the wish's milestones (`wish_milestones.completed_at`, kept from the log
  by the database: `app.models.wishes.WishMilestones`). No event leaves `completed` to reach it
  again, so a wish counts once.
- *Credited hours* are the `service` entries of the hours ledger recorded by a unit of the
  subtree whose service started in the window (`started_at`). A correction copies the start of
  the entry it reverses or replaces, so a reversal lands in the same window as what it reverses
  and the sum is the net credited time, as `app.records.hours.ledger` sums it.
- An *active* volunteer has a positive net of credited minutes in the window.
- A *registered* volunteer has their home station in the subtree and registered before the
  window's end.
- An activity is *held* in the window when it was published (status `published`, or
  `finished` after it) by a unit of the subtree and one of its sessions starts in the window
  (`activity_sessions.starts_at`); drafts and cancelled activities are never held. Its
  *places taken* are its volunteer sign-ups that were admitted (`admitted`, and `no_show`: an
  admitted volunteer who never came still held the place); participants take no place. The
  *attendances served* at it are the service records of its held sessions that were checked
  out (credited or awaiting confirmation, `app.attendance.state.SERVED`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from app.attendance.state import SERVED as SERVED_RECORDS
from app.models import (
    Activity,
    ActivitySession,
    ActivitySignup,
    Attendance,
    HoursEntry,
    OrgUnit,
    Volunteer,
)
from app.models import WishMilestones as M
from app.models.enums import OrgLevel
from app.stats.figures import Scope
from app.stats.queries import station_ids

Interval = tuple[datetime, datetime]  # half-open [start, end)

SERVICE = "service"
Credited = Select[int, int, int]  # (entry id, volunteer id, minutes)


def units_of(scope: Scope) -> Select[int] | list[int]:
    """The ids of the units in the scope's subtree (the root included); see
    `app.stats.queries.station_ids`."""
    return station_ids(scope)


def clip(scope: Scope, intervals: Sequence[Interval]) -> list[Interval]:
    """The parts of `intervals` inside the scope's window, empty ones dropped."""
    out = []
    for start, end in intervals:
        start, end = max(start, scope.starts_at), min(end, scope.ends_at)
        if start < end:
            out.append((start, end))
    return out


def during(column: Any, intervals: Sequence[Interval]) -> ColumnElement[bool]:
    """`column` falls in one of the half-open intervals (false for none)."""
    if not intervals:
        return false()
    return or_(*(and_(column >= start, column < end) for start, end in intervals))


def in_window(column: Any, scope: Scope) -> ColumnElement[bool]:
    return and_(column >= scope.starts_at, column < scope.ends_at)


# ---------------------------------------------------------------- completed wishes


def completed(scope: Scope, when: ColumnElement[bool] | None = None) -> Select[int]:
    """Ids of wishes of the subtree completed in the window (and `when`, which may read the
    `WishMilestones` columns: `completed_at`, `programme_code`, ...)."""
    return select(M.wish_id).where(
        M.station_id.in_(units_of(scope)),
        in_window(M.completed_at, scope),
        when if when is not None else true(),
    )


# ---------------------------------------------------------------- the hours ledger


def credited(scope: Scope, when: ColumnElement[bool] | None = None) -> Credited:
    """The service entries (id, volunteer, minutes) credited to the subtree in the window (and
    `when`, which may read `HoursEntry` columns)."""
    return select(HoursEntry.id, HoursEntry.volunteer_id, HoursEntry.minutes).where(
        HoursEntry.category == SERVICE,
        HoursEntry.unit_id.in_(units_of(scope)),
        in_window(HoursEntry.started_at, scope),
        when if when is not None else true(),
    )


def active(entries: Credited) -> Select[int]:
    """The volunteers whose net minutes over the entries are positive."""
    rows = entries.subquery()
    return (
        select(rows.c.volunteer_id)
        .group_by(rows.c.volunteer_id)
        .having(func.sum(rows.c.minutes) > 0)
    )


# ---------------------------------------------------------------- activities

HELD_STATUSES = ("published", "finished")
PLACE_STATUSES = ("admitted", "no_show")
HeldSessions = Select[int, int]  # (session id, activity id)


def held_sessions(scope: Scope, when: ColumnElement[bool] | None = None) -> HeldSessions:
    """The sessions (id, activity id) of published activities of the subtree starting in the
    window (and `when`, which may read `ActivitySession` and `Activity` columns)."""
    return (
        select(ActivitySession.id, ActivitySession.activity_id)
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .where(
            Activity.unit_id.in_(units_of(scope)),
            Activity.status.in_(HELD_STATUSES),
            in_window(ActivitySession.starts_at, scope),
            when if when is not None else true(),
        )
    )


def held(scope: Scope, when: ColumnElement[bool] | None = None) -> Select[int]:
    """Ids of the activities held in the window (one of their sessions as `held_sessions`)."""
    sessions = held_sessions(scope, when).subquery()
    return select(sessions.c.activity_id).distinct()


def places(activities: Select[int]) -> Select[int, int]:
    """The volunteer places taken at the activities: sign-ups (id, activity id) admitted."""
    return select(ActivitySignup.id, ActivitySignup.activity_id).where(
        ActivitySignup.activity_id.in_(activities),
        ActivitySignup.role == "volunteer",
        ActivitySignup.status.in_(PLACE_STATUSES),
    )


def served_at(scope: Scope, when: ColumnElement[bool] | None = None) -> Select[int]:
    """Ids of the service records served at the sessions `held_sessions(scope, when)` lists."""
    sessions = held_sessions(scope, when).subquery()
    return select(Attendance.id).where(
        Attendance.activity_session_id.in_(select(sessions.c.id)),
        Attendance.status.in_(tuple(SERVED_RECORDS)),
    )


# ---------------------------------------------------------------- volunteers and stations


def registered(scope: Scope, when: ColumnElement[bool] | None = None) -> Select[int]:
    """Volunteers whose home station is in the subtree, registered before the window ends."""
    return select(Volunteer.id).where(
        Volunteer.home_station_id.in_(units_of(scope)),
        Volunteer.created_at < scope.ends_at,
        when if when is not None else true(),
    )


def stations(scope: Scope) -> Select[int]:
    """The active village-level units (stations) of the subtree."""
    return select(OrgUnit.id).where(
        OrgUnit.id.in_(units_of(scope)),
        OrgUnit.level == OrgLevel.VILLAGE.value,
        OrgUnit.is_active.is_(True),
    )


# ---------------------------------------------------------------- reading


Listed = Select[int] | Credited | Select[int, int]


def count(session: Session, query: Listed) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def ids(session: Session, query: Listed) -> list[int]:
    """The first column of the query's rows, distinct and ascending."""
    rows = query.subquery()
    first = rows.c[0]
    return [int(i) for i in session.scalars(select(first).distinct().order_by(first))]
