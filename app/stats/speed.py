"""How fast the loop answers: minutes from placing a wish to each later step, and the timers of
the dispatch ladder (`app/dispatch/timers.py`) that ran out.

Steps, each measured from the wish's `submit` event to the first event of the step:

- `review`: the first `approve` or `reject` (审单);
- `offer`: the first `offer` or `open_grab` (the wish first put before volunteers, 派单);
- `accept`: the first `accept` (接单; a wish taken back and accepted again counts its first);
- `complete`: the `check_out` that completed it (服务完成).

Over the wishes of the subtree whose step happened in the window (wherever their placing fell):
`speed.<step>.count` (how many), `speed.<step>.p50_minutes` and `speed.<step>.p90_minutes`
(nearest-rank median and 90th percentile, computed in SQL: see `app.stats.queries`). The drill of
each lists the wishes measured.

Timers: a ladder step is an event the system actor applied when a timer ran out. Per timer,
`speed.breaches` counts the wishes of the subtree with at least one such event in the window
(drill: the wishes) and `speed.breach_events` the events themselves (drill: the events):

- `review_overdue`: not reviewed in time, escalated (`escalate` from submitted);
- `dispatch_overdue`: approved, nobody dispatched it in time, escalated (`escalate` from approved);
- `grab_overdue`: open for grab and nobody took it in time, escalated (`escalate` from
  dispatching);
- `offer_expired`: an offer went unanswered (`expire`);
- `grab_opened`: the rounds of directed offers ran out, opened for grab (`open_grab` by the
  system);
- `window_missed`: the wanted time passed with nobody dispatched, cancelled (`cancel` by the
  system);
- `checkin_reminder`: not checked in after the grace time, reminded (`remind` from accepted);
- `no_show`: still not checked in, taken back to dispatch again (`release` by the system);
- `checkout_reminder`: not checked out two hours after the window, reminded (`remind` from in
  service).

Escalations, reminders and releases a coordinator makes by hand are not timers running out and are
not counted here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, select
from sqlalchemy.orm import Session

from app.models import WishEventRecord
from app.models.enums import WishStatus
from app.stats.figures import DrillKind, Figure, Scope, Section, register
from app.stats.queries import (
    events_in,
    first_event,
    ids,
    minutes,
    nearest_rank,
    seconds_between,
    within,
)
from app.wishes.state import ActorRole, WishEvent

E = WishEventRecord
W = WishEvent
S = WishStatus

STEPS: dict[str, tuple[str, tuple[WishEvent, ...]]] = {
    "review": ("点单到审核", (W.APPROVE, W.REJECT)),
    "offer": ("点单到首次派单", (W.OFFER, W.OPEN_GRAB)),
    "accept": ("点单到接单", (W.ACCEPT,)),
    "complete": ("点单到服务完成", (W.CHECK_OUT,)),
}
PERCENTS = (50, 90)

# code: (label, event, status it left or None for any)
TIMERS: dict[str, tuple[str, WishEvent, WishStatus | None]] = {
    "review_overdue": ("审核超时上报", W.ESCALATE, S.SUBMITTED),
    "dispatch_overdue": ("待派单超时上报", W.ESCALATE, S.APPROVED),
    "grab_overdue": ("抢单超时上报", W.ESCALATE, S.DISPATCHING),
    "offer_expired": ("派单邀请超时", W.EXPIRE, None),
    "grab_opened": ("定向派单未果转抢单", W.OPEN_GRAB, None),
    "window_missed": ("超期无人接单自动取消", W.CANCEL, None),
    "checkin_reminder": ("未按时签到提醒", W.REMIND, S.ACCEPTED),
    "no_show": ("未签到收回重派", W.RELEASE, None),
    "checkout_reminder": ("未签退提醒", W.REMIND, S.IN_SERVICE),
}


def _durations(scope: Scope, step: str) -> Any:
    """(wish_id, seconds) of the wishes whose step happened in the window."""
    submitted = first_event((W.SUBMIT,), scope, "submitted")
    reached = first_event(STEPS[step][1], scope, "reached")
    return (
        select(
            reached.c.wish_id.label("wish_id"),
            seconds_between(submitted.c.at, reached.c.at).label("seconds"),
        )
        .join(submitted, submitted.c.wish_id == reached.c.wish_id)
        .where(within(reached.c.at, scope))
        .subquery("durations")
    )


def _timer(code: str) -> ColumnElement[bool]:
    _label, event, left = TIMERS[code]
    conditions = [E.event == event, E.actor_role == ActorRole.SYSTEM]
    if left is not None:
        conditions.append(E.from_status == left)
    return and_(*conditions)


def compute(session: Session, scope: Scope) -> list[Figure]:
    figures: list[Figure] = []
    for step, (label, _events) in STEPS.items():
        row = session.execute(
            nearest_rank(_durations(scope, step), "seconds", "wish_id", PERCENTS)
        ).one()
        figures += [
            Figure(f"speed.{step}.count", f"{label}：统计件数", int(row.n), "件", DrillKind.WISHES),
            Figure(
                f"speed.{step}.p50_minutes",
                f"{label}：中位数",
                minutes(row.p50),
                "分钟",
                DrillKind.WISHES,
            ),
            Figure(
                f"speed.{step}.p90_minutes",
                f"{label}：90 分位",
                minutes(row.p90),
                "分钟",
                DrillKind.WISHES,
            ),
        ]
    # The timers' conditions exclude each other: one pass over the window's events.
    timer = case(*((_timer(code), code) for code in TIMERS)).label("timer")
    matched = events_in(scope, E.actor_role == ActorRole.SYSTEM).add_columns(timer).subquery()
    counts = {
        str(code): (int(n_events), int(n_wishes))
        for code, n_events, n_wishes in session.execute(
            select(matched.c.timer, func.count(), func.count(distinct(matched.c.wish_id)))
            .where(matched.c.timer.is_not(None))
            .group_by(matched.c.timer)
        )
    }
    for code, (label, _event, _left) in TIMERS.items():
        n_events, n_wishes = counts.get(code, (0, 0))
        figures.append(
            Figure(
                "speed.breaches",
                "超时心愿",
                n_wishes,
                "件",
                DrillKind.WISHES,
                group=code,
                group_label=label,
            )
        )
        figures.append(
            Figure(
                "speed.breach_events",
                "超时事件",
                n_events,
                "个",
                DrillKind.EVENTS,
                group=code,
                group_label=label,
            )
        )
    return figures


def drill(session: Session, scope: Scope, key: str, group: str | None) -> list[int]:
    name = key.removeprefix("speed.")
    step, _, measure = name.partition(".")
    if step in STEPS and measure in ("count", "p50_minutes", "p90_minutes") and group is None:
        return ids(session.scalars(select(_durations(scope, step).c.wish_id)))
    if name in ("breaches", "breach_events") and group in TIMERS:
        rows = session.execute(events_in(scope, _timer(group))).all()
        column = 1 if name == "breaches" else 0
        return ids(row[column] for row in rows)
    raise KeyError(f"no figure {key!r} with group {group!r}")


SECTION = register(Section(key="speed", label="响应速度", compute=compute, drill=drill))
