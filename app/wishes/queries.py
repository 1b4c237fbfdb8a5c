"""The lists: my wishes, my offers, my tasks, open wishes near me, the coordinator's views."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Float, Integer, Select, and_, bindparam, false, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal, VolunteerFacts
from app.geo import EARTH_RADIUS_M, bounding_box
from app.models import Offer, OrgUnit, VolunteerSkill, Wish, WishEventRecord, WishSkill
from app.models.enums import TASK_STATUSES, OfferStatus, Urgency, WishStatus
from app.org_units.service import in_subtree
from app.pagination import PageParams
from app.wishes.eligibility import distance_seen_m

# "Open wishes near me" is a bounded list, nearest first.
NEAR_ME_MAX = 50


def _newest_first(query: Select[Any], page: PageParams) -> Select[Any]:
    if page.after_id is not None:
        query = query.where(Wish.id < page.after_id)
    return query.order_by(Wish.id.desc()).limit(page.limit + 1)


def my_wishes(
    session: Session, *, actor: Principal, status: WishStatus | None, page: PageParams
) -> Sequence[Wish]:
    query = select(Wish).where(
        or_(Wish.requester_id == actor.user_id, Wish.proxy_id == actor.user_id)
    )
    if status is not None:
        query = query.where(Wish.status == status)
    return session.scalars(_newest_first(query, page)).all()


def my_tasks(
    session: Session, *, volunteer_id: int, statuses: Sequence[WishStatus] | None, page: PageParams
) -> Sequence[Wish]:
    query = select(Wish).where(
        Wish.assignee_id == volunteer_id,
        Wish.status.in_(list(statuses) if statuses else list(TASK_STATUSES)),
    )
    return session.scalars(_newest_first(query, page)).all()


@dataclass(frozen=True)
class OfferRow:
    offer: Offer
    wish: Wish

    @property
    def id(self) -> int:
        return self.offer.id


def my_offers(
    session: Session, *, volunteer_id: int, pending_only: bool, page: PageParams
) -> list[OfferRow]:
    query = (
        select(Offer, Wish)
        .join(Wish, Wish.id == Offer.wish_id)
        .where(Offer.volunteer_id == volunteer_id)
    )
    if pending_only:
        query = query.where(Offer.status == OfferStatus.PENDING, Offer.expires_at > clock.now())
    if page.after_id is not None:
        query = query.where(Offer.id < page.after_id)
    rows = session.execute(query.order_by(Offer.id.desc()).limit(page.limit + 1))
    return [OfferRow(offer, wish) for offer, wish in rows]


SUMMARY_COLUMNS = (
    Wish.id,
    Wish.title,
    Wish.category_code,
    Wish.station_id,
    Wish.coarse_address,
    Wish.wanted_start_at,
    Wish.wanted_end_at,
    Wish.urgency,
    Wish.status,
    Wish.grab_open,
    Wish.created_at,
    Wish.coarse_lat,
    Wish.coarse_lng,
)
# The square of a local equirectangular distance is accurate to far better than a metre over a
# volunteer's reach; this margin keeps borderline wishes for the exact check.
_APPROX_MARGIN = 1.001


@cache
def _open_near_statement() -> Select:
    """Built once, run with bind parameters: building it costs more than running it."""
    p = {name: bindparam(name, type_=Float) for name in (
        "lat0", "lng0", "k_lat", "k_lng", "reach2", "min_lat", "max_lat", "min_lng", "max_lng",
    )}  # fmt: skip
    volunteer_id = bindparam("volunteer_id", type_=Integer)
    user_id = bindparam("user_id", type_=Integer)
    dy = (Wish.coarse_lat - p["lat0"]) * p["k_lat"]
    dx = (Wish.coarse_lng - p["lng0"]) * p["k_lng"]
    d2 = dx * dx + dy * dy
    station_reach2 = OrgUnit.service_radius_m * OrgUnit.service_radius_m
    held = select(VolunteerSkill.skill_code).where(VolunteerSkill.volunteer_id == volunteer_id)
    lacks_skill = (
        select(WishSkill.wish_id)
        .where(WishSkill.wish_id == Wish.id, WishSkill.skill_code.not_in(held))
        .exists()
    )
    return (
        select(*SUMMARY_COLUMNS, OrgUnit.service_radius_m.label("station_radius_m"))
        .join(OrgUnit, OrgUnit.id == Wish.station_id)
        .where(
            Wish.grab_open.is_(True),
            Wish.coarse_lat.between(p["min_lat"], p["max_lat"]),
            Wish.coarse_lng.between(p["min_lng"], p["max_lng"]),
            Wish.status == WishStatus.DISPATCHING,
            Wish.requester_id != user_id,
            or_(Wish.proxy_id.is_(None), Wish.proxy_id != user_id),
            d2 <= p["reach2"],
            d2 <= station_reach2 * _APPROX_MARGIN,
            ~lacks_skill,
        )
        .order_by(d2, Wish.id)
        .limit(bindparam("limit", type_=Integer))
    )


def open_near(
    session: Session, *, volunteer: VolunteerFacts, radius_m: int | None, limit: int
) -> list[tuple[Any, float]]:
    """Wishes open for grab that this volunteer may take, nearest first, each with the
    distance the volunteer is shown (from their home to the wish's coarse point).

    Which wishes, their order and the radius filter depend on the wishes' coarse points only
    (`eligibility.distance_seen_m`): two wishes in the same coarse cell are listed alike from
    anywhere. One query: a bounding box over the indexed coarse coordinates finds the
    candidates, and the database keeps those within both the volunteer's reach and the
    station's area (an equirectangular distance, plain arithmetic on both engines), that the
    volunteer has the skills for and did not ask for themselves, nearest first (then by id),
    up to `limit`. Only those rows are read; the great-circle distance decides on them.
    """
    if not volunteer.active:
        return []
    reach = min(radius_m or volunteer.service_radius_m, volunteer.service_radius_m)
    min_lat, max_lat, min_lng, max_lng = bounding_box(volunteer.lat, volunteer.lng, reach)
    metres_per_degree = math.radians(EARTH_RADIUS_M)
    rows = session.execute(
        _open_near_statement(),
        {
            "lat0": volunteer.lat,
            "lng0": volunteer.lng,
            "k_lat": metres_per_degree,
            "k_lng": metres_per_degree * math.cos(math.radians(volunteer.lat)),
            "reach2": reach * reach * _APPROX_MARGIN,
            "min_lat": min_lat,
            "max_lat": max_lat,
            "min_lng": min_lng,
            "max_lng": max_lng,
            "volunteer_id": volunteer.id,
            "user_id": volunteer.user_id,
            "limit": limit,
        },
    ).all()
    found = []
    for row in rows:
        d = distance_seen_m(volunteer, row)
        if d <= min(reach, row.station_radius_m):
            found.append((row, d))
    return found


@dataclass(frozen=True)
class WishFilters:
    statuses: Sequence[WishStatus] | None = None
    station_id: int | None = None
    category_code: str | None = None
    urgency: Urgency | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    needs_dispatch: bool = False


def scoped(query: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict a wish query to the actor's subtrees (admins see everything)."""
    if actor.is_admin:
        return query
    if not actor.coordinator_units:
        return query.where(false())
    return query.join(OrgUnit, OrgUnit.id == Wish.station_id).where(
        or_(*(in_subtree(OrgUnit.path, unit.path) for unit in actor.coordinator_units))
    )


def staff_wishes(
    session: Session,
    *,
    actor: Principal,
    filters: WishFilters,
    page: PageParams,
    oldest_first: bool = False,
) -> Sequence[Wish]:
    query = scoped(select(Wish), actor)
    if filters.statuses:
        query = query.where(Wish.status.in_(list(filters.statuses)))
    if filters.station_id is not None:
        station_path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == filters.station_id))
        if station_path is None:
            return []
        query = query.where(
            Wish.station_id.in_(select(OrgUnit.id).where(in_subtree(OrgUnit.path, station_path)))
        )
    if filters.category_code is not None:
        query = query.where(Wish.category_code == filters.category_code)
    if filters.urgency is not None:
        query = query.where(Wish.urgency == filters.urgency)
    if filters.created_from is not None:
        query = query.where(Wish.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Wish.created_at < filters.created_to)
    if filters.needs_dispatch:
        # Approved and waiting, or dispatching with nobody holding a live offer and no grab.
        live_offer = (
            select(Offer.id)
            .where(
                Offer.wish_id == Wish.id,
                Offer.status == OfferStatus.PENDING,
                Offer.expires_at > clock.now(),
            )
            .exists()
        )
        query = query.where(
            or_(
                Wish.status == WishStatus.APPROVED,
                and_(
                    Wish.status == WishStatus.DISPATCHING,
                    Wish.grab_open.is_(False),
                    ~live_offer,
                ),
            )
        )
    if oldest_first:
        if page.after_id is not None:
            query = query.where(Wish.id > page.after_id)
        query = query.order_by(Wish.id.asc()).limit(page.limit + 1)
    else:
        query = _newest_first(query, page)
    return session.scalars(query).all()


def wish_events(session: Session, *, wish_id: int, page: PageParams) -> Sequence[WishEventRecord]:
    query = select(WishEventRecord).where(WishEventRecord.wish_id == wish_id)
    if page.after_id is not None:
        query = query.where(WishEventRecord.id > page.after_id)
    return session.scalars(query.order_by(WishEventRecord.id).limit(page.limit + 1)).all()


def wish_offers(session: Session, *, wish_id: int) -> Sequence[Offer]:
    return session.scalars(select(Offer).where(Offer.wish_id == wish_id).order_by(Offer.id)).all()
