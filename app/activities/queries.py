"""Lists: activities to browse (near a point, by season, festival, programme, unit, status),
an activity's sign-ups and attendance, and one's own sign-ups; keyset pages by id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import cos, radians

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.activities.state import ActivityStatus, SignupStatus
from app.auth.principal import Principal
from app.geo import distance_m
from app.models import Activity, ActivitySession, ActivitySignup, Attendance, OrgUnit
from app.org_units.service import in_subtree
from app.pagination import PageParams

M_PER_DEG_LAT = 111_320.0


@dataclass
class ActivityFilters:
    statuses: list[ActivityStatus] = field(default_factory=lambda: [ActivityStatus.PUBLISHED])
    season_code: str | None = None
    festival_code: str | None = None
    programme_code: str | None = None
    category_code: str | None = None
    unit: OrgUnit | None = None  # its subtree
    ends_after: datetime | None = None
    near: tuple[float, float] | None = None
    radius_m: int | None = None


def activities(
    session: Session, *, actor: Principal, filters: ActivityFilters, page: PageParams
) -> list[Activity]:
    """Newest first. Drafts only of units the caller organises. Near a point: within the radius
    of the activity's public place (a bounding box in SQL, the exact distance here)."""
    query: Select[Activity] = (
        select(Activity)
        .join(OrgUnit, OrgUnit.id == Activity.unit_id)
        .where(Activity.status.in_(filters.statuses))
    )
    if ActivityStatus.DRAFT in filters.statuses and not actor.is_admin:
        managed = [in_subtree(OrgUnit.path, u.path) for u in actor.coordinator_units]
        query = query.where(or_(Activity.status != ActivityStatus.DRAFT, *managed))
    for column, value in (
        (Activity.season_code, filters.season_code),
        (Activity.festival_code, filters.festival_code),
        (Activity.programme_code, filters.programme_code),
        (Activity.category_code, filters.category_code),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.unit is not None:
        query = query.where(in_subtree(OrgUnit.path, filters.unit.path))
    if filters.ends_after is not None:
        query = query.where(Activity.ends_at >= filters.ends_after)
    if page.after_id is not None:
        query = query.where(Activity.id < page.after_id)
    query = query.order_by(Activity.id.desc())
    if filters.near is None or filters.radius_m is None:
        return list(session.scalars(query.limit(page.limit + 1)))
    lat, lng = filters.near
    dlat = filters.radius_m / M_PER_DEG_LAT
    dlng = filters.radius_m / (M_PER_DEG_LAT * max(cos(radians(lat)), 0.01))
    query = query.where(
        Activity.lat.between(lat - dlat, lat + dlat), Activity.lng.between(lng - dlng, lng + dlng)
    )
    found: list[Activity] = []
    for chunk in session.scalars(query.execution_options(yield_per=200)).partitions():
        for a in chunk:
            assert a.lat is not None and a.lng is not None
            if distance_m(lat, lng, a.lat, a.lng) <= filters.radius_m:
                found.append(a)
                if len(found) > page.limit:
                    return found
    return found


def signups(
    session: Session,
    *,
    activity_id: int,
    statuses: Sequence[SignupStatus] | None,
    page: PageParams,
) -> list[ActivitySignup]:
    query = select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)
    if statuses:
        query = query.where(ActivitySignup.status.in_(statuses))
    if page.after_id is not None:
        query = query.where(ActivitySignup.id > page.after_id)
    return list(session.scalars(query.order_by(ActivitySignup.id).limit(page.limit + 1)))


def attendance(
    session: Session, *, activity_id: int, session_id: int | None, page: PageParams
) -> list[Attendance]:
    query = (
        select(Attendance)
        .join(ActivitySession, ActivitySession.id == Attendance.activity_session_id)
        .where(ActivitySession.activity_id == activity_id)
    )
    if session_id is not None:
        query = query.where(ActivitySession.id == session_id)
    if page.after_id is not None:
        query = query.where(Attendance.id > page.after_id)
    return list(session.scalars(query.order_by(Attendance.id).limit(page.limit + 1)))


def my_signups(session: Session, *, user_id: int, page: PageParams) -> list[ActivitySignup]:
    query = select(ActivitySignup).where(ActivitySignup.user_id == user_id)
    if page.after_id is not None:
        query = query.where(ActivitySignup.id < page.after_id)
    return list(session.scalars(query.order_by(ActivitySignup.id.desc()).limit(page.limit + 1)))
