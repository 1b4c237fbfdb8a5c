"""What each event does beyond moving the status.

`prepare` runs before the compare-and-set: it checks the event's own rules, raises the error
that fits, and says which columns change. `after` runs once the wish has moved: offers, and the
notifications to write to the outbox. Both run in the request's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, Update, bindparam, case, select, update
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal, VolunteerFacts
from app.auth.separation import refuse_self
from app.config import get_settings
from app.matching.scoring import Reason
from app.matching.service import rank, reasons_for
from app.models import Offer, OrgUnit, Volunteer, Wish
from app.models.enums import OfferStatus, VolunteerStatus, WishStatus
from app.org_units.service import coordinators_for
from app.wishes.access import Access, LoadedWish, OfferFacts, Person
from app.wishes.errors import (
    AlreadyOffered,
    AtCapacity,
    GrabAlreadyOpen,
    InvalidOfferTarget,
    NotAssignee,
    NotEligible,
    NotOffered,
    OfferExpired,
    ReasonRequired,
    VolunteerSuspended,
)
from app.wishes.schemas import (
    NoteIn,
    OfferIn,
    OptionalReasonIn,
    RateIn,
    ReasonIn,
)
from app.wishes.state import STATUS_LABELS, ActorRole, WishEvent

# Hard constraints that directed offers must meet as well as grabs.
LEGAL_CONSTRAINTS = frozenset(
    {
        Reason.SKILL_MISSING,
        Reason.NEEDS_QUALIFICATION,
        Reason.NEEDS_INSURANCE,
        Reason.AGE_NOT_SUITABLE,
    }
)

# How many nearby volunteers are told when a wish opens for grab.
GRAB_NOTIFY_LIMIT = 200

Notification = tuple[str, list[int], dict[str, Any]]


@dataclass
class Context:
    session: Session
    loaded: LoadedWish
    actor: Principal | None
    role: ActorRole
    access: Access
    event: WishEvent
    payload: BaseModel | None
    now: datetime
    changes: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    event_data: dict[str, Any] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    # What the event decided about the actor's own offer, and who now holds the wish (when
    # known without a query): the response is built from these.
    offer_status: OfferStatus | None = None
    new_assignee: Person | None = None
    # Handler scratch space between prepare and after.
    scratch: dict[str, Any] = field(default_factory=dict)

    @property
    def wish(self) -> Wish:
        return self.loaded.wish

    @property
    def station(self) -> OrgUnit:
        return self.loaded.station

    def notify(self, topic: str, recipients: Iterable[int | None], **extra: Any) -> None:
        ids = [r for r in recipients if r is not None]
        if ids:
            self.notifications.append((topic, ids, extra))

    @property
    def volunteer(self) -> VolunteerFacts:
        assert self.access.volunteer is not None
        return self.access.volunteer.volunteer


@dataclass(frozen=True)
class EventSpec:
    """What one event does beyond moving the status: the body its endpoint takes (None: no
    body), `prepare` before the compare-and-set, `after` once the wish has moved."""

    payload: type[BaseModel] | None = None
    prepare: Callable[[Context], None] = lambda ctx: None
    after: Callable[[Context], None] = lambda ctx: None


def payload_of(ctx: Context, kind: type[BaseModel]) -> Any:
    payload = ctx.payload if ctx.payload is not None else kind()
    assert isinstance(payload, kind), f"{ctx.event} expects {kind.__name__}"
    return payload


def _text_reason(ctx: Context, *, required: bool) -> str | None:
    payload = ctx.payload
    reason = getattr(payload, "reason", None) or getattr(payload, "note", None) or None
    if required and not reason:
        raise ReasonRequired()
    return reason


# ---------------------------------------------------------------- people to tell


def _user_of_volunteer(session: Session, volunteer_ids: Iterable[int]) -> list[int]:
    ids = list(volunteer_ids)
    if not ids:
        return []
    return list(session.connection().execute(_users_statement(), {"ids": ids}).scalars())


@cache
def _users_statement() -> Select:
    return select(Volunteer.user_id).where(Volunteer.id.in_(bindparam("ids", expanding=True)))


def requester_side(wish: Wish) -> list[int | None]:
    return [wish.requester_id, wish.proxy_id]


def _close_pending_offers(
    ctx: Context, status: OfferStatus, reason: str, *, except_id: int | None = None
) -> list[int]:
    """Withdraw every pending offer of the wish; returns the volunteers who held them."""
    query = (
        update(Offer)
        .where(Offer.wish_id == ctx.wish.id, Offer.status == OfferStatus.PENDING)
        .values(status=status, responded_at=ctx.now, response_reason=reason)
        .returning(Offer.volunteer_id)
    )
    if except_id is not None:
        query = query.where(Offer.id != except_id)
    return list(ctx.session.scalars(query, execution_options={"synchronize_session": False}))


# ---------------------------------------------------------------- review

# Events a coordinator or admin may not fire on a wish they ordered (as requester or proxy):
# reviewing and closing one's own order is another coordinator's work.
NOT_BY_ORDERER = frozenset({WishEvent.APPROVE, WishEvent.REJECT, WishEvent.CLOSE})


def _not_by_orderer(ctx: Context) -> None:
    if ctx.actor is None:  # the system's timers
        return
    for user_id in (ctx.wish.requester_id, ctx.wish.proxy_id):
        refuse_self(None, ctx.actor, action=f"{ctx.event}_own_wish", user_id=user_id)


def _approve_prepare(ctx: Context) -> None:
    _not_by_orderer(ctx)
    _note_prepare(ctx)


def _approve_after(ctx: Context) -> None:
    ctx.notify("wish.approved", requester_side(ctx.wish))


def _reject_prepare(ctx: Context) -> None:
    _not_by_orderer(ctx)
    ctx.reason = _text_reason(ctx, required=True)
    ctx.changes["reject_reason"] = ctx.reason


def _reject_after(ctx: Context) -> None:
    ctx.notify("wish.rejected", requester_side(ctx.wish), reason=ctx.reason)


def _note_prepare(ctx: Context) -> None:
    ctx.reason = _text_reason(ctx, required=False)


def _close_prepare(ctx: Context) -> None:
    _not_by_orderer(ctx)
    _note_prepare(ctx)


# ---------------------------------------------------------------- dispatch


def _offer_prepare(ctx: Context) -> None:
    payload: OfferIn = payload_of(ctx, OfferIn)
    session = ctx.session
    volunteers = session.execute(
        select(Volunteer, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == Volunteer.home_station_id)
        .where(Volunteer.id.in_(payload.volunteer_ids))
    ).all()
    found = {v.id: (v, path) for v, path in volunteers}
    if ctx.actor is not None:  # a coordinator never offers a wish to themselves
        for volunteer, _path in found.values():
            refuse_self(None, ctx.actor, action="offer_to_self", user_id=volunteer.user_id)
    problems: dict[str, list[int]] = {}
    for volunteer_id in payload.volunteer_ids:
        entry = found.get(volunteer_id)
        if entry is None:
            problems.setdefault("not_found", []).append(volunteer_id)
            continue
        volunteer, home_path = entry
        if volunteer.status != VolunteerStatus.ACTIVE:
            problems.setdefault("suspended", []).append(volunteer_id)
        elif volunteer.user_id in (ctx.wish.requester_id, ctx.wish.proxy_id):
            problems.setdefault("is_requester", []).append(volunteer_id)
        elif ctx.actor is not None and not ctx.actor.manages(home_path):
            problems.setdefault("outside_scope", []).append(volunteer_id)
    if problems:
        raise InvalidOfferTarget(details=problems)
    # The volunteer regulation's hard constraints (Art 15–17) bind directed offers too. Distance,
    # hours and load do not: a coordinator may ask, and the volunteer may decline.
    unfit = {
        str(volunteer_id): [r.value for r in reasons if r in LEGAL_CONSTRAINTS]
        for volunteer_id, reasons in reasons_for(
            session, wish=ctx.wish, station=ctx.station, volunteer_ids=payload.volunteer_ids
        ).items()
    }
    unfit = {vid: reasons for vid, reasons in unfit.items() if reasons}
    if unfit:
        raise InvalidOfferTarget(
            "所选志愿者不满足该心愿的资质、保险或年龄等要求", details={"unfit": unfit}
        )
    already = list(
        session.scalars(
            select(Offer.volunteer_id).where(
                Offer.wish_id == ctx.wish.id,
                Offer.volunteer_id.in_(payload.volunteer_ids),
                Offer.status == OfferStatus.PENDING,
            )
        )
    )
    if already:
        raise AlreadyOffered(details={"volunteer_ids": sorted(already)})
    minutes = payload.expires_in_minutes or get_settings().default_offer_minutes
    expires_at = ctx.now + timedelta(minutes=minutes)
    ctx.scratch.update(
        volunteer_ids=payload.volunteer_ids,
        user_ids=[found[v][0].user_id for v in payload.volunteer_ids],
        expires_at=expires_at,
        note=payload.note or None,
    )
    ctx.reason = payload.note or None
    ctx.changes["dispatch_round"] = ctx.wish.dispatch_round + 1
    ctx.event_data = {
        "volunteer_ids": payload.volunteer_ids,
        "expires_at": expires_at.isoformat(),
        "round": ctx.wish.dispatch_round + 1,
    }


def _offer_after(ctx: Context) -> None:
    for volunteer_id in ctx.scratch["volunteer_ids"]:
        ctx.session.add(
            Offer(
                wish_id=ctx.wish.id,
                volunteer_id=volunteer_id,
                offered_by_id=ctx.actor.user_id if ctx.actor else None,
                status=OfferStatus.PENDING,
                note=ctx.scratch["note"],
                created_at=ctx.now,
                expires_at=ctx.scratch["expires_at"],
            )
        )
    ctx.session.flush()
    ctx.notify(
        "offer.received",
        ctx.scratch["user_ids"],
        expires_at=ctx.scratch["expires_at"].isoformat(),
    )


def _open_grab_prepare(ctx: Context) -> None:
    if ctx.wish.grab_open:
        raise GrabAlreadyOpen()
    ctx.reason = _text_reason(ctx, required=False)
    ctx.changes.update(grab_open=True, grab_opened_at=ctx.now)


def grab_candidates(session: Session, loaded: LoadedWish, limit: int) -> list[int]:
    """Users of the volunteers who may grab the wish (every hard constraint), best first."""
    ranking = rank(session, wish=loaded.wish, station=loaded.station, limit=limit)
    return [candidate.user_id for candidate in ranking.candidates]


def _open_grab_after(ctx: Context) -> None:
    ctx.notify(
        "wish.open_for_grab",
        grab_candidates(ctx.session, ctx.loaded, GRAB_NOTIFY_LIMIT),
    )


# ---------------------------------------------------------------- acceptance


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


def _accept_prepare(ctx: Context) -> None:
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
    ctx.scratch["offer_id"] = offer.id if offer is not None else None
    ctx.event_data = {"volunteer_id": volunteer_id, "via": via}
    if offer is not None:
        ctx.event_data["offer_id"] = offer.id
    actor = ctx.actor
    assert actor is not None
    ctx.new_assignee = Person(volunteer_id, actor.name, actor.phone)


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


def _accept_after(ctx: Context) -> None:
    # One statement settles every open offer of the wish: the winner's is accepted, the
    # others are withdrawn, and their holders are told the wish was taken.
    offer_id = ctx.scratch["offer_id"]
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
    ctx.notify("wish.taken", _user_of_volunteer(ctx.session, others))


def _decline_prepare(ctx: Context) -> None:
    view = ctx.access.volunteer
    assert view is not None
    offer = view.pending_offer
    if offer is None:
        raise NotOffered("您没有待回复的派单邀请", code="NO_PENDING_OFFER")
    ctx.reason = _text_reason(ctx, required=False)
    ctx.scratch["offer"] = offer
    ctx.event_data = {"volunteer_id": view.volunteer.id, "offer_id": offer.id}


def _decline_after(ctx: Context) -> None:
    offer: OfferFacts = ctx.scratch["offer"]
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


def require_assignee(ctx: Context) -> None:
    if ctx.role == ActorRole.VOLUNTEER:
        view = ctx.access.volunteer
        if view is None or not view.is_assignee:
            raise NotAssignee()


def _give_back_prepare(ctx: Context) -> None:
    """Withdraw (volunteer) and release (coordinator): the wish returns to dispatch."""
    require_assignee(ctx)
    ctx.reason = _text_reason(ctx, required=ctx.role != ActorRole.SYSTEM)
    ctx.scratch["assignee_id"] = ctx.wish.assignee_id
    ctx.event_data = {"volunteer_id": ctx.wish.assignee_id}
    ctx.changes.update(
        assignee_id=None, grab_open=False, grab_opened_at=None, dispatch_round=0, reminded_at=None
    )
    ctx.scratch["counter"] = (
        "withdrawn_count" if ctx.event == WishEvent.WITHDRAW else "released_count"
    )


def count(ctx: Context, volunteer_id: int | None, column: str) -> None:
    """Keep the volunteer's history counts (matching's reliability) with the event."""
    if volunteer_id is None:
        return
    counter = getattr(Volunteer, column)
    ctx.session.execute(
        update(Volunteer).where(Volunteer.id == volunteer_id).values({counter: counter + 1}),
        execution_options={"synchronize_session": False},
    )


def _withdraw_after(ctx: Context) -> None:
    count(ctx, ctx.scratch["assignee_id"], ctx.scratch["counter"])
    recipients = [*requester_side(ctx.wish), *coordinators_for(ctx.session, ctx.station)]
    ctx.notify("wish.withdrawn", recipients, reason=ctx.reason)


def _release_after(ctx: Context) -> None:
    count(ctx, ctx.scratch["assignee_id"], ctx.scratch["counter"])
    ctx.notify(
        "task.released",
        _user_of_volunteer(ctx.session, [ctx.scratch["assignee_id"]]),
        reason=ctx.reason,
    )
    ctx.notify("wish.back_to_dispatch", requester_side(ctx.wish))


# ---------------------------------------------------------------- rating, cancel, close


def _rate_prepare(ctx: Context) -> None:
    payload: RateIn = payload_of(ctx, RateIn)
    ctx.changes.update(rating=payload.score, rating_comment=payload.comment or None)
    ctx.reason = payload.comment or None
    ctx.event_data = {"score": payload.score}


def _rate_after(ctx: Context) -> None:
    assert ctx.wish.rating is not None
    ctx.notify(
        "wish.rated",
        _user_of_volunteer(ctx.session, [ctx.wish.assignee_id] if ctx.wish.assignee_id else []),
        score=ctx.wish.rating,
    )


def _cancel_prepare(ctx: Context) -> None:
    ctx.reason = _text_reason(ctx, required=ctx.role in (ActorRole.COORDINATOR, ActorRole.ADMIN))
    ctx.scratch["assignee_id"] = ctx.wish.assignee_id
    ctx.changes.update(cancel_reason=ctx.reason, assignee_id=None, grab_open=False)


def _cancel_after(ctx: Context) -> None:
    offered = _close_pending_offers(ctx, OfferStatus.WITHDRAWN, "心愿已取消")
    assignee = [ctx.scratch["assignee_id"]] if ctx.scratch["assignee_id"] else []
    ctx.notify(
        "wish.cancelled",
        _user_of_volunteer(ctx.session, [*offered, *assignee]),
        reason=ctx.reason,
        to_volunteers=True,  # one may be on the way: urgent, never held till morning
    )
    if ctx.role != ActorRole.REQUESTER:
        ctx.notify("wish.cancelled", requester_side(ctx.wish), reason=ctx.reason)
    else:
        ctx.notify("wish.cancelled", coordinators_for(ctx.session, ctx.station), reason=ctx.reason)


# ---------------------------------------------------------------- the ladder


def _expire_prepare(ctx: Context) -> None:
    ctx.event_data = {"round": ctx.wish.dispatch_round}


def _expire_after(ctx: Context) -> None:
    expired = (
        ctx.session.execute(
            update(Offer)
            .where(
                Offer.wish_id == ctx.wish.id,
                Offer.status == OfferStatus.PENDING,
                Offer.expires_at <= ctx.now,
            )
            .values(status=OfferStatus.EXPIRED, responded_at=ctx.now)
            .returning(Offer.volunteer_id),
            execution_options={"synchronize_session": False},
        )
        .scalars()
        .all()
    )
    ctx.event_data["volunteer_ids"] = list(expired)
    ctx.notify("offer.expired", _user_of_volunteer(ctx.session, expired))


def escalation_target(session: Session, loaded: LoadedWish) -> OrgUnit | None:
    """The unit a wish goes up to: the parent of the unit now responsible for it."""
    current = (
        session.get(OrgUnit, loaded.wish.escalated_to_id)
        if loaded.wish.escalated_to_id is not None
        else loaded.station
    )
    if current is None or current.parent_id is None:
        return None
    return session.get(OrgUnit, current.parent_id)


def _escalate_prepare(ctx: Context) -> None:
    ctx.reason = _text_reason(ctx, required=False)
    target = escalation_target(ctx.session, ctx.loaded)
    # At the top already, the top unit is reminded again.
    target_id = target.id if target is not None else (ctx.wish.escalated_to_id or ctx.station.id)
    ctx.changes.update(escalated_to_id=target_id, escalated_at=ctx.now)
    ctx.scratch["target_id"] = target_id
    ctx.event_data = {"to_unit_id": target_id, "top": target is None}


def _escalate_after(ctx: Context) -> None:
    unit = ctx.session.get(OrgUnit, ctx.scratch["target_id"])
    assert unit is not None
    ctx.notify(
        "wish.escalated",
        coordinators_for(ctx.session, unit),
        reason=ctx.reason,
        unit_name=unit.name,
        status_label=STATUS_LABELS[ctx.wish.status],
    )


def _remind_prepare(ctx: Context) -> None:
    ctx.reason = _text_reason(ctx, required=False)
    ctx.changes["reminded_at"] = ctx.now
    ctx.event_data = {"volunteer_id": ctx.wish.assignee_id}


def _remind_after(ctx: Context) -> None:
    volunteer = _user_of_volunteer(
        ctx.session, [ctx.wish.assignee_id] if ctx.wish.assignee_id else []
    )
    if ctx.wish.status == WishStatus.ACCEPTED:
        ctx.notify("task.check_in_due", volunteer)
    else:
        ctx.notify("task.check_out_due", [*volunteer, *coordinators_for(ctx.session, ctx.station)])


SPECS: dict[WishEvent, EventSpec] = {
    WishEvent.APPROVE: EventSpec(NoteIn, _approve_prepare, _approve_after),
    WishEvent.REJECT: EventSpec(ReasonIn, _reject_prepare, _reject_after),
    WishEvent.OFFER: EventSpec(OfferIn, _offer_prepare, _offer_after),
    WishEvent.OPEN_GRAB: EventSpec(NoteIn, _open_grab_prepare, _open_grab_after),
    WishEvent.ACCEPT: EventSpec(None, _accept_prepare, _accept_after),
    WishEvent.DECLINE: EventSpec(OptionalReasonIn, _decline_prepare, _decline_after),
    WishEvent.WITHDRAW: EventSpec(ReasonIn, _give_back_prepare, _withdraw_after),
    WishEvent.RELEASE: EventSpec(ReasonIn, _give_back_prepare, _release_after),
    WishEvent.RATE: EventSpec(RateIn, _rate_prepare, _rate_after),
    WishEvent.CANCEL: EventSpec(OptionalReasonIn, _cancel_prepare, _cancel_after),
    WishEvent.CLOSE: EventSpec(NoteIn, _close_prepare),
    WishEvent.EXPIRE: EventSpec(None, _expire_prepare, _expire_after),
    WishEvent.ESCALATE: EventSpec(NoteIn, _escalate_prepare, _escalate_after),
    WishEvent.REMIND: EventSpec(NoteIn, _remind_prepare, _remind_after),
}


def register(event: WishEvent, spec: EventSpec) -> None:
    """Another domain's spec for an event of the table (check-in and check-out are attendance's:
    the wish loop applies them without importing it)."""
    assert event not in SPECS or SPECS[event] == spec, f"{event} is registered already"
    SPECS[event] = spec
