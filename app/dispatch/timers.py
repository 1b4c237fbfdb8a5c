"""The dispatch ladder's clock: for a wish in any state, what is due now and when to look next.

`decide` is pure: the wish's state, its unit's policy and the time in, an action (or none) and
the next time out. Every waiting state has a next time, so no wish waits unanswered:

- submitted: not reviewed within `review_minutes` → escalate to the parent unit (and again
  every `review_minutes`);
- approved / dispatching: past the wanted window → cancel, telling the requester; expired
  offers → expire them; nobody holding a live offer → dispatch (the next round of offers, each
  wider, then open for grab), not during quiet hours unless urgent; open for grab for
  `grab_minutes` → escalate (then every `escalation_minutes`); with auto-dispatch off, escalate
  when nobody dispatches it;
- accepted: not checked in `checkin_grace_minutes` after the window starts → remind; still not
  `release_after_minutes` later → take it back (a no-show) and dispatch again;
- in service: two hours past the window → remind to check out (then daily);
- completed or rated: `autoclose_days` after completion → close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs import store
from app.models import Offer, OrgUnit, Wish
from app.models.enums import OfferStatus, Urgency, WishStatus
from app.rules.dispatch import Policy, policy_for
from app.wishes.hooks import Moved, after_transition
from app.wishes.state import TERMINAL_STATUSES
from app.wishes.upcoming import NextStep, reads_next_step

LADDER = "wish_ladder"
CHECKOUT_REMINDER_AFTER = timedelta(hours=2)
REPEAT_REMINDER = timedelta(hours=24)


class Action(StrEnum):
    ESCALATE = "escalate"
    DISPATCH = "dispatch"  # offer the next round, or open for grab
    EXPIRE = "expire"
    CANCEL = "cancel"
    REMIND = "remind"
    RELEASE = "release"
    CLOSE = "close"


@dataclass(frozen=True)
class LadderState:
    status: WishStatus
    urgent: bool
    submitted_at: datetime | None
    approved_at: datetime | None
    grab_open: bool
    grab_opened_at: datetime | None
    escalated_at: datetime | None
    reminded_at: datetime | None
    in_service_at: datetime | None
    completed_at: datetime | None
    wanted_start_at: datetime
    wanted_end_at: datetime
    pending_expiries: tuple[datetime, ...]  # of pending offers


def state_of(session: Session, wish: Wish) -> LadderState:
    expiries: tuple[datetime, ...] = ()
    if wish.status == WishStatus.DISPATCHING:
        expiries = tuple(
            session.scalars(
                select(Offer.expires_at).where(
                    Offer.wish_id == wish.id, Offer.status == OfferStatus.PENDING
                )
            )
        )
    return LadderState(
        status=wish.status,
        urgent=wish.urgency == Urgency.URGENT,
        submitted_at=wish.submitted_at,
        approved_at=wish.approved_at,
        grab_open=wish.grab_open,
        grab_opened_at=wish.grab_opened_at,
        escalated_at=wish.escalated_at,
        reminded_at=wish.reminded_at,
        in_service_at=wish.in_service_at,
        completed_at=wish.completed_at,
        wanted_start_at=wish.wanted_start_at,
        wanted_end_at=wish.wanted_end_at,
        pending_expiries=expiries,
    )


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def decide(
    state: LadderState, policy: Policy, now: datetime
) -> tuple[Action | None, datetime | None]:
    """What is due now, if anything, and otherwise when to look again (None: never)."""
    s = state.status
    if s in TERMINAL_STATUSES:
        return None, None
    if s == WishStatus.SUBMITTED:
        base = _later(state.submitted_at, state.escalated_at) or now
        due = base + timedelta(minutes=policy.review_minutes)
        return (Action.ESCALATE, None) if now >= due else (None, due)
    if s in (WishStatus.APPROVED, WishStatus.DISPATCHING):
        if now >= state.wanted_end_at:
            return Action.CANCEL, None
        if any(expiry <= now for expiry in state.pending_expiries):
            return Action.EXPIRE, None
        live = [e for e in state.pending_expiries if e > now]
        if live:
            return None, min(min(live), state.wanted_end_at)
        if state.grab_open:
            opened = state.grab_opened_at or now
            if state.escalated_at is not None and state.escalated_at >= opened:
                due = state.escalated_at + timedelta(minutes=policy.escalation_minutes)
            else:
                due = opened + timedelta(minutes=policy.grab_minutes)
            if now >= due:
                return Action.ESCALATE, None
            return None, min(due, state.wanted_end_at)
        if s == WishStatus.APPROVED and not policy.auto_dispatch:
            base = _later(state.approved_at, state.escalated_at) or now
            due = base + timedelta(minutes=policy.escalation_minutes)
            return (Action.ESCALATE, None) if now >= due else (None, min(due, state.wanted_end_at))
        quiet_end = None if state.urgent else policy.quiet_until(now)
        if quiet_end is not None:
            return None, min(quiet_end, state.wanted_end_at)
        return Action.DISPATCH, None
    if s == WishStatus.ACCEPTED:
        remind_at = state.wanted_start_at + timedelta(minutes=policy.checkin_grace_minutes)
        if state.reminded_at is None:
            return (Action.REMIND, None) if now >= remind_at else (None, remind_at)
        release_at = _later(remind_at, state.reminded_at)
        assert release_at is not None
        release_at += timedelta(minutes=policy.release_after_minutes)
        return (Action.RELEASE, None) if now >= release_at else (None, release_at)
    if s == WishStatus.IN_SERVICE:
        due = state.wanted_end_at + CHECKOUT_REMINDER_AFTER
        if state.reminded_at is not None:
            due = max(due, state.reminded_at + REPEAT_REMINDER)
        return (Action.REMIND, None) if now >= due else (None, due)
    # completed, rated
    assert state.completed_at is not None
    due = state.completed_at + timedelta(days=policy.autoclose_days)
    return (Action.CLOSE, None) if now >= due else (None, due)


STEP_LABELS: dict[tuple[Action, WishStatus | None], str] = {
    (Action.ESCALATE, WishStatus.SUBMITTED): "超时未审核，上报上级单位",
    (Action.ESCALATE, WishStatus.APPROVED): "超时未派单，上报上级单位",
    (Action.ESCALATE, None): "开放抢单后无人接单，上报上级单位",
    (Action.DISPATCH, None): "自动派出下一轮邀请（邀请用完则开放抢单）",
    (Action.EXPIRE, None): "派单邀请到期",
    (Action.CANCEL, None): "超过期望服务时段，自动取消",
    (Action.REMIND, WishStatus.ACCEPTED): "提醒志愿者按时签到",
    (Action.REMIND, WishStatus.IN_SERVICE): "提醒志愿者签退",
    (Action.REMIND, None): "提醒志愿者",
    (Action.RELEASE, None): "志愿者未签到，收回心愿并重新派单",
    (Action.CLOSE, None): "评价期满，自动办结",
}


def upcoming(state: LadderState, policy: Policy, now: datetime) -> tuple[Action, datetime] | None:
    """The ladder's next step and when it is due: `now` if one is due already, else what
    `decide` finds due at the next time it would look (the state stays as it is until then:
    any change reschedules). None when nothing is ahead."""
    action, next_at = decide(state, policy, now)
    if action is not None:
        return action, now
    if next_at is None:
        return None
    then, _ = decide(state, policy, next_at)
    return (then, next_at) if then is not None else None


def _next_step(session: Session, wish: Wish, station: OrgUnit, now: datetime) -> NextStep | None:
    if wish.status in TERMINAL_STATUSES:
        return None
    state = state_of(session, wish)
    if state.status in (WishStatus.COMPLETED, WishStatus.RATED) and state.completed_at is None:
        return None  # no completion time to count from (rows put straight into the status)
    found = upcoming(state, policy_for(session, station), now)
    if found is None:
        return None
    action, at = found
    label = STEP_LABELS.get((action, wish.status)) or STEP_LABELS[(action, None)]
    return NextStep(action=action.value, label=label, at=at)


reads_next_step(_next_step)


def reschedule(session: Session, *, wish: Wish, station: OrgUnit, now: datetime) -> None:
    """Set the wish's timer after a change: now if a step is due, else at the next time."""
    if wish.status in TERMINAL_STATUSES:
        store.clear_timer(session, kind=LADDER, subject_id=wish.id)
        return
    action, next_at = decide(state_of(session, wish), policy_for(session, station), now)
    run_at = now if action is not None else (next_at or now + REPEAT_REMINDER)
    store.set_timer(session, kind=LADDER, subject_id=wish.id, run_at=run_at, now=now)


def _after_transition(moved: Moved) -> None:
    reschedule(moved.session, wish=moved.wish, station=moved.station, now=moved.now)


after_transition(_after_transition)
