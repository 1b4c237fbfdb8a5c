"""A series computes each bucket's figures in a few grouped queries (`Section.compute_each`):
for any history and any cut of a window into consecutive buckets, empty ones included, every
section's figures of each bucket equal its figures computed over that bucket alone; and
`/stats/series` gives, per bucket, the value the section computes over the bucket."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.stats import service
from app.stats.figures import Scope, compute_each, consecutive
from app.stats.periods import BucketKind, buckets, scope_of
from tests.stats.history import WishPlan, at, build, histories, windows

EACH = [s for s in service.ordered() if s.compute_each is not None]


def test_the_wish_sections_compute_buckets_in_one_pass() -> None:
    assert {s.key for s in EACH} >= {"intake", "speed", "outcomes"}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories,
    unit=st.integers(min_value=0, max_value=7),
    window=windows(),
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=5),
)
def test_each_bucket_equals_its_own_computation(
    session: Session,
    history: list[WishPlan],
    unit: int,
    window: tuple[int, int],
    cuts: list[int],
) -> None:
    savepoint = session.begin_nested()
    try:
        tree = build(session, history)
        units = [tree.city, tree.county, *tree.townships, *tree.stations]
        start, end = window
        edges = sorted({start, end, *(start + c for c in cuts if start + c <= end)})
        if len(edges) == 1:
            edges = [start, start]  # one empty bucket
        scopes = [Scope(units[unit], at(a), at(b)) for a, b in pairwise(edges)]
        assert consecutive(scopes)
        for section in EACH:
            assert section.compute_each is not None
            each = section.compute_each(session, scopes)
            assert each == [section.compute(session, scope) for scope in scopes], section.key
    finally:
        savepoint.rollback()
        session.expunge_all()  # rolled-back ids come again on SQLite


def test_scopes_not_consecutive_are_computed_one_by_one(session: Session) -> None:
    savepoint = session.begin_nested()
    try:
        tree = build(session, [])
        scopes = [Scope(tree.city, at(10), at(20)), Scope(tree.city, at(0), at(5))]
        assert not consecutive(scopes)
        for section in service.ordered():
            assert compute_each(section, session, scopes) == [
                section.compute(session, scope) for scope in scopes
            ]
    finally:
        savepoint.rollback()
        session.expunge_all()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, kind=st.sampled_from([BucketKind.DAY, BucketKind.WEEK]))
def test_series_points_equal_the_bucket_figures(
    session: Session, history: list[WishPlan], kind: BucketKind
) -> None:
    savepoint = session.begin_nested()
    try:
        tree = build(session, history)
        first = at(0).date()
        last = at(300).date()
        cut = buckets(kind, first, last, session)
        keys = {
            (figure.key, figure.group)
            for section in EACH
            for figure in section.compute(session, scope_of(tree.county, first, last))
        }
        for key, group in sorted(keys, key=str)[::7]:
            _whole, points = service.series(
                session, tree.county, key=key, group=group, first=first, last=last, kind=kind
            )
            section = next(s for s in EACH if key.startswith(s.key + "."))
            for bucket, point in zip(cut, points, strict=True):
                figures = section.compute(session, scope_of(tree.county, bucket.first, bucket.last))
                want = next(f.value for f in figures if (f.key, f.group) == (key, group))
                assert point.value == want, (key, group, bucket.label)
    finally:
        savepoint.rollback()
        session.expunge_all()
