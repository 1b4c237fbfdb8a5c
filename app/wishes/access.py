"""Who may see a wish, and in which roles an actor stands towards it.

A wish is visible to its requester (and the proxy who ordered it), to coordinators whose subtree
holds its station, to admins, and to volunteers who were offered it, hold it, or may grab it.
Everyone else gets 404, so that wishes outside one's reach cannot even be probed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.deps import Principal
from app.models import Offer, OrgUnit, Volunteer, VolunteerSkill, Wish, WishSkill
from app.models.enums import OfferStatus
from app.wishes.eligibility import Ineligible, grab_ineligibility
from app.wishes.state import ActorRole, WishStatus

GRAB_VISIBLE = frozenset({WishStatus.DISPATCHING, WishStatus.ACCEPTED})

# When an actor holds several roles towards a wish, the first of these the transition allows is
# the one they act in (a coordinator who is also the assignee checks in as the volunteer).
ROLE_PRIORITY = (
    ActorRole.VOLUNTEER,
    ActorRole.REQUESTER,
    ActorRole.COORDINATOR,
    ActorRole.ADMIN,
    ActorRole.SYSTEM,
)


@dataclass
class VolunteerView:
    volunteer: Volunteer
    skills: set[str]
    latest_offer: Offer | None
    is_assignee: bool
    grab_reasons: list[Ineligible] | None  # None when the wish is not open for grab

    @property
    def pending_offer(self) -> Offer | None:
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
    def redacted(self) -> bool:
        """Volunteers see the private parts of a wish only once they hold it."""
        if self.roles - {ActorRole.VOLUNTEER}:
            return False
        return not (self.volunteer is not None and self.volunteer.is_assignee)

    def acting_role(self, allowed: frozenset[ActorRole]) -> ActorRole | None:
        for role in ROLE_PRIORITY:
            if role in allowed and role in self.roles:
                return role
        return None


def wish_skill_codes(session: Session, wish_id: int) -> list[str]:
    return list(
        session.scalars(
            select(WishSkill.skill_code)
            .where(WishSkill.wish_id == wish_id)
            .order_by(WishSkill.skill_code)
        )
    )


def volunteer_skill_codes(session: Session, volunteer_id: int) -> set[str]:
    return set(
        session.scalars(
            select(VolunteerSkill.skill_code).where(VolunteerSkill.volunteer_id == volunteer_id)
        )
    )


def volunteer_view(
    session: Session,
    *,
    volunteer: Volunteer,
    wish: Wish,
    station: OrgUnit,
    wish_skills: list[str] | None = None,
) -> VolunteerView:
    latest_offer = session.scalars(
        select(Offer)
        .where(Offer.wish_id == wish.id, Offer.volunteer_id == volunteer.id)
        .order_by(Offer.id.desc())
        .limit(1)
    ).first()
    skills = volunteer_skill_codes(session, volunteer.id)
    grab_reasons = None
    if wish.grab_open:
        grab_reasons = grab_ineligibility(
            volunteer=volunteer,
            volunteer_skills=skills,
            wish=wish,
            wish_skills=wish_skills
            if wish_skills is not None
            else wish_skill_codes(session, wish.id),
            station=station,
        )
    return VolunteerView(
        volunteer=volunteer,
        skills=skills,
        latest_offer=latest_offer,
        is_assignee=wish.assignee_id == volunteer.id,
        grab_reasons=grab_reasons,
    )


def access_to(
    session: Session,
    *,
    actor: Principal | None,
    wish: Wish,
    station: OrgUnit,
    wish_skills: list[str] | None = None,
) -> Access:
    """The roles `actor` (None: the system's timers) holds towards `wish`."""
    access = Access()
    if actor is None:
        access.roles.add(ActorRole.SYSTEM)
        return access
    if actor.is_admin:
        access.roles.add(ActorRole.ADMIN)
    if actor.covers(station.path):
        access.roles.add(ActorRole.COORDINATOR)
    if actor.user_id in (wish.requester_id, wish.proxy_id):
        access.roles.add(ActorRole.REQUESTER)
    if actor.volunteer_id is not None:
        volunteer = session.get(Volunteer, actor.volunteer_id)
        if volunteer is not None:
            view = volunteer_view(
                session, volunteer=volunteer, wish=wish, station=station, wish_skills=wish_skills
            )
            # Grab-eligible volunteers see the wish while it is open and just after it is taken
            # (so that those who lost the race are told "taken", not "not found").
            grab_visible = view.may_grab and wish.status in GRAB_VISIBLE
            if view.is_assignee or view.latest_offer is not None or grab_visible:
                access.roles.add(ActorRole.VOLUNTEER)
                access.volunteer = view
    return access
