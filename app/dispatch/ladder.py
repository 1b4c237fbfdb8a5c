"""Running the dispatch ladder for one wish: do what is due, then set the next timer.

Every step is an ordinary event applied by the system actor through `apply_event`, so it is
checked against the transition table, compare-and-set, logged and notified like any other.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.dispatch.timers import LADDER, Action, decide, reschedule, state_of
from app.jobs import store
from app.jobs.registry import register
from app.matching.service import rank
from app.models import Offer
from app.rules.dispatch import policy_for
from app.wishes.errors import WishNotFound
from app.wishes.loading import load_wish
from app.wishes.schemas import NoteIn, OfferIn, OptionalReasonIn, ReasonIn
from app.wishes.service import apply_event
from app.wishes.state import TERMINAL_STATUSES, WishEvent

log = structlog.get_logger()

# Several steps can fall due together (offers expire, then the next round goes out).
MAX_STEPS = 5

_CANCEL_REASON = "已过期望服务时间，仍未能派出志愿者，心愿自动取消"
_RELEASE_REASON = "志愿者未按时签到，系统收回并重新派单"
_CLOSE_NOTE = "评价期已过，系统自动办结"


def _dispatch(session: Session, wish_id: int, now: datetime) -> WishEvent:
    """The next round of offers, each round looking wider; when rounds run out or nobody is
    eligible, open the wish for grab."""
    loaded = load_wish(session, wish_id)
    wish, station = loaded.wish, loaded.station
    policy = policy_for(session, station)
    if not wish.grab_open and wish.dispatch_round < policy.offer_rounds:
        offered = frozenset(
            session.scalars(select(Offer.volunteer_id).where(Offer.wish_id == wish.id))
        )
        ranking = rank(
            session,
            wish=wish,
            station=station,
            limit=policy.offer_k,
            area_factor=policy.radius_growth**wish.dispatch_round,
            excluded_ids=offered,
        )
        if ranking.candidates:
            apply_event(
                session=session,
                wish_id=wish.id,
                event=WishEvent.OFFER,
                actor=None,
                payload=OfferIn(
                    volunteer_ids=[c.volunteer_id for c in ranking.candidates],
                    expires_in_minutes=policy.offer_minutes,
                    note=f"系统派单第 {wish.dispatch_round + 1} 轮",
                ),
            )
            return WishEvent.OFFER
    apply_event(
        session=session,
        wish_id=wish.id,
        event=WishEvent.OPEN_GRAB,
        actor=None,
        payload=NoteIn(note="定向派单无人接单，开放抢单"),
    )
    return WishEvent.OPEN_GRAB


_EVENTS = {
    Action.ESCALATE: (WishEvent.ESCALATE, NoteIn(note="超时未处理，自动上报")),
    Action.EXPIRE: (WishEvent.EXPIRE, None),
    Action.CANCEL: (WishEvent.CANCEL, OptionalReasonIn(reason=_CANCEL_REASON)),
    Action.REMIND: (WishEvent.REMIND, NoteIn()),
    Action.RELEASE: (WishEvent.RELEASE, ReasonIn(reason=_RELEASE_REASON)),
    Action.CLOSE: (WishEvent.CLOSE, NoteIn(note=_CLOSE_NOTE)),
}


def run(session: Session, *, wish_id: int, now: datetime) -> list[str]:
    """Do every step due for the wish at `now`; returns the events applied."""
    applied: list[str] = []
    for _ in range(MAX_STEPS):
        try:
            loaded = load_wish(session, wish_id, fresh=True)
        except WishNotFound:
            store.clear_timer(session, kind=LADDER, subject_id=wish_id)
            return applied
        wish, station = loaded.wish, loaded.station
        if wish.status in TERMINAL_STATUSES:
            store.clear_timer(session, kind=LADDER, subject_id=wish_id)
            return applied
        action, _next = decide(state_of(session, wish), policy_for(session, station), now)
        if action is None:
            break
        if action == Action.DISPATCH:
            applied.append(_dispatch(session, wish_id, now))
        else:
            event, payload = _EVENTS[action]
            apply_event(session=session, wish_id=wish_id, event=event, actor=None, payload=payload)
            applied.append(event)
        log.info("ladder.step", wish_id=wish_id, action=action)
    loaded = load_wish(session, wish_id, fresh=True)
    reschedule(session, wish=loaded.wish, station=loaded.station, now=now)
    return applied


register(LADDER, lambda session, wish_id, now: run(session, wish_id=wish_id, now=now))
