"""The timed ladder's events: offers expiring, escalation to the parent unit, reminders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import Offer, OrgUnit
from app.models.enums import OfferStatus, WishStatus
from app.org_units.service import coordinators_for
from app.wishes.handlers.context import (
    Context,
    EventSpec,
    text_reason,
    user_of_volunteer,
)
from app.wishes.loading import LoadedWish
from app.wishes.schemas import NoteIn
from app.wishes.state import STATUS_LABELS, WishEvent


def _expire_prepare(ctx: Context) -> None:
    ctx.event_data = {"round": ctx.wish.dispatch_round}


def _expire_after(ctx: Context, plan: None) -> None:
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
    ctx.notify("offer.expired", user_of_volunteer(ctx.session, expired))


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


def _escalate_prepare(ctx: Context) -> int:
    """Returns the unit the wish goes up to."""
    ctx.reason = text_reason(ctx, required=False)
    target = escalation_target(ctx.session, ctx.loaded)
    # At the top already, the top unit is reminded again.
    target_id = target.id if target is not None else (ctx.wish.escalated_to_id or ctx.station.id)
    ctx.changes.update(escalated_to_id=target_id, escalated_at=ctx.now)
    ctx.event_data = {"to_unit_id": target_id, "top": target is None}
    return target_id


def _escalate_after(ctx: Context, target_id: int) -> None:
    unit = ctx.session.get(OrgUnit, target_id)
    assert unit is not None
    ctx.notify(
        "wish.escalated",
        coordinators_for(ctx.session, unit),
        reason=ctx.reason,
        unit_name=unit.name,
        status_label=STATUS_LABELS[ctx.wish.status],
    )


def _remind_prepare(ctx: Context) -> None:
    ctx.reason = text_reason(ctx, required=False)
    ctx.changes["reminded_at"] = ctx.now
    ctx.event_data = {"volunteer_id": ctx.wish.assignee_id}


def _remind_after(ctx: Context, plan: None) -> None:
    volunteer = user_of_volunteer(
        ctx.session, [ctx.wish.assignee_id] if ctx.wish.assignee_id else []
    )
    if ctx.wish.status == WishStatus.ACCEPTED:
        ctx.notify("task.check_in_due", volunteer)
    else:
        ctx.notify("task.check_out_due", [*volunteer, *coordinators_for(ctx.session, ctx.station)])


SPECS: dict[WishEvent, EventSpec[Any]] = {
    WishEvent.EXPIRE: EventSpec(None, _expire_prepare, _expire_after),
    WishEvent.ESCALATE: EventSpec(NoteIn, _escalate_prepare, _escalate_after),
    WishEvent.REMIND: EventSpec(NoteIn, _remind_prepare, _remind_after),
}
