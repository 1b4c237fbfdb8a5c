"""What a service record is a record of: a wish, an activity's session or a pairing's visit.

Check-in rules (the fence, the window), the hours rule (the planned duration), the confirmers
and the messages read the same few facts whatever the occasion: an `Occasion`. The wish's is
built here; the activities and pairings domains register how to build theirs (`register`), so
attendance never imports them (they are downstream of it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.types import Point
from app.models import Attendance, OrgUnit, Wish


@dataclass(frozen=True)
class Occasion:
    """The facts of one occasion of service that its records are judged and told by."""

    kind: str  # wish | activity | visit
    # The wish's, the activity session's or the visit's id.
    subject_id: int
    title: str
    category_code: str | None
    # The unit that records (and certifies) the service: its rules apply, its coordinators
    # confirm.
    station: OrgUnit
    # The planned time: check-ins are taken within it (give or take the unit's margins) and
    # the hours rule's minimum share is of its length.
    starts_at: datetime
    ends_at: datetime
    # The exact place the check-in fence is around (None: no fence, e.g. a place not mapped).
    point: Point | None
    # Users on the served side who may confirm the hours when the unit's rules let them.
    requester_ids: tuple[int, ...] = ()
    wish: Wish | None = field(default=None, compare=False)
    # What the activity's or the pairing's own id is, for messages and links.
    parent_id: int | None = None

    @property
    def wish_id(self) -> int | None:
        return self.subject_id if self.kind == "wish" else None


Loader = Callable[[Session, Attendance], "Occasion | None"]
_LOADERS: dict[str, Loader] = {}


def register(kind: str, loader: Loader) -> Loader:
    """Say how to build the occasion of a record of `kind` (activity, visit)."""
    _LOADERS[kind] = loader
    return loader


def kind_of(row: Attendance) -> str:
    if row.wish_id is not None:
        return "wish"
    if row.activity_session_id is not None:
        return "activity"
    return "visit"


def of_wish(wish: Wish, station: OrgUnit) -> Occasion:
    return Occasion(
        kind="wish",
        subject_id=wish.id,
        title=wish.title,
        category_code=wish.category_code,
        station=station,
        starts_at=wish.wanted_start_at,
        ends_at=wish.wanted_end_at,
        point=wish.point,
        requester_ids=tuple(i for i in (wish.requester_id, wish.proxy_id) if i is not None),
        wish=wish,
    )


def _wish_loader(session: Session, row: Attendance) -> Occasion | None:
    found = session.execute(
        select(Wish, OrgUnit).join(OrgUnit, OrgUnit.id == row.unit_id).where(Wish.id == row.wish_id)
    ).one_or_none()
    return of_wish(*found) if found is not None else None


register("wish", _wish_loader)


def occasion_of(session: Session, row: Attendance) -> Occasion | None:
    """The occasion `row` records (None when its kind's domain is not loaded)."""
    loader = _LOADERS.get(kind_of(row))
    return loader(session, row) if loader is not None else None


def load_record(session: Session, attendance_id: int) -> tuple[Attendance, Occasion] | None:
    """A record and its occasion, read fresh (None if either is gone)."""
    row = session.scalars(
        select(Attendance)
        .where(Attendance.id == attendance_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        return None
    occasion = occasion_of(session, row)
    return (row, occasion) if occasion is not None else None
