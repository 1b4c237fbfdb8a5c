"""Loading a wish, who may see it, and in which roles an actor stands towards it.

A wish is visible to its requester (and the proxy who ordered it), to coordinators whose subtree
holds its station, to admins, and to volunteers who were offered it, hold it, or may grab it.
Everyone else gets 404, so that wishes outside one's reach cannot even be probed.

Everything a request needs of one wish is read in two statements (the wish with its station and
people, then its skills), and the volunteer's side in one more; the hot endpoints are built on
these and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from app import clock
from app.auth.deps import Principal, VolunteerFacts
from app.catalogue.service import skills_needing_qualification
from app.config import get_settings
from app.matching.scoring import Reason
from app.models import (
    Attendance,
    Category,
    Offer,
    OrgUnit,
    User,
    Volunteer,
    VolunteerSkill,
    Wish,
    WishSkill,
)
from app.models.enums import OfferStatus, VolunteerStatus
from app.volunteers.availability import window_masks
from app.wishes.eligibility import Fit, grab_ineligibility
from app.wishes.errors import WishNotFound
from app.wishes.state import TASK_STATUSES, ActorRole, WishStatus

# When an actor holds several roles towards a wish, the first of these the transition allows is
# the one they act in (a coordinator who is also the assignee checks in as the volunteer).
ROLE_PRIORITY = (
    ActorRole.VOLUNTEER,
    ActorRole.REQUESTER,
    ActorRole.COORDINATOR,
    ActorRole.ADMIN,
    ActorRole.SYSTEM,
)

# Grab-eligible volunteers see the wish while it is open and just after it is taken (so that
# those who lost the race are told "taken", not "not found").
GRAB_VISIBLE = frozenset({WishStatus.DISPATCHING, WishStatus.ACCEPTED})


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


@dataclass
class VolunteerView:
    volunteer: VolunteerFacts
    latest_offer: OfferFacts | None
    is_assignee: bool
    grab_reasons: list[Reason] | None  # None when the wish is not open for grab
    on_team: bool = False  # serves with the assignee (their own service record)

    @property
    def pending_offer(self) -> OfferFacts | None:
        offer = self.latest_offer
        return offer if offer is not None and offer.status == OfferStatus.PENDING else None

    @property
    def may_grab(self) -> bool:
        return self.grab_reasons is not None and not self.grab_reasons


@dataclass
class Access:
    roles: set[ActorRole] = field(default_factory=set)
    volunteer: VolunteerView | None = None

    @property
    def visible(self) -> bool:
        return bool(self.roles)

    @property
    def own_data(self) -> bool:
        """The requester (or whoever ordered for them) sees their own wish in full."""
        return ActorRole.REQUESTER in self.roles

    @property
    def redacted(self) -> bool:
        """Volunteers see the private parts of a wish only once they hold it."""
        if self.roles - {ActorRole.VOLUNTEER}:
            return False
        view = self.volunteer
        return not (view is not None and (view.is_assignee or view.on_team))

    def acting_role(self, allowed: frozenset[ActorRole]) -> ActorRole | None:
        for role in ROLE_PRIORITY:
            if role in allowed and role in self.roles:
                return role
        return None


# From acceptance until the wish is closed, the volunteers serving it may reveal the contact.
REVEAL_TO_VOLUNTEERS = frozenset(
    {WishStatus.ACCEPTED, WishStatus.IN_SERVICE, WishStatus.COMPLETED, WishStatus.RATED}
)


def may_reveal(access: Access, status: WishStatus) -> bool:
    """Whether the caller may see the wish's contact in full now (`POST /wishes/{id}/reveal`):
    the requester (the volunteer's phone), coordinators in scope and admins, and the volunteers
    serving it from acceptance until it is closed."""
    if access.roles & {ActorRole.REQUESTER, ActorRole.COORDINATOR, ActorRole.ADMIN}:
        return True
    view = access.volunteer
    serving = view is not None and (view.is_assignee or view.on_team)
    return serving and status in REVEAL_TO_VOLUNTEERS


def _grab_reasons(
    session: Session, volunteer: VolunteerFacts, loaded: LoadedWish
) -> list[Reason] | None:
    if not loaded.wish.grab_open:
        return None
    side = _side(loaded, volunteer)
    settings = get_settings()
    day = clock.local_day(loaded.wish.wanted_start_at)
    window, _slots = window_masks(
        loaded.wish.wanted_start_at, loaded.wish.wanted_end_at, settings.timezone
    )
    available = any(v & w for v, w in zip(side.masks, window, strict=True))
    lacks_qualification = False
    needs = skills_needing_qualification(session) & set(loaded.skills)
    if needs and not side.lacks_skill:
        valid = {
            code
            for code, until in session.execute(
                select(VolunteerSkill.skill_code, VolunteerSkill.qualified_until).where(
                    VolunteerSkill.volunteer_id == volunteer.id,
                    VolunteerSkill.skill_code.in_(needs),
                )
            )
            if until is not None and until >= day
        }
        lacks_qualification = not needs <= valid
    return grab_ineligibility(
        volunteer=volunteer,
        fit=Fit(
            lacks_skill=side.lacks_skill,
            lacks_qualification=lacks_qualification,
            risky=side.risky,
            insured_until=side.insured_until,
            min_age=side.min_age,
            max_age=side.max_age,
            birth_date=side.birth_date,
            service_day=day,
            available=available,
        ),
        wish=loaded.wish,
        station=loaded.station,
    )


def _side(loaded: LoadedWish, volunteer: VolunteerFacts) -> VolunteerSide:
    side = loaded.volunteer_side
    if side is None or side.volunteer_id != volunteer.id:
        raise AssertionError("load the wish with the acting volunteer's id")
    return side


def _volunteer_sees(view: VolunteerView, status: WishStatus) -> bool:
    return (
        view.is_assignee
        or view.on_team
        or view.latest_offer is not None
        or (view.may_grab and status in GRAB_VISIBLE)
    )


# Statuses in which a wish can have a service team beside its assignee.
TEAM_STATUSES = frozenset(
    {
        WishStatus.ACCEPTED,
        WishStatus.IN_SERVICE,
        WishStatus.COMPLETED,
        WishStatus.RATED,
        WishStatus.CLOSED,
    }
)


def _on_team(session: Session, wish_id: int, volunteer_id: int) -> bool:
    found = session.scalar(
        select(Attendance.id).where(
            Attendance.wish_id == wish_id,
            Attendance.volunteer_id == volunteer_id,
            Attendance.is_lead.is_(False),
        )
    )
    return found is not None


def access_to(session: Session, *, actor: Principal | None, loaded: LoadedWish) -> Access:
    """The roles `actor` (None: the system's timers) holds towards the wish."""
    access = Access()
    if actor is None:
        access.roles.add(ActorRole.SYSTEM)
        return access
    wish = loaded.wish
    if actor.is_admin:
        access.roles.add(ActorRole.ADMIN)
    if actor.covers(loaded.station.path):
        access.roles.add(ActorRole.COORDINATOR)
    if actor.user_id in (wish.requester_id, wish.proxy_id):
        access.roles.add(ActorRole.REQUESTER)
    if actor.volunteer is not None:
        is_assignee = wish.assignee_id == actor.volunteer.id
        view = VolunteerView(
            volunteer=actor.volunteer,
            latest_offer=_side(loaded, actor.volunteer).latest_offer,
            is_assignee=is_assignee,
            grab_reasons=_grab_reasons(session, actor.volunteer, loaded),
            on_team=not is_assignee
            and wish.status in TEAM_STATUSES
            and _on_team(session, wish.id, actor.volunteer.id),
        )
        if _volunteer_sees(view, wish.status):
            access.roles.add(ActorRole.VOLUNTEER)
            access.volunteer = view
    return access


def access_after(
    session: Session,
    *,
    actor: Principal | None,
    before: Access,
    loaded: LoadedWish,
    offer_status: OfferStatus | None = None,
) -> Access:
    """The actor's access once an event has moved the wish, without reading what is known.

    Only the volunteer's side can change: whether they hold the wish, what became of their
    offer (`offer_status`, when the event decided it), and whether the wish is open for grab.
    """
    view = before.volunteer
    if actor is None or actor.volunteer is None:
        return before
    if view is None:
        # They could not see the wish before; an event does not make it theirs.
        return before
    offer = view.latest_offer
    if offer is not None and offer_status is not None:
        offer = replace(offer, status=offer_status)
    grab = view.grab_reasons
    if (grab is not None) != loaded.wish.grab_open:
        grab = _grab_reasons(session, actor.volunteer, loaded)
    after = VolunteerView(
        volunteer=view.volunteer,
        latest_offer=offer,
        is_assignee=loaded.wish.assignee_id == view.volunteer.id,
        grab_reasons=grab,
        on_team=view.on_team,
    )
    roles = set(before.roles) - {ActorRole.VOLUNTEER}
    if _volunteer_sees(after, loaded.wish.status):
        roles.add(ActorRole.VOLUNTEER)
        return Access(roles=roles, volunteer=after)
    return Access(roles=roles, volunteer=None)
