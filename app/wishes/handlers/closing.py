"""评单 and cancelling."""

from __future__ import annotations

from typing import Any

from app.models.enums import OfferStatus
from app.org_units.service import coordinators_for
from app.wishes.handlers.context import (
    Context,
    EventSpec,
    close_pending_offers,
    payload_of,
    requester_side,
    text_reason,
    user_of_volunteer,
)
from app.wishes.schemas import OptionalReasonIn, RateIn
from app.wishes.state import ActorRole, WishEvent


def _rate_prepare(ctx: Context) -> None:
    payload: RateIn = payload_of(ctx, RateIn)
    ctx.changes.update(rating=payload.score, rating_comment=payload.comment or None)
    ctx.reason = payload.comment or None
    ctx.event_data = {"score": payload.score}


def _rate_after(ctx: Context, plan: None) -> None:
    assert ctx.wish.rating is not None
    ctx.notify(
        "wish.rated",
        user_of_volunteer(ctx.session, [ctx.wish.assignee_id] if ctx.wish.assignee_id else []),
        score=ctx.wish.rating,
    )


def _cancel_prepare(ctx: Context) -> int | None:
    """Returns who held the wish (the assignee), to be told."""
    ctx.reason = text_reason(ctx, required=ctx.role in (ActorRole.COORDINATOR, ActorRole.ADMIN))
    assignee_id = ctx.wish.assignee_id
    ctx.changes.update(cancel_reason=ctx.reason, assignee_id=None, grab_open=False)
    return assignee_id


def _cancel_after(ctx: Context, assignee_id: int | None) -> None:
    offered = close_pending_offers(ctx, OfferStatus.WITHDRAWN, "心愿已取消")
    assignee = [assignee_id] if assignee_id else []
    ctx.notify(
        "wish.cancelled",
        user_of_volunteer(ctx.session, [*offered, *assignee]),
        reason=ctx.reason,
        to_volunteers=True,  # one may be on the way: urgent, never held till morning
    )
    if ctx.role != ActorRole.REQUESTER:
        ctx.notify("wish.cancelled", requester_side(ctx.wish), reason=ctx.reason)
    else:
        ctx.notify("wish.cancelled", coordinators_for(ctx.session, ctx.station), reason=ctx.reason)


SPECS: dict[WishEvent, EventSpec[Any]] = {
    WishEvent.RATE: EventSpec(RateIn, _rate_prepare, _rate_after),
    WishEvent.CANCEL: EventSpec(OptionalReasonIn, _cancel_prepare, _cancel_after),
}
