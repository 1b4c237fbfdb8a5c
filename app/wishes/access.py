"""Who may see a wish, and in which roles an actor stands towards it.

A wish is visible to its requester (and the proxy who ordered it), to coordinators whose subtree
holds its station, to admins, and to volunteers who were offered it, hold it, or may grab it.
Everyone else gets 404, so that wishes outside one's reach cannot even be probed.

`visible_wish` loads a wish (`loading.py`) and judges the caller's access in one step, raising
404 when they may not see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal, VolunteerFacts
from app.catalogue.service import skills_needing_qualification
from app.config import current_settings
from app.matching.scoring import Reason
from app.models import (
    Attendance,
    Volunteer,
    VolunteerSkill,
    Wish,
)
from app.models.enums import OfferStatus, WishStatus
from app.volunteers.availability import window_masks
from app.wishes.eligibility import Fit, grab_ineligibility
from app.wishes.errors import WishNotFound
from app.wishes.loading import (
    LoadedWish,
    OfferFacts,
    VolunteerSide,
    load_wish,
)
from app.wishes.state import ActorRole

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
    window, _slots = window_masks(
        loaded.wish.wanted_start_at, loaded.wish.wanted_end_at, current_settings().timezone
    )
    available = any(v & w for v, w in zip(side.masks, window, strict=True))
    return hard_reasons(session, volunteer, loaded, available=available)


def hard_reasons(
    session: Session, volunteer: VolunteerFacts | Volunteer, loaded: LoadedWish, *, available: bool
) -> list[Reason]:
    """The regulation's hard constraints (Art 15–17) for the volunteer on the loaded wish (loaded
    with their id), judged as for a grab; `available`: whether their weekly hours cover it."""
    side = loaded.volunteer_side
    if side is None or side.volunteer_id != volunteer.id:
        raise AssertionError("load the wish with the volunteer's id")
    day = clock.local_day(loaded.wish.wanted_start_at)
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


@dataclass
class VisibleWish:
    """A wish the caller may see, and what they may see and do with it."""

    loaded: LoadedWish
    access: Access

    @property
    def wish(self) -> Wish:
        return self.loaded.wish


def visible_wish(session: Session, *, wish_id: int, actor: Principal) -> VisibleWish:
    """The wish as `actor` may see it; 404 (WISH_NOT_FOUND) when they may not see it at all."""
    loaded = load_wish(session, wish_id, volunteer_id=actor.volunteer_id)
    access = access_to(session, actor=actor, loaded=loaded)
    if not access.visible:
        raise WishNotFound()
    return VisibleWish(loaded, access)
