"""The people, coverage and seasons sections equal a brute-force count over random histories:
every figure's value and every drill-down's ids (tests/stats/people_history.py)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy.orm import Session

from app import clock
from app.seasons.festivals import festivals
from app.stats import coverage, people, seasons
from app.stats.figures import Scope, Section, sections
from tests.stats.people_history import (
    DAY,
    NOW,
    ORIGIN,
    SPAN_MINUTES,
    Plan,
    build,
    expected,
    plans,
)

SECTIONS: tuple[Section, ...] = (people.SECTION, coverage.SECTION, seasons.SECTION)


def _check(session: Session, plan: Plan) -> None:
    history = build(session, plan)
    assert history.unit is not None
    scope = Scope(history.unit, history.starts_at, history.ends_at)
    want = expected(session, history)
    got = {}
    for section in SECTIONS:
        for figure in section.compute(session, scope):
            assert figure.key.startswith(section.key + ".")
            ids = section.drill(session, scope, figure.key, figure.group)
            got[(figure.key, figure.group)] = (figure.value, ids)
    assert sorted(got, key=str) == sorted(want, key=str)
    for key, (value, ids) in want.items():
        found_value, found_ids = got[key]
        assert found_ids == ids, key
        if isinstance(value, float) and key[0] == "seasons.balance_index":
            assert found_value == pytest.approx(value, abs=2e-4), key
        else:
            assert found_value == value, key


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans())
def test_every_figure_and_drill_equals_brute_force(session: Session, plan: Plan) -> None:
    clock.set_clock(lambda: NOW)
    savepoint = session.begin_nested()
    try:
        _check(session, plan)
    finally:
        savepoint.rollback()
        clock.set_clock(None)


def test_sections_are_registered_once() -> None:
    keys = [section.key for section in sections()]
    for section in SECTIONS:
        assert keys.count(section.key) == 1
        assert section in sections()


def test_balance_index_bounds() -> None:
    assert seasons.balance([1.0, 1.0, 1.0, 1.0]) == 1.0
    assert seasons.balance([4.0, 0.0, 0.0, 0.0]) == 0.0
    assert seasons.balance([2.0]) is None
    assert seasons.balance([0.0, 0.0]) is None
    assert 0 < (seasons.balance([3.0, 1.0, 1.0, 1.0]) or 0) < 1


def _minutes(moment: datetime) -> int:
    return int((moment - ORIGIN).total_seconds() // 60)


def test_edges_of_campaigns_cells_notices_and_corrections(session: Session) -> None:
    """Named cases at the edges: a campaign's first day and the day before it, a tagged wish
    outside the campaign but nearest the festival, the next festival's campaign; an award
    whose notice ends at the window's end and one a minute later; a credit reversed to
    nothing and one replaced."""
    clock.set_clock(lambda: NOW)
    try:
        spring = next(f for f in festivals(year=2027) if f.code == "spring_festival")
        day = clock.local_at(spring.gregorian_date, time(0))
        campaign_start = _minutes(day - timedelta(days=7))
        plan = Plan(
            volunteers=[(0, 0), (1, 0), (0, SPAN_MINUTES - 1)],
            entries=[
                (0, 0, campaign_start, 60, True, None),  # reversed below: net 0
                (1, 1, campaign_start, 90, True, None),  # replaced with 120 below
                (1, 1, campaign_start, 500, False, None),  # training: not service hours
            ],
            corrections=[(0, None), (1, 120)],
            wishes=[
                (0, False, [campaign_start], None),  # first day of the campaign
                (0, False, [campaign_start - 1], None),  # the minute before it
                (1, True, [campaign_start - DAY], None),  # tagged, nearest 春节
                (1, False, [_minutes(day + timedelta(days=8))], None),  # 元宵's campaign
                (4, False, [campaign_start], None),  # outside the county's first township
            ],
            awards=[(0, 2, "notice", SPAN_MINUTES), (1, 3, "notice", SPAN_MINUTES + 1)],
            scope=2,  # townships[0]: stations 0 and 1
            window=(0, SPAN_MINUTES, False),
        )
        history = build(session, plan)
        scope = Scope(history.unit, history.starts_at, history.ends_at)  # type: ignore[arg-type]
        figures = {
            (f.key, f.group): f.value
            for section in SECTIONS
            for f in section.compute(session, scope)
        }
        assert figures[("people.registered", None)] == 3
        assert figures[("people.active", None)] == 1  # the replaced credit; the reversed is 0
        assert figures[("people.hours", None)] == 2.0
        assert figures[("people.by_star", "2")] == 1  # notice ended exactly at the end
        assert figures[("people.by_star", "3")] == 0
        assert figures[("people.by_star", "0")] == 2
        assert figures[("coverage.stations", None)] == 2
        assert figures[("coverage.villages_served", None)] == 2
        assert figures[("seasons.wishes", None)] == 4
        group = f"spring_festival_{spring.gregorian_date.year}"
        wishes = seasons.SECTION.drill(session, scope, "seasons.festival.wishes", group)
        ids = [c[0] for c in history.completions]
        assert wishes == sorted([ids[0], ids[2]])
        lantern = f"lantern_{spring.gregorian_date.year}"
        assert seasons.SECTION.drill(session, scope, "seasons.festival.wishes", lantern) == [ids[3]]
        assert figures[("seasons.festival.hours", group)] == 2.0
        want = expected(session, history)
        assert {k: v[0] for k, v in want.items()} == figures
    finally:
        clock.set_clock(None)
