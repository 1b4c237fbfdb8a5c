"""审单 and 办结: approving, rejecting and closing a wish, never by the one who ordered it."""

from __future__ import annotations

from typing import Any

from app.auth.separation import refuse_self
from app.wishes.handlers.context import (
    Context,
    EventSpec,
    requester_side,
    text_reason,
)
from app.wishes.schemas import NoteIn, ReasonIn
from app.wishes.state import WishEvent

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


def _approve_after(ctx: Context, plan: None) -> None:
    ctx.notify("wish.approved", requester_side(ctx.wish))


def _reject_prepare(ctx: Context) -> None:
    _not_by_orderer(ctx)
    ctx.reason = text_reason(ctx, required=True)
    ctx.changes["reject_reason"] = ctx.reason


def _reject_after(ctx: Context, plan: None) -> None:
    ctx.notify("wish.rejected", requester_side(ctx.wish), reason=ctx.reason)


def _note_prepare(ctx: Context) -> None:
    ctx.reason = text_reason(ctx, required=False)


def _close_prepare(ctx: Context) -> None:
    _not_by_orderer(ctx)
    _note_prepare(ctx)


SPECS: dict[WishEvent, EventSpec[Any]] = {
    WishEvent.APPROVE: EventSpec(NoteIn, _approve_prepare, _approve_after),
    WishEvent.REJECT: EventSpec(ReasonIn, _reject_prepare, _reject_after),
    WishEvent.CLOSE: EventSpec(NoteIn, _close_prepare),
}
