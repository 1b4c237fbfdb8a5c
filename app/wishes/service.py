"""The wish loop: applying every event to a wish through one entry point (`intake.py` creates them).

`apply_event` looks the transition up in the table (409 if the status does not allow the event,
403 if the actor's role does not), lets the event's handler check its own rules, then moves the
wish with a compare-and-set `UPDATE ... WHERE id AND status AND version`. A writer that loses the
race re-reads the wish and is judged again against what the winner left, so it gets the error
that fits (e.g. WISH_ALREADY_TAKEN). The event row and the outbox rows are written in the same
transaction as the change.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal
from app.models import (
    User,
    Volunteer,
    Wish,
    WishEventRecord,
)
from app.models.enums import WishStatus
from app.notifications.outbox import enqueue_many
from app.wishes import handlers, hooks
from app.wishes.access import Access, VisibleWish, access_after, access_to
from app.wishes.errors import (
    InvalidTransition,
    RoleNotAllowed,
    WishAlreadyTaken,
    WishChanged,
    WishNotFound,
)
from app.wishes.handlers.acceptance import volunteer_may
from app.wishes.handlers.context import Context
from app.wishes.handlers.review import NOT_BY_ORDERER
from app.wishes.loading import Person, load_wish
from app.wishes.state import (
    EVENT_LABELS,
    STATUS_LABELS,
    STATUS_TIMESTAMP,
    ActorRole,
    WishEvent,
    transition_for,
)

log = structlog.get_logger()

MAX_CAS_ATTEMPTS = 5


def allowed_events(access: Access, status: WishStatus) -> list[WishEvent]:
    """Events the actor may fire now, judged by the table and their roles (for client buttons)."""
    events = []
    for event in WishEvent:
        transition = transition_for(status, event)
        if transition is None:
            continue
        role = access.acting_role(transition.roles)
        if role is None:
            continue
        if role == ActorRole.VOLUNTEER and not volunteer_may(event, access):
            continue
        if event in NOT_BY_ORDERER and ActorRole.REQUESTER in access.roles:
            continue  # their own order: another coordinator reviews and closes it
        events.append(event)
    return events


def _not_allowed(wish: Wish, event: WishEvent, access: Access) -> Exception:
    details = {"status": wish.status, "event": event}
    if event == WishEvent.ACCEPT and wish.assignee_id is not None:
        view = access.volunteer
        if view is not None and view.is_assignee:
            return InvalidTransition("您已接下该心愿", code="ALREADY_ACCEPTED", details=details)
        return WishAlreadyTaken(details=details)
    return InvalidTransition(
        f"该心愿当前{STATUS_LABELS[wish.status]}，不能{EVENT_LABELS[event]}", details=details
    )


def apply_event(
    *,
    session: Session,
    wish_id: int,
    event: WishEvent,
    actor: Principal | None,
    payload: BaseModel | None = None,
) -> VisibleWish:
    """Apply one event to one wish as `actor` (None: the system's timers)."""
    spec = handlers.SPECS[event]
    for attempt in range(MAX_CAS_ATTEMPTS):
        # Always read the row as it is now, not as this session last saw it.
        loaded = load_wish(
            session,
            wish_id,
            fresh=True,
            volunteer_id=actor.volunteer_id if actor is not None else None,
            lock_volunteer=event == WishEvent.ACCEPT,
        )
        wish = loaded.wish
        access = access_to(session, actor=actor, loaded=loaded)
        if not access.visible:
            raise WishNotFound()
        transition = transition_for(wish.status, event)
        if transition is None:
            raise _not_allowed(wish, event, access)
        role = access.acting_role(transition.roles)
        if role is None:
            raise RoleNotAllowed(details={"status": wish.status, "event": event})
        now = clock.now()
        ctx = Context(
            session=session,
            loaded=loaded,
            actor=actor,
            role=role,
            access=access,
            event=event,
            payload=payload,
            now=now,
        )
        plan = spec.prepare(ctx)
        from_status = wish.status
        changes: dict[str, Any] = {
            **ctx.changes,
            "status": transition.to,
            "version": wish.version + 1,
            "updated_at": now,
        }
        if transition.to != from_status:
            changes[STATUS_TIMESTAMP[transition.to]] = now
        moved = session.scalars(
            _cas_statement(frozenset(changes)),
            {
                **{f"new_{name}": value for name, value in changes.items()},
                "wish_id": wish.id,
                "from_status": from_status,
                "from_version": wish.version,
            },
            execution_options={"populate_existing": True, "synchronize_session": False},
        ).one_or_none()
        if moved is not None:
            loaded.wish = moved
            break
        log.info("wish.cas_conflict", wish_id=wish_id, wish_event=event, attempt=attempt)
    else:
        raise WishChanged()

    record_id = session.execute(
        _EVENT_INSERT,
        {
            "wish_id": wish_id,
            "event": event,
            "from_status": from_status,
            "to_status": transition.to,
            "actor_id": actor.user_id if actor else None,
            "actor_role": role,
            "reason": ctx.reason,
            "data": ctx.event_data,
            "created_at": now,
        },
    ).scalar_one()
    spec.after(ctx, plan)
    _notify(session, ctx, record_id)
    hooks.run(
        hooks.Moved(
            session=session,
            wish=loaded.wish,
            station=loaded.station,
            event=event,
            now=now,
            wish_event_id=record_id,
        )
    )
    log.info(
        "wish.transition",
        wish_id=wish_id,
        wish_event=event,
        from_status=from_status,
        to_status=transition.to,
        actor_id=actor.user_id if actor else None,
        actor_role=role,
    )
    if loaded.wish.assignee_id is None:
        loaded.assignee = None
    elif loaded.assignee is None or loaded.assignee.id != loaded.wish.assignee_id:
        loaded.assignee = ctx.new_assignee or _assignee(session, loaded.wish.assignee_id)
    after = access_after(
        session, actor=actor, before=access, loaded=loaded, offer_status=ctx.offer_status
    )
    return VisibleWish(loaded, after)


@cache
def _cas_statement(columns: frozenset[str]) -> Update:
    """`UPDATE wishes SET ... WHERE id AND status AND version RETURNING *`, built once per set of
    changed columns (building statements costs more than running them)."""
    return (
        update(Wish)
        .where(
            Wish.id == bindparam("wish_id"),
            Wish.status == bindparam("from_status"),
            Wish.version == bindparam("from_version"),
        )
        .values({name: bindparam(f"new_{name}") for name in sorted(columns)})
        .returning(Wish)
    )


_EVENTS = WishEventRecord.metadata.tables["wish_events"]
_EVENT_INSERT = _EVENTS.insert().returning(_EVENTS.c.id)


def _assignee(session: Session, volunteer_id: int) -> Person:
    row = session.execute(
        select(User.name, User.phone)
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(Volunteer.id == volunteer_id)
    ).one()
    return Person(volunteer_id, row.name, row.phone)


def wish_facts(wish: Wish) -> dict[str, Any]:
    """What every message about a wish may say to anyone it goes to, volunteers who have not
    accepted included: the title, the coarse address and the wanted time. Never the full
    address, the exact point or the contact phone (the accepted volunteer opens the wish)."""
    return {
        "wish_id": wish.id,
        "title": wish.title,
        "coarse_address": wish.coarse_address,
        "wanted_start_at": wish.wanted_start_at.isoformat(),
        "wanted_end_at": wish.wanted_end_at.isoformat(),
        "urgency": wish.urgency,
    }


def _notify(session: Session, ctx: Context, record_id: int) -> None:
    wish = ctx.loaded.wish
    enqueue_many(
        session=session,
        messages=[
            (
                topic,
                recipients,
                {**wish_facts(wish), "event": ctx.event, "status": wish.status, **extra},
            )
            for topic, recipients, extra in ctx.notifications
        ],
        wish_id=wish.id,
        wish_event_id=record_id,
    )
