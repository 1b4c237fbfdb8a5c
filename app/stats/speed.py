"""How fast the loop answers: minutes from placing a wish to each later step, and the timers of
the dispatch ladder (`app/dispatch/timers.py`) that ran out.

Steps, each measured from the wish's first `submit` event to the first event of the step (the
wish's milestones, `app.stats.queries`):

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

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.models import SystemWishEvent
from app.models import WishMilestones as M
from app.models.enums import WishStatus
from app.stats.figures import DrillKind, Figure, Scope, Section, register
from app.stats.queries import (
    bucket_of,
    ids,
    minutes,
    nearest_rank,
    reached,
    spanning,
)
from app.wishes.state import WishEvent

X = SystemWishEvent
W = WishEvent
S = WishStatus

# step: (label, the milestone of its first event, the seconds from placing to it)
STEPS: dict[str, tuple[str, Any, Any]] = {
    "review": ("点单到审核", M.reviewed_at, M.review_seconds),  # approve / reject
    "offer": ("点单到首次派单", M.offered_at, M.offer_seconds),  # offer / open_grab
    "accept": ("点单到接单", M.accepted_at, M.accept_seconds),  # accept
    "complete": ("点单到服务完成", M.completed_at, M.complete_seconds),  # check_out
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


def _measured(scope: Scope, step: str, scopes: Sequence[Scope] | None = None) -> Any:
    """(wish_id, seconds, at, bucket) of the wishes whose `step` happened in the window: the
    wishes of the subtree whose first event of the step is in the window, from their first
    submit to it (whole seconds, as `app.stats.queries` measures them, kept with the
    milestones), read from their milestones; `bucket` the index of the scope of `scopes`
    holding `at` (None without scopes)."""
    _label, at, seconds = STEPS[step]
    return (
        select(
            M.wish_id.label("wish_id"),
            seconds.label("seconds"),
            at.label("at"),
            (bucket_of(at, scopes) if scopes else null()).label("bucket"),
        )
        .where(reached(at, scope), seconds.is_not(None))
        .subquery(f"measured_{step}")
    )


def _system_events(scope: Scope, *conditions: ColumnElement[bool]) -> Select[int, int]:
    """(event id, wish id) of the timers' events (the system's) in the window of wishes in the
    subtree, from `wish_system_events` (kept from the event log by the database)."""
    return select(X.event_id, X.wish_id).where(
        reached(X.created_at, scope, X.station_id), *conditions
    )


def _timer(code: str) -> ColumnElement[bool]:
    _label, event, left = TIMERS[code]
    conditions = [X.event == event]
    if left is not None:
        conditions.append(X.from_status == left)
    return and_(*conditions)


def compute(session: Session, scope: Scope) -> list[Figure]:
    return compute_each(session, [scope])[0]


def compute_each(session: Session, scopes: Sequence[Scope]) -> list[list[Figure]]:
    whole = spanning(scopes)
    # Each step ranked on its own (an index range of its milestones), in one statement.
    dialect = session.get_bind().dialect.name
    ranked = []
    for i, step in enumerate(STEPS):
        ranks = nearest_rank(
            _measured(whole, step, scopes),
            "seconds",
            "wish_id",
            PERCENTS,
            by="bucket",
            dialect=dialect,
        ).subquery(f"ranked_{step}")
        ranked.append(select(literal(i).label("step"), *ranks.c))
    percentiles: dict[str, dict[int, Any]] = {step: {} for step in STEPS}
    names = list(STEPS)
    for row in session.execute(union_all(*ranked)):
        if row.part is not None:
            percentiles[names[int(row.step)]][int(row.part)] = row
    # The timers' conditions exclude each other: one pass over the window's events.
    timer = case(*((_timer(code), code) for code in TIMERS)).label("timer")
    matched = (
        _system_events(
            whole,
            # Only the timers' events.
            X.event.in_(sorted({str(event) for _label, event, _left in TIMERS.values()})),
        )
        .add_columns(timer, bucket_of(X.created_at, scopes).label("bucket"))
        .subquery()
    )
    counts: dict[tuple[int, str], tuple[int, int]] = {
        (int(bucket), str(code)): (int(n_events), int(n_wishes))
        for bucket, code, n_events, n_wishes in session.execute(
            select(
                matched.c.bucket,
                matched.c.timer,
                func.count(),
                func.count(distinct(matched.c.wish_id)),
            )
            .where(matched.c.timer.is_not(None), matched.c.bucket.is_not(None))
            .group_by(matched.c.bucket, matched.c.timer)
        )
    }
    return [
        _figures({step: percentiles[step].get(i) for step in STEPS}, counts, i)
        for i in range(len(scopes))
    ]


def _figures(
    rows: dict[str, Any], counts: dict[tuple[int, str], tuple[int, int]], bucket: int
) -> list[Figure]:
    figures: list[Figure] = []
    for step, (label, _at, _seconds) in STEPS.items():
        row = rows[step]
        n, p50, p90 = (int(row.n), row.p50, row.p90) if row is not None else (0, None, None)
        figures += [
            Figure(f"speed.{step}.count", f"{label}：统计件数", n, "件", DrillKind.WISHES),
            Figure(
                f"speed.{step}.p50_minutes",
                f"{label}：中位数",
                minutes(p50),
                "分钟",
                DrillKind.WISHES,
            ),
            Figure(
                f"speed.{step}.p90_minutes",
                f"{label}：90 分位",
                minutes(p90),
                "分钟",
                DrillKind.WISHES,
            ),
        ]
    for code, (label, _event, _left) in TIMERS.items():
        n_events, n_wishes = counts.get((bucket, code), (0, 0))
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
        measured = _measured(scope, step)
        return ids(session.scalars(select(measured.c.wish_id)))
    if name in ("breaches", "breach_events") and group in TIMERS:
        rows = session.execute(_system_events(scope, _timer(group))).all()
        column = 1 if name == "breaches" else 0
        return ids(row[column] for row in rows)
    raise KeyError(f"no figure {key!r} with group {group!r}")


SECTION = register(
    Section(key="speed", label="响应速度", compute=compute, drill=drill, compute_each=compute_each)
)
