"""接单 and giving back: accepting an offer or a grab, declining, withdrawing, releasing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Update, bindparam, case, update

from app import clock
from app.models import Offer
from app.models.enums import OfferStatus, VolunteerStatus
from app.org_units.service import coordinators_for
from app.wishes.access import Access
from app.wishes.errors import (
    AtCapacity,
    NotEligible,
    NotOffered,
    OfferExpired,
    VolunteerSuspended,
)
from app.wishes.handlers.context import (
    Context,
    EventSpec,
    count,
    requester_side,
    require_assignee,
    text_reason,
    user_of_volunteer,
)
from app.wishes.loading import OfferFacts, Person
from app.wishes.schemas import OptionalReasonIn, ReasonIn
from app.wishes.state import ActorRole, WishEvent


def volunteer_may(event: WishEvent, access: Access) -> bool:
    """The volunteer-side rule of each event (offer, grab, assignee), without raising."""
    view = access.volunteer
    if view is None:
        return False
    if event == WishEvent.ACCEPT:
        offer = view.pending_offer
        return (offer is not None and offer.expires_at > clock.now()) or view.may_grab
    if event == WishEvent.DECLINE:
        return view.pending_offer is not None
    if event in (WishEvent.WITHDRAW, WishEvent.CHECK_IN, WishEvent.CHECK_OUT):
        return view.is_assignee
    return False


@dataclass(frozen=True)
class AcceptPlan:
    offer_id: int | None  # the offer accepted; None for a grab


def _accept_prepare(ctx: Context) -> AcceptPlan:
    view = ctx.access.volunteer
    assert view is not None
    if not view.volunteer.active:
        raise VolunteerSuspended()
    offer = view.pending_offer
    if offer is not None and offer.expires_at <= ctx.now:
        if not view.may_grab:
            raise OfferExpired(details={"expired_at": offer.expires_at.isoformat()})
        offer = None  # the offer lapsed, but the wish is open for grab and they may take it
    if offer is not None:
        via = "offer"
    elif ctx.wish.grab_open:
        if view.grab_reasons:
            raise NotEligible(details={"reasons": [r.value for r in view.grab_reasons]})
        via = "grab"
    else:
        raise NotOffered()
    # Read with the wish, under a lock on the volunteer's row (see access.load_wish).
    volunteer_id = view.volunteer.id
    side = ctx.loaded.volunteer_side
    assert side is not None and side.load is not None, "accept loads with lock_volunteer"
    capacity, status, active = side.load.capacity, side.load.status, side.load.open_tasks
    if status != VolunteerStatus.ACTIVE:  # the principal may be a few seconds old; this is not
        raise VolunteerSuspended()
    if active >= capacity:
        raise AtCapacity(details={"active_tasks": active, "max_concurrent_tasks": capacity})
    ctx.changes.update(assignee_id=volunteer_id, reminded_at=None)
    ctx.event_data = {"volunteer_id": volunteer_id, "via": via}
    if offer is not None:
        ctx.event_data["offer_id"] = offer.id
    actor = ctx.actor
    assert actor is not None
    ctx.new_assignee = Person(volunteer_id, actor.name, actor.phone)
    return AcceptPlan(offer.id if offer is not None else None)


@cache
def _settle_statement() -> Update:
    """Accept the winner's offer and withdraw the others, in one statement built once."""
    winner = Offer.id == bindparam("winner_id")
    return (
        update(Offer)
        .where(Offer.wish_id == bindparam("of_wish"), Offer.status == OfferStatus.PENDING)
        .values(
            status=case((winner, OfferStatus.ACCEPTED.value), else_=OfferStatus.WITHDRAWN.value),
            responded_at=bindparam("settled_at", type_=Offer.__table__.c.responded_at.type),
            response_reason=case((winner, None), else_="已被其他志愿者接单"),
        )
        .returning(Offer.volunteer_id, Offer.id)
    )


def _accept_after(ctx: Context, plan: AcceptPlan) -> None:
    # One statement settles every open offer of the wish: the winner's is accepted, the
    # others are withdrawn, and their holders are told the wish was taken.
    offer_id = plan.offer_id
    assert ctx.actor is not None
    ctx.notify("wish.accepted", requester_side(ctx.wish), volunteer_name=ctx.actor.name)
    if ctx.loaded.pending_offers == 0:
        return  # nobody else was offered it (a grab)
    settled = (
        ctx.session.connection()
        .execute(
            _settle_statement(),
            {"of_wish": ctx.wish.id, "winner_id": offer_id or 0, "settled_at": ctx.now},
        )
        .all()
    )
    if offer_id is not None:
        ctx.offer_status = OfferStatus.ACCEPTED
    others = [volunteer_id for volunteer_id, oid in settled if oid != offer_id]
    ctx.notify("wish.taken", user_of_volunteer(ctx.session, others))


def _decline_prepare(ctx: Context) -> OfferFacts:
    view = ctx.access.volunteer
    assert view is not None
    offer = view.pending_offer
    if offer is None:
        raise NotOffered("您没有待回复的派单邀请", code="NO_PENDING_OFFER")
    ctx.reason = text_reason(ctx, required=False)
    ctx.event_data = {"volunteer_id": view.volunteer.id, "offer_id": offer.id}
    return offer


def _decline_after(ctx: Context, offer: OfferFacts) -> None:
    ctx.offer_status = OfferStatus.DECLINED
    ctx.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status == OfferStatus.PENDING)
        .values(status=OfferStatus.DECLINED, responded_at=ctx.now, response_reason=ctx.reason),
        execution_options={"synchronize_session": False},
    )
    assert ctx.actor is not None
    ctx.notify(
        "offer.declined", [offer.offered_by_id], reason=ctx.reason, volunteer_name=ctx.actor.name
    )


@dataclass(frozen=True)
class GiveBackPlan:
    assignee_id: int | None  # who held the wish
    counter: str  # the volunteer's history count this adds to


def _give_back_prepare(ctx: Context) -> GiveBackPlan:
    """Withdraw (volunteer) and release (coordinator): the wish returns to dispatch."""
    require_assignee(ctx)
    ctx.reason = text_reason(ctx, required=ctx.role != ActorRole.SYSTEM)
    assignee_id = ctx.wish.assignee_id
    ctx.event_data = {"volunteer_id": assignee_id}
    ctx.changes.update(
        assignee_id=None, grab_open=False, grab_opened_at=None, dispatch_round=0, reminded_at=None
    )
    counter = "withdrawn_count" if ctx.event == WishEvent.WITHDRAW else "released_count"
    return GiveBackPlan(assignee_id, counter)


def _withdraw_after(ctx: Context, plan: GiveBackPlan) -> None:
    count(ctx, plan.assignee_id, plan.counter)
    recipients = [*requester_side(ctx.wish), *coordinators_for(ctx.session, ctx.station)]
    ctx.notify("wish.withdrawn", recipients, reason=ctx.reason)


def _release_after(ctx: Context, plan: GiveBackPlan) -> None:
    count(ctx, plan.assignee_id, plan.counter)
    ctx.notify(
        "task.released",
        user_of_volunteer(ctx.session, [plan.assignee_id] if plan.assignee_id is not None else []),
        reason=ctx.reason,
    )
    ctx.notify("wish.back_to_dispatch", requester_side(ctx.wish))


SPECS: dict[WishEvent, EventSpec[Any]] = {
    WishEvent.ACCEPT: EventSpec(None, _accept_prepare, _accept_after),
    WishEvent.DECLINE: EventSpec(OptionalReasonIn, _decline_prepare, _decline_after),
    WishEvent.WITHDRAW: EventSpec(ReasonIn, _give_back_prepare, _withdraw_after),
    WishEvent.RELEASE: EventSpec(ReasonIn, _give_back_prepare, _release_after),
}
