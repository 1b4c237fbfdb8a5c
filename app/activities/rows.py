"""The guarded writes every part of activities shares: the activity's compare-and-set moves,
the sign-ups' moves by table, the activity row's lock, and what messages say of an activity."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.activities.errors import ActivityNotFound
from app.activities.state import (
    ACTIVITY_TRANSITIONS,
    SIGNUP_TRANSITIONS,
    ActivityEvent,
    ActivityStatus,
    SignupEvent,
    SignupStatus,
)
from app.models import Activity, ActivitySession, ActivitySignup, OrgUnit


def locked(session: Session, activity_id: int) -> tuple[Activity, OrgUnit]:
    """The activity and its unit, read fresh, the activity's row locked until the transaction
    ends (PostgreSQL; on SQLite writers already run one at a time): sign-ups, cancellations and
    promotions on one activity are taken one after another, so the wait-list moves in order."""
    found = session.execute(
        select(Activity, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Activity.unit_id)
        .where(Activity.id == activity_id)
        .with_for_update(of=Activity)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None:
        raise ActivityNotFound()
    return found[0], found[1]


def move_activity(
    session: Session, activity: Activity, event: ActivityEvent, **values: Any
) -> ActivityStatus | None:
    """Compare-and-set the activity's status (and version) by the table; the new status, or
    None when the event is not allowed from the status read or another writer moved it first."""
    source = ActivityStatus(activity.status)
    target = ACTIVITY_TRANSITIONS.get((source, event))
    if target is None:
        return None
    moved = session.execute(
        update(Activity)
        .where(
            Activity.id == activity.id,
            Activity.status == source,
            Activity.version == activity.version,
        )
        .values(status=target, version=activity.version + 1, **values),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(activity)
    return target


def move_signup(session: Session, row: ActivitySignup, event: SignupEvent, **values: Any) -> bool:
    """Compare-and-set one sign-up's status by the table; False if it was not in a status the
    event leaves from (another writer moved it first)."""
    sources = [s for (s, e) in SIGNUP_TRANSITIONS if e == event]
    source = SignupStatus(row.status)
    if source not in sources:
        return False
    moved = session.execute(
        update(ActivitySignup)
        .where(ActivitySignup.id == row.id, ActivitySignup.status == source)
        .values(status=SIGNUP_TRANSITIONS[(source, event)], **values),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(row)
    return True


def move_signups(
    session: Session,
    *,
    activity_id: int,
    event: SignupEvent,
    statuses: Iterable[SignupStatus],
    values: dict[str, Any],
    ids: Iterable[int] | None = None,
) -> list[int]:
    """Move every sign-up of the activity in `statuses` (or only `ids`) by `event`, one
    statement per source status; the user ids moved."""
    moved_users: list[int] = []
    for source in statuses:
        target = SIGNUP_TRANSITIONS[(source, event)]
        query = (
            update(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == source)
            .values(status=target, **values)
            .returning(ActivitySignup.user_id)
        )
        if ids is not None:
            query = query.where(ActivitySignup.id.in_(list(ids)))
        moved_users += list(
            session.execute(query, execution_options={"synchronize_session": False}).scalars()
        )
    return moved_users


def sessions_of(session: Session, activity_id: int) -> list[ActivitySession]:
    return list(
        session.scalars(
            select(ActivitySession)
            .where(ActivitySession.activity_id == activity_id)
            .order_by(ActivitySession.starts_at)
        )
    )


def facts(activity: Activity) -> dict[str, Any]:
    """What every message says of the activity."""
    return {
        "activity_id": activity.id,
        "title": activity.title,
        "starts_at": activity.starts_at.isoformat(),
        "ends_at": activity.ends_at.isoformat(),
        "place": activity.place,
    }
