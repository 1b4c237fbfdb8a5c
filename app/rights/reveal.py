"""Reveals: full personal data where a task needs it, each one written to the access log in the
same transaction.

- A wish's contact (the requester's name and phone, the wish's contact phone, full address and
  exact place): to the volunteers serving it from acceptance until it is closed, and to
  coordinators in scope and admins at any time. The requester's own data is theirs (no log).
- The phone of the volunteer who took a wish: to its requester, coordinators and admins.
- A volunteer's phone, ID number, birth date and exact home: to coordinators in scope and
  admins.

Data already erased (retention, account deletion) is not there to reveal; nothing is logged for
fields that came back empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Forbidden
from app.models import User, Volunteer
from app.privacy import access_log
from app.privacy.access_log import AccessPurpose
from app.volunteers.service import managed_volunteer
from app.wishes.access import VisibleWish, may_reveal, visible_wish
from app.wishes.state import ActorRole


class RevealNotAllowed(Forbidden):
    code = "REVEAL_NOT_ALLOWED"
    message = "您当前不能查看该心愿的完整联系方式（接单后至办结前可查看）"


@dataclass(frozen=True)
class Contact:
    user_id: int
    name: str
    phone: str | None


@dataclass(frozen=True)
class WishContact:
    outcome: VisibleWish
    requester: Contact | None
    full_address: str | None
    contact_phone: str | None
    point: tuple[float, float] | None
    assignee: Contact | None  # the volunteer's phone, for the requester and staff
    acting_as: str


def _acting_as(outcome: VisibleWish) -> str:
    roles = outcome.access.roles
    for role in (ActorRole.REQUESTER, ActorRole.COORDINATOR, ActorRole.ADMIN):
        if role in roles:
            return role.value
    return ActorRole.VOLUNTEER.value


def reveal_wish(
    session: Session, *, wish_id: int, actor: Principal, reason: str | None, now: datetime
) -> WishContact:
    outcome = visible_wish(session, wish_id=wish_id, actor=actor)
    wish = outcome.wish
    if not may_reveal(outcome.access, wish.status):
        raise RevealNotAllowed(details={"status": wish.status})
    acting_as = _acting_as(outcome)
    purpose = {
        ActorRole.VOLUNTEER.value: AccessPurpose.SERVE_WISH,
        ActorRole.REQUESTER.value: AccessPurpose.CONTACT_VOLUNTEER,
    }.get(acting_as, AccessPurpose.COORDINATE)

    # The requester's side.
    erased = wish.personal_data_erased_at is not None
    requester_user = session.get(User, wish.requester_id)
    assert requester_user is not None
    requester = Contact(
        requester_user.id, requester_user.name, None if erased else requester_user.phone
    )
    shown = {
        "phone": requester.phone,
        "contact_phone": wish.contact_phone,
        "full_address": wish.full_address,
        "location": wish.exact_point,
    }
    if acting_as != ActorRole.REQUESTER.value:  # the requester's side sees it all anyway
        access_log.record(
            session,
            actor_id=actor.user_id,
            actor_role=acting_as,
            subject_user_id=requester.user_id,
            fields=[name for name, value in shown.items() if value is not None],
            purpose=purpose,
            wish_id=wish.id,
            reason=reason,
            now=now,
        )

    # The volunteer's phone, for those who may call them.
    assignee = None
    if wish.assignee_id is not None and acting_as != ActorRole.VOLUNTEER.value:
        row = session.execute(
            select(User.id, User.name, User.phone)
            .join(Volunteer, Volunteer.user_id == User.id)
            .where(Volunteer.id == wish.assignee_id)
        ).one()
        assignee = Contact(row.id, row.name, row.phone)
        access_log.record(
            session,
            actor_id=actor.user_id,
            actor_role=acting_as,
            subject_user_id=assignee.user_id,
            fields=["phone"] if assignee.phone is not None else [],
            purpose=purpose,
            wish_id=wish.id,
            volunteer_id=wish.assignee_id,
            reason=reason,
            now=now,
        )
    return WishContact(
        outcome=outcome,
        requester=requester,
        full_address=wish.full_address,
        contact_phone=wish.contact_phone,
        point=wish.exact_point,
        assignee=assignee,
        acting_as=acting_as,
    )


@dataclass(frozen=True)
class VolunteerContact:
    volunteer: Volunteer
    name: str
    phone: str | None
    id_number: str | None
    birth_date: date | None
    home: tuple[float, float] | None


def reveal_volunteer(
    session: Session, *, volunteer_id: int, actor: Principal, reason: str | None, now: datetime
) -> VolunteerContact:
    volunteer, _station = managed_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    user = session.get(User, volunteer.user_id)
    assert user is not None
    shown = {
        "phone": user.phone,
        "id_number": volunteer.id_number,
        "birth_date": volunteer.birth_date,
        "location": volunteer.home_point,
    }
    access_log.record(
        session,
        actor_id=actor.user_id,
        actor_role=ActorRole.ADMIN.value if actor.is_admin else ActorRole.COORDINATOR.value,
        subject_user_id=user.id,
        fields=[name for name, value in shown.items() if value is not None],
        purpose=AccessPurpose.COORDINATE,
        volunteer_id=volunteer.id,
        reason=reason,
        now=now,
    )
    return VolunteerContact(
        volunteer=volunteer,
        name=user.name,
        phone=user.phone,
        id_number=volunteer.id_number,
        birth_date=volunteer.birth_date,
        home=volunteer.home_point,
    )
