"""SQL pieces the wish sections (intake, speed, outcomes) share, and the rules they follow.

- **Subtree.** A wish belongs to the subtree of the unit its own station sits under
  (`wishes.station_id`, the unit's `path` by `org_units.service.in_subtree`). Escalation hands a
  wish to a higher unit to handle but does not move it: it still counts at its station and at
  every unit above.
- **Window.** An event is in the window when `starts_at <= created_at < ends_at` (half-open), so
  adjacent windows never count an event twice.
- **Placing.** A wish is placed by its `submit` event (the first row of its event log); a wish
  without one (a row written by hand) is never counted.
- **Minutes between two instants**: both instants are cut to the whole second, the difference is
  taken in whole seconds in SQL (SQLite: `strftime('%s')` of the stored text without its
  fraction, since SQLite's own parsing rounds to the millisecond; PostgreSQL: the epoch of
  `date_trunc('second', ...)`), exact integers on both engines; a figure in minutes is that
  number of seconds divided by 60.
- **Percentiles** are nearest-rank and computed in SQL: over n values in ascending order, the
  p-th percentile is the value at rank ceil(p·n/100), 1-based (the median is p = 50, the lower
  middle value when n is even); `ROW_NUMBER()` over the values and `COUNT(*) OVER ()`, with the
  rank in integer arithmetic. None over no values.
- **Rates** are two SQL counts divided in Python (`rate`): a fraction 0..1, None over zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.models import OrgUnit, Wish, WishEventRecord
from app.org_units.service import in_subtree
from app.stats.figures import Scope
from app.wishes.state import WishEvent

E = WishEventRecord


def station_ids(scope: Scope) -> Select[int] | list[int]:
    """The ids of the units in the scope's subtree (the unit itself included), to compare a
    unit column with (`in_`). Read here, once, when the unit belongs to a session: as a list
    of ids the planner sees how many rows of each unit there are (it cannot estimate a range
    of paths, and a subtree of most of the city planned as two stations reads the event log
    row by row); a detached unit gives the subquery."""
    subtree = select(OrgUnit.id).where(in_subtree(OrgUnit.path, scope.unit.path))
    session = object_session(scope.unit)
    if session is None:
        return subtree
    return [int(i) for i in session.scalars(subtree.order_by(OrgUnit.id))]


def wish_in_subtree(scope: Scope) -> ColumnElement[bool]:
    """`Wish` rows whose station is in the scope's subtree."""
    return Wish.station_id.in_(station_ids(scope))


def within(column: Any, scope: Scope) -> ColumnElement[bool]:
    """An instant in the scope's half-open window."""
    return and_(column >= scope.starts_at, column < scope.ends_at)


def placed(scope: Scope, name: str = "placed") -> Subquery:
    """(wish_id, at, actor_role): the submit events in the window of wishes in the subtree."""
    return (
        select(
            E.wish_id.label("wish_id"),
            E.created_at.label("at"),
            E.actor_role.label("actor_role"),
        )
        .join(Wish, Wish.id == E.wish_id)
        .where(E.event == WishEvent.SUBMIT, within(E.created_at, scope), wish_in_subtree(scope))
        .subquery(name)
    )


def had_event(
    wish_id: Any, events: Iterable[WishEvent], when: Callable[[Any], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """The wish had one of `events` at an instant `when` (given the event's `created_at`)
    accepts."""
    return exists(
        select(E.id).where(
            E.wish_id == wish_id,
            E.event.in_([str(e) for e in events]),
            when(E.created_at),
        )
    )


def spanning(scopes: Sequence[Scope]) -> Scope:
    """The window from the first scope's start to the last one's end (consecutive scopes)."""
    return Scope(scopes[0].unit, scopes[0].starts_at, scopes[-1].ends_at)


def bucket_of(column: Any, scopes: Sequence[Scope]) -> ColumnElement[int]:
    """The index of the consecutive scope whose window holds the instant `column` (for an
    instant in the spanning window; an empty window holds nothing)."""
    return case(*((column < scope.ends_at, i) for i, scope in enumerate(scopes)))


def events_in(scope: Scope, *conditions: ColumnElement[bool]) -> Select[int, int]:
    """(event id, wish id) of the events in the window of wishes in the subtree."""
    return (
        select(E.id, E.wish_id)
        .join(Wish, Wish.id == E.wish_id)
        .where(within(E.created_at, scope), wish_in_subtree(scope), *conditions)
    )


@contextmanager
def without_jit(session: Session) -> Iterator[None]:
    """PostgreSQL plans the statements run inside without JIT compilation, then the setting the
    transaction had is back. For a statement whose estimated cost is far above its real one (a
    lateral join over wishes the planner expects several times as many of): past
    `jit_inline_above_cost` compiling it takes longer than running it. SQLite: nothing."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = session.scalar(text("SELECT current_setting('jit')"))
    session.execute(text("SELECT set_config('jit', 'off', true)"))
    try:
        yield
    finally:
        session.execute(text("SELECT set_config('jit', :previous, true)"), {"previous": previous})


# ---------------------------------------------------------------- seconds between two instants


class seconds_between(FunctionElement[int]):
    """Whole seconds from `start` to `end`, both cut to the second (see the module docstring)."""

    type = BigInteger()
    name = "seconds_between"
    inherit_cache = True


def _operands(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    start, end = list(element.clauses)
    return compiler.process(start, **kw), compiler.process(end, **kw)


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _operands(element, compiler, **kw)
    return (
        f"(CAST(strftime('%s', substr({end}, 1, 19)) AS INTEGER)"
        f" - CAST(strftime('%s', substr({start}, 1, 19)) AS INTEGER))"
    )


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _operands(element, compiler, **kw)
    return (
        f"(CAST(EXTRACT(EPOCH FROM date_trunc('second', {end})) AS BIGINT)"
        f" - CAST(EXTRACT(EPOCH FROM date_trunc('second', {start})) AS BIGINT))"
    )


def minutes(seconds: int | None) -> float | None:
    return None if seconds is None else seconds / 60


# ---------------------------------------------------------------- percentiles and rates


def nearest_rank(
    values: Subquery, column: str, tie: str, percents: Iterable[int], by: str | None = None
) -> Select[*tuple[Any, ...]]:
    """The count of `values` and, for each percent p, the nearest-rank p-th percentile of
    `values.c[column]` (None when there are none): one row, or with `by` one row per value of
    `values.c[by]` that has values, `by` first. `tie` orders equal values (any column of
    `values`; the value at a rank does not depend on it)."""
    value = values.c[column]
    part = [values.c[by]] if by is not None else []
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
