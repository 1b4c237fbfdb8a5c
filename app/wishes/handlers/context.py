"""The context every event's rules work in, the typed spec of an event, and the helpers they
share (who to tell, the assignee's rule, the volunteer's history counts)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from app.auth.principal import Principal, VolunteerFacts
from app.models import Offer, OrgUnit, Volunteer, Wish
from app.models.enums import OfferStatus
from app.wishes.access import Access
from app.wishes.errors import NotAssignee, ReasonRequired
from app.wishes.loading import LoadedWish, Person
from app.wishes.state import ActorRole, WishEvent

Plan = TypeVar("Plan")

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


def _nothing_after(ctx: Context, plan: Any) -> None:
    return None


@dataclass(frozen=True)
class EventSpec(Generic[Plan]):
    """What one event does beyond moving the status: the body its endpoint takes (None: no
    body); `prepare`, before the compare-and-set, checks the event's rules and returns its plan
    (a typed value per event, or None); `after`, once the wish has moved, acts on that plan."""

    payload: type[BaseModel] | None
    prepare: Callable[[Context], Plan]
    after: Callable[[Context, Plan], None] = _nothing_after


def payload_of(ctx: Context, kind: type[BaseModel]) -> Any:
    payload = ctx.payload if ctx.payload is not None else kind()
    assert isinstance(payload, kind), f"{ctx.event} expects {kind.__name__}"
    return payload


def text_reason(ctx: Context, *, required: bool) -> str | None:
    payload = ctx.payload
    reason = getattr(payload, "reason", None) or getattr(payload, "note", None) or None
    if required and not reason:
        raise ReasonRequired()
    return reason


def user_of_volunteer(session: Session, volunteer_ids: Iterable[int]) -> list[int]:
    ids = list(volunteer_ids)
    if not ids:
        return []
    return list(session.connection().execute(_users_statement(), {"ids": ids}).scalars())


@cache
def _users_statement() -> Select:
    return select(Volunteer.user_id).where(Volunteer.id.in_(bindparam("ids", expanding=True)))


def requester_side(wish: Wish) -> list[int | None]:
    return [wish.requester_id, wish.proxy_id]


def close_pending_offers(
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


def require_assignee(ctx: Context) -> None:
    if ctx.role == ActorRole.VOLUNTEER:
        view = ctx.access.volunteer
        if view is None or not view.is_assignee:
            raise NotAssignee()


def count(ctx: Context, volunteer_id: int | None, column: str) -> None:
    """Keep the volunteer's history counts (matching's reliability) with the event."""
    if volunteer_id is None:
        return
    counter = getattr(Volunteer, column)
    ctx.session.execute(
        update(Volunteer).where(Volunteer.id == volunteer_id).values({counter: counter + 1}),
        execution_options={"synchronize_session": False},
    )
