"""Loading a wish: everything a request needs of one wish in two statements (the wish with its
station and people, then its skills), and the volunteer's side in one more. The hot endpoints
are built on these and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from app.models import (
    Category,
    Offer,
    OrgUnit,
    User,
    Volunteer,
    VolunteerSkill,
    Wish,
    WishSkill,
)
from app.models.enums import TASK_STATUSES, OfferStatus, VolunteerStatus
from app.wishes.errors import WishNotFound


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    phone: str | None


@dataclass(frozen=True)
class OfferFacts:
    id: int
    status: OfferStatus
    expires_at: datetime
    offered_by_id: int | None


@dataclass(frozen=True)
class VolunteerLoad:
    """Read under a lock on the volunteer's row, when they are accepting."""

    capacity: int
    status: VolunteerStatus
    open_tasks: int


@dataclass(frozen=True)
class VolunteerSide:
    """What one volunteer's relation to the wish is, read with the wish."""

    volunteer_id: int
    latest_offer: OfferFacts | None
    lacks_skill: bool
    risky: bool
    min_age: int | None
    max_age: int | None
    birth_date: date | None
    insured_until: date | None
    masks: tuple[int, ...]
    load: VolunteerLoad | None = None


@dataclass
class LoadedWish:
    """A wish with its station, requester, assignee, skills and, when asked for, one
    volunteer's offer and skill fit."""

    wish: Wish
    station: OrgUnit
    requester: Person
    assignee: Person | None  # id is the volunteer id
    skills: list[str]
    pending_offers: int
    volunteer_side: VolunteerSide | None = None

    def skill_codes(self, _session: Session | None = None) -> list[str]:
        return self.skills


@cache
def _load_statement(*, with_volunteer: bool, lock_volunteer: bool = False) -> Select:
    """Built once: constructing a statement of this size costs more than running it.

    The aliases are made here, not at module level: an aliased class fills in its attributes
    on first use, and two request threads building statements over shared aliases at once
    could bind a column to the plain table (seen as "invalid reference to FROM-clause entry"
    under concurrent accepts)."""
    _Requester = aliased(User)
    _AssigneeUser = aliased(User)
    _AssigneeVolunteer = aliased(Volunteer)
    _LatestOffer = aliased(Offer)
    _Acting = aliased(Volunteer)
    _Counted = aliased(Wish)
    wish_id = bindparam("wish_id", type_=Integer)
    skills = (
        select(func.aggregate_strings(WishSkill.skill_code, ","))
        .where(WishSkill.wish_id == Wish.id)
        .scalar_subquery()
    )
    pending = (
        select(func.count())
        .select_from(Offer)
        .where(Offer.wish_id == Wish.id, Offer.status == OfferStatus.PENDING)
        .scalar_subquery()
    )
    query = (
        select(
            Wish,
            OrgUnit,
            _Requester.name,
            _Requester.phone,
            _AssigneeVolunteer.id,
            _AssigneeUser.name,
            _AssigneeUser.phone,
            skills,
            pending,
        )
        .join(OrgUnit, OrgUnit.id == Wish.station_id)
        .join(_Requester, _Requester.id == Wish.requester_id)
        .outerjoin(_AssigneeVolunteer, _AssigneeVolunteer.id == Wish.assignee_id)
        .outerjoin(_AssigneeUser, _AssigneeUser.id == _AssigneeVolunteer.user_id)
        .where(Wish.id == wish_id)
    )
    if with_volunteer:
        volunteer_id = bindparam("volunteer_id", type_=Integer)
        latest = (
            select(func.max(Offer.id))
            .where(Offer.wish_id == Wish.id, Offer.volunteer_id == volunteer_id)
            .scalar_subquery()
        )
        held = select(VolunteerSkill.skill_code).where(VolunteerSkill.volunteer_id == volunteer_id)
        lacks = (
            select(WishSkill.wish_id)
            .where(WishSkill.wish_id == Wish.id, WishSkill.skill_code.not_in(held))
            .exists()
        )
        query = (
            query.add_columns(
                _LatestOffer.id,
                _LatestOffer.status,
                _LatestOffer.expires_at,
                _LatestOffer.offered_by_id,
                lacks,
                Category.risky,
                Category.min_age,
                Category.max_age,
                _Acting.birth_date,
                _Acting.insured_until,
                *(getattr(_Acting, f"avail_{day}") for day in range(7)),
            )
            .outerjoin(_LatestOffer, _LatestOffer.id == latest)
            .join(Category, Category.code == Wish.category_code)
        )
        if lock_volunteer:
            # Accepting: lock the volunteer's row while counting their open tasks, so that two
            # accepts by the same volunteer cannot both pass the capacity check (SQLite
            # serialises writers already). One statement reads and locks.
            open_tasks = (
                select(func.count())
                .select_from(_Counted)
                .where(_Counted.assignee_id == volunteer_id, _Counted.status.in_(TASK_STATUSES))
                .scalar_subquery()
            )
            query = (
                query.add_columns(_Acting.max_concurrent_tasks, _Acting.status, open_tasks)
                .join(_Acting, _Acting.id == volunteer_id)
                .with_for_update(of=_Acting)
            )
        else:
            query = query.outerjoin(_Acting, _Acting.id == volunteer_id)
    return query


def load_wish(
    session: Session,
    wish_id: int,
    *,
    fresh: bool = False,
    volunteer_id: int | None = None,
    lock_volunteer: bool = False,
) -> LoadedWish:
    """Everything a request needs of one wish, in one statement.

    With `volunteer_id`, also that volunteer's latest offer of the wish and whether they lack
    a skill it needs. `fresh` re-reads rows already in the session.
    """
    query = _load_statement(
        with_volunteer=volunteer_id is not None,
        lock_volunteer=lock_volunteer and volunteer_id is not None,
    )
    params: dict[str, int] = {"wish_id": wish_id}
    if volunteer_id is not None:
        params["volunteer_id"] = volunteer_id
    options = {"populate_existing": True} if fresh else {}
    row = session.execute(query, params, execution_options=options).one_or_none()
    if row is None:
        raise WishNotFound()
    wish, station, r_name, r_phone, a_id, a_name, a_phone, skill_list, n_pending = row[:9]
    loaded = LoadedWish(
        wish=wish,
        station=station,
        requester=Person(wish.requester_id, r_name, r_phone),
        assignee=Person(a_id, a_name, a_phone) if a_id is not None else None,
        skills=sorted(skill_list.split(",")) if skill_list else [],
        pending_offers=n_pending,
    )
    if volunteer_id is not None:
        o_id, o_status, o_expires, o_by, lacks_skill, risky, lo, hi, birth, insured = row[9:19]
        offer = OfferFacts(o_id, OfferStatus(o_status), o_expires, o_by) if o_id else None
        loaded.volunteer_side = VolunteerSide(
            volunteer_id=volunteer_id,
            latest_offer=offer,
            lacks_skill=bool(lacks_skill),
            risky=bool(risky),
            min_age=lo,
            max_age=hi,
            birth_date=birth,
            insured_until=insured,
            masks=tuple(m or 0 for m in row[19:26]),
            load=VolunteerLoad(*row[26:29]) if lock_volunteer else None,
        )
    return loaded
