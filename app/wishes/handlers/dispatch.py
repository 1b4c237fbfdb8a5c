"""派单: directed offers under the hard constraints, and opening a wish for grab."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.separation import refuse_self
from app.config import current_settings
from app.matching.scoring import Reason
from app.matching.service import rank, reasons_for
from app.models import Offer, OrgUnit, Volunteer
from app.models.enums import OfferStatus, VolunteerStatus
from app.wishes.errors import (
    AlreadyOffered,
    GrabAlreadyOpen,
    InvalidOfferTarget,
)
from app.wishes.handlers.context import (
    Context,
    EventSpec,
    payload_of,
    text_reason,
)
from app.wishes.loading import LoadedWish
from app.wishes.schemas import NoteIn, OfferIn
from app.wishes.state import WishEvent

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


@dataclass(frozen=True)
class OfferPlan:
    volunteer_ids: list[int]
    user_ids: list[int]
    expires_at: datetime
    note: str | None


def _offer_prepare(ctx: Context) -> OfferPlan:
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
    minutes = payload.expires_in_minutes or current_settings().default_offer_minutes
    expires_at = ctx.now + timedelta(minutes=minutes)
    ctx.reason = payload.note or None
    ctx.changes["dispatch_round"] = ctx.wish.dispatch_round + 1
    ctx.event_data = {
        "volunteer_ids": payload.volunteer_ids,
        "expires_at": expires_at.isoformat(),
        "round": ctx.wish.dispatch_round + 1,
    }
    return OfferPlan(
        volunteer_ids=payload.volunteer_ids,
        user_ids=[found[v][0].user_id for v in payload.volunteer_ids],
        expires_at=expires_at,
        note=payload.note or None,
    )


def _offer_after(ctx: Context, plan: OfferPlan) -> None:
    for volunteer_id in plan.volunteer_ids:
        ctx.session.add(
            Offer(
                wish_id=ctx.wish.id,
                volunteer_id=volunteer_id,
                offered_by_id=ctx.actor.user_id if ctx.actor else None,
                status=OfferStatus.PENDING,
                note=plan.note,
                created_at=ctx.now,
                expires_at=plan.expires_at,
            )
        )
    ctx.session.flush()
    ctx.notify(
        "offer.received",
        plan.user_ids,
        expires_at=plan.expires_at.isoformat(),
    )


def _open_grab_prepare(ctx: Context) -> None:
    if ctx.wish.grab_open:
        raise GrabAlreadyOpen()
    ctx.reason = text_reason(ctx, required=False)
    ctx.changes.update(grab_open=True, grab_opened_at=ctx.now)


def grab_candidates(session: Session, loaded: LoadedWish, limit: int) -> list[int]:
    """Users of the volunteers who may grab the wish (every hard constraint), best first."""
    ranking = rank(session, wish=loaded.wish, station=loaded.station, limit=limit)
    return [candidate.user_id for candidate in ranking.candidates]


def _open_grab_after(ctx: Context, plan: None) -> None:
    ctx.notify(
        "wish.open_for_grab",
        grab_candidates(ctx.session, ctx.loaded, GRAB_NOTIFY_LIMIT),
    )


SPECS: dict[WishEvent, EventSpec[Any]] = {
    WishEvent.OFFER: EventSpec(OfferIn, _offer_prepare, _offer_after),
    WishEvent.OPEN_GRAB: EventSpec(NoteIn, _open_grab_prepare, _open_grab_after),
}
