"""What became of the wishes: rates over the wishes placed in the scope, and the requesters'
ratings.

The cohort is the wishes placed in the scope (their first `submit` event in the window, their
station in the subtree). An outcome counts when its first event happened before the window's
end (the wish's milestones, `app.stats.queries`), so the
figures of a past window never change afterwards (a wish placed late in the window may have no
outcome yet). Counts, each drilling to its wishes:

- `outcomes.placed`: the cohort;
- `outcomes.dispatched`: cohort wishes offered or opened for grab (`offer` / `open_grab`);
- `outcomes.accepted`: cohort wishes a volunteer accepted (`accept`), at least once;
- `outcomes.completed`: cohort wishes whose service was completed (`check_out`);
- `outcomes.cancelled`: cohort wishes cancelled (`cancel`, by anyone);
- `outcomes.escalated`: cohort wishes escalated up the chain at least once (`escalate`, by a
  timer or by hand).

Rates (fractions 0..1, None over zero; each drills to its numerator's wishes):

- `outcomes.acceptance_rate` = accepted / dispatched;
- `outcomes.completion_rate` = completed / accepted;
- `outcomes.cancellation_rate` = cancelled / placed;
- `outcomes.escalation_rate` = escalated / placed.

Satisfaction (评单), over the wishes of the subtree rated in the window (their `rate` event in the
window, wherever their placing fell), by the score on the wish (`wishes.rating`, 1..5 stars, set
once by the `rate` event):

- `outcomes.ratings`: how many were rated;
- `outcomes.satisfaction_mean`: the mean score (None when none);
- `outcomes.satisfaction`: how many got each score, groups `1`..`5`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.models import WishMilestones as M
from app.stats.figures import DrillKind, Figure, Scope, Section, register
from app.stats.queries import bucket_of, ids, rate, reached, spanning

# count name: (label, the milestone of its first event)
OUTCOMES: dict[str, tuple[str, Any]] = {
    "dispatched": ("已派单", M.offered_at),  # offer / open_grab
    "accepted": ("已接单", M.accepted_at),  # accept
    "completed": ("已完成服务", M.completed_at),  # check_out
    "cancelled": ("已取消", M.cancelled_at),  # cancel
    "escalated": ("曾上报", M.escalated_at),  # escalate
}
# rate name: (label, numerator, denominator)
RATES: dict[str, tuple[str, str, str]] = {
    "acceptance_rate": ("接单率", "accepted", "dispatched"),
    "completion_rate": ("完成率", "completed", "accepted"),
    "cancellation_rate": ("取消率", "cancelled", "placed"),
    "escalation_rate": ("上报率", "escalated", "placed"),
}
STARS = range(1, 6)


def _cohort(scope: Scope, scopes: Sequence[Scope] | None = None) -> Any:
    """(wish_id, bucket, dispatched, accepted, ...) of the wishes placed in the scope, one flag
    per outcome. With `scopes` (consecutive, spanning `scope`), `bucket` is the index of the
    one the wish was placed in and an outcome counts before that one's end."""
    scopes = scopes or [scope]

    def before_end(at: Any) -> ColumnElement[bool]:
        if len(scopes) == 1:
            return at < scopes[0].ends_at
        return or_(
            *(
                and_(
                    M.placed_at >= bucket.starts_at,
                    M.placed_at < bucket.ends_at,
                    at < bucket.ends_at,
                )
                for bucket in scopes
            )
        )

    return (
        select(
            M.wish_id.label("wish_id"),
            bucket_of(M.placed_at, scopes).label("bucket"),
            *(
                case((before_end(at), 1), else_=0).label(name)
                for name, (_label, at) in OUTCOMES.items()
            ),
        )
        .where(reached(M.placed_at, scope))
        .subquery("cohort")
    )


def _rated(scope: Scope) -> Any:
    """(wish_id, rating, at) of the wishes rated in the window."""
    return (
        select(M.wish_id.label("wish_id"), M.rating.label("rating"), M.rated_at.label("at"))
        .where(reached(M.rated_at, scope), M.rating.is_not(None))
        .subquery("ratings")
    )


def compute(session: Session, scope: Scope) -> list[Figure]:
    return compute_each(session, [scope])[0]


def compute_each(session: Session, scopes: Sequence[Scope]) -> list[list[Figure]]:
    whole = spanning(scopes)
    cohort = _cohort(whole, scopes)
    counted: dict[int, dict[str, int]] = {}
    for row in session.execute(
        select(
            cohort.c.bucket,
            func.count().label("placed"),
            *(func.coalesce(func.sum(cohort.c[name]), 0).label(name) for name in OUTCOMES),
        ).group_by(cohort.c.bucket)
    ):
        if row.bucket is not None:
            counted[int(row.bucket)] = {
                "placed": int(row.placed),
                **{name: int(row._mapping[name]) for name in OUTCOMES},
            }
    ratings = _rated(whole)
    bucket = bucket_of(ratings.c.at, scopes)
    stars: dict[int, dict[int, int]] = {}
    for index, star, n in session.execute(
        select(bucket, ratings.c.rating, func.count()).group_by(bucket, ratings.c.rating)
    ):
        if index is not None:
            stars.setdefault(int(index), {})[int(star)] = int(n)
    empty = {"placed": 0, **{name: 0 for name in OUTCOMES}}
    return [_figures(counted.get(i, empty), stars.get(i, {})) for i in range(len(scopes))]


def _figures(counts: dict[str, int], per_star: dict[int, int]) -> list[Figure]:
    figures = [Figure("outcomes.placed", "点单数", counts["placed"], "件", DrillKind.WISHES)]
    figures += [
        Figure(f"outcomes.{name}", label, counts[name], "件", DrillKind.WISHES)
        for name, (label, _at) in OUTCOMES.items()
    ]
    figures += [
        Figure(
            f"outcomes.{name}",
            label,
            rate(counts[numerator], counts[denominator]),
            "%",
            DrillKind.WISHES,
        )
        for name, (label, numerator, denominator) in RATES.items()
    ]
    n = sum(per_star.values())
    total = sum(star * count for star, count in per_star.items())
    figures += [
        Figure("outcomes.ratings", "评价数", n, "件", DrillKind.WISHES),
        Figure(
            "outcomes.satisfaction_mean",
            "满意度（平均星级）",
            total / n if n else None,
            "分",
            DrillKind.WISHES,
        ),
    ]
    figures += [
        Figure(
            "outcomes.satisfaction",
            "满意度分布",
            per_star.get(star, 0),
            "件",
            DrillKind.WISHES,
            group=str(star),
            group_label=f"{star} 星",
        )
        for star in STARS
    ]
    return figures


def drill(session: Session, scope: Scope, key: str, group: str | None) -> list[int]:
    name = key.removeprefix("outcomes.")
    if name in RATES:
        name = RATES[name][1]
    if group is None and (name == "placed" or name in OUTCOMES):
        cohort = _cohort(scope)
        query = select(cohort.c.wish_id)
        if name != "placed":
            query = query.where(cohort.c[name] == 1)
        return ids(session.scalars(query))
    ratings = _rated(scope)
    if group is None and name in ("ratings", "satisfaction_mean"):
        return ids(session.scalars(select(ratings.c.wish_id)))
    if name == "satisfaction" and group in {str(star) for star in STARS}:
        return ids(session.scalars(select(ratings.c.wish_id).where(ratings.c.rating == int(group))))
    raise KeyError(f"no figure {key!r} with group {group!r}")


SECTION = register(
    Section(
        key="outcomes", label="办理成效", compute=compute, drill=drill, compute_each=compute_each
    )
)
