"""SQL pieces the wish sections (intake, speed, outcomes) share, and the rules they follow.

- **Milestones.** What the sections count about a wish's steps (placed, reviewed, offered,
  accepted, completed, cancelled, escalated, rated) is the first instant of each step in its
  event log, which the database keeps in `wish_milestones` as events are appended
  (`app.models.wishes.WishMilestones`): the sections read one row per wish by its station and
  the instant, never the whole log. The timers' breaches are read likewise from
  `wish_system_events`, the log's events the system applied, with their wish's station.
- **Subtree.** A wish belongs to the subtree of the unit its own station sits under
  (`wishes.station_id`, the unit's `path` by `org_units.service.in_subtree`). Escalation hands a
  wish to a higher unit to handle but does not move it: it still counts at its station and at
  every unit above.
- **Window.** An event is in the window when `starts_at <= created_at < ends_at` (half-open), so
  adjacent windows never count an event twice.
- **Placing.** A wish is placed by its first `submit` event (`placed_at`); a wish without one
  (a row written by hand) is never counted.
- **Minutes between two instants**: both instants are cut to the whole second, the difference is
  taken in whole seconds in SQL by the trigger that keeps the milestones (migration 0017;
  SQLite: `strftime('%s')` of the stored text without its fraction, since SQLite's own parsing
  rounds to the millisecond; PostgreSQL: the epoch of `date_trunc('second', ...)`), exact
  integers on both engines; a figure in minutes is that number of seconds divided by 60.
- **Percentiles** are nearest-rank and computed in SQL: over n values in ascending order, the
  p-th percentile is the value at rank ceil(p·n/100), 1-based (the median is p = 50, the lower
  middle value when n is even). None over no values. PostgreSQL: `percentile_disc(f)`, which
  takes the value at rank ceil(f·n), with f = p/100 − 10⁻¹²: the float product p/100·n may land
  a hair above a whole rank, the tiny offset brings it back, and it cannot cross a rank for
  n < 10¹⁰ (p·n/100 is a whole number or at least 0.01 above one). SQLite: `ROW_NUMBER()`
  over the values and `COUNT(*) OVER ()`, with the rank in integer arithmetic.
- **Rates** are two SQL counts divided in Python (`rate`): a fraction 0..1, None over zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Subquery,
    and_,
    case,
    event,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session, SessionTransaction, object_session

from app.models import OrgUnit, WishMilestones
from app.org_units.service import in_subtree
from app.stats.figures import Scope

M = WishMilestones
SUBTREES = "stats.subtrees"  # session.info: unit path -> the ids of its subtree


@event.listens_for(Session, "after_transaction_end")
def _forget_subtrees(session: Session, _transaction: SessionTransaction) -> None:
    """The subtrees read are kept for one transaction (or savepoint) at most."""
    session.info.pop(SUBTREES, None)


def station_ids(scope: Scope) -> Select[int] | list[int]:
    """The ids of the units in the scope's subtree (the unit itself included), to compare a
    unit column with (`in_`). Read once per transaction and subtree when the unit belongs to a
    session (a request reads it for every figure): as a list of ids the planner sees how many
    rows of each unit there are (it cannot estimate a range of paths, and a subtree of most of
    the city planned as two stations reads the rows one by one); a detached unit gives the
    subquery."""
    subtree = select(OrgUnit.id).where(in_subtree(OrgUnit.path, scope.unit.path))
    session = object_session(scope.unit)
    if session is None:
        return subtree
    known: dict[str, list[int]] = session.info.setdefault(SUBTREES, {})
    path = scope.unit.path
    if path not in known:
        known[path] = [int(i) for i in session.scalars(subtree.order_by(OrgUnit.id))]
    return known[path]


def within(column: Any, scope: Scope) -> ColumnElement[bool]:
    """An instant in the scope's half-open window."""
    return and_(column >= scope.starts_at, column < scope.ends_at)


def reached(column: Any, scope: Scope, station: Any = M.station_id) -> ColumnElement[bool]:
    """Milestone rows of wishes in the subtree whose step (`column`, a `WishMilestones`
    instant) happened in the window (or rows of another table with its `station` column)."""
    return and_(station.in_(station_ids(scope)), within(column, scope))


def spanning(scopes: Sequence[Scope]) -> Scope:
    """The window from the first scope's start to the last one's end (consecutive scopes)."""
    return Scope(scopes[0].unit, scopes[0].starts_at, scopes[-1].ends_at)


def bucket_of(column: Any, scopes: Sequence[Scope]) -> ColumnElement[int]:
    """The index of the consecutive scope whose window holds the instant `column`, for an
    instant in the spanning window (the rows are read within it): with one scope, 0."""
    if len(scopes) == 1:
        return literal(0)
    return case(*((column < scope.ends_at, i) for i, scope in enumerate(scopes)))


SORT_MEMORY = "32MB"


def for_statistics(session: Session) -> None:
    """PostgreSQL, for the rest of the transaction: no JIT compilation (the statistics' queries
    are estimated as costly enough to compile, which alone takes 100–250 ms a query and saves
    less than it costs on aggregates of this size), and `SORT_MEMORY` for each sort and hash (a
    year's percentiles and distinct counts sort some 100,000 rows: in memory, not in temporary
    files; expensive reads run a few at a time, `app.heavy`). Every entry point into the
    sections (`app.stats.service`, `app.stats.ranking`) calls it first."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL jit = off; SET LOCAL work_mem = '{SORT_MEMORY}'"))


def minutes(seconds: int | None) -> float | None:
    return None if seconds is None else seconds / 60


# ---------------------------------------------------------------- percentiles and rates


RANK_OFFSET = 1e-12


def nearest_rank(
    values: Subquery,
    column: str,
    tie: str,
    percents: Iterable[int],
    by: str | None = None,
    dialect: str = "sqlite",
) -> Select[*tuple[Any, ...]]:
    """The count of `values` and, for each percent p, the nearest-rank p-th percentile of
    `values.c[column]` (None when there are none): one row, or with `by` one row per value of
    `values.c[by]` that has values, `by` first. `tie` orders equal values (any column of
    `values`; the value at a rank does not depend on it)."""
    value = values.c[column]
    part = [values.c[by]] if by is not None else []
    if dialect == "postgresql":
        return select(
            *(c.label("part") for c in part),
            func.count().label("n"),
            *(
                func.percentile_disc(literal(p / 100 - RANK_OFFSET, Float()))
                .within_group(value)
                .label(f"p{p}")
                for p in percents
            ),
        ).group_by(*part)
    ranked = select(
        *(c.label("part") for c in part),
        value.label("value"),
        func.row_number()
        .over(partition_by=part or None, order_by=(value, values.c[tie]))
        .label("rn"),
        func.count().over(partition_by=part or None).label("n"),
    ).subquery("ranked")
    # ceil(p·n/100) in integers: (p·n + 99) // 100.
    rank_of = {p: (ranked.c.n * p + 99) // 100 for p in percents}
    grouped = [ranked.c.part] if by is not None else []
    return (
        select(
            *grouped,
            func.count().label("n"),
            *(
                func.max(case((ranked.c.rn == rank, ranked.c.value))).label(f"p{p}")
                for p, rank in rank_of.items()
            ),
        )
        .select_from(ranked)
        .group_by(*grouped)
    )


def rate(numerator: int, denominator: int) -> float | None:
    """A fraction 0..1; None when nothing was there to count."""
    return None if denominator == 0 else numerator / denominator


def ids(rows: Iterable[Any]) -> list[int]:
    """Distinct ids in ascending order."""
    return sorted({int(row) for row in rows})
