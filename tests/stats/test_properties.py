"""For any history, every figure of the intake, speed and outcomes sections, and every figure's
drill-down, equals the brute-force computation over the same rows (tests/stats/history.py), for
scopes at every level of the tree and windows of any length, empty ones included."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.stats import intake, outcomes, speed
from app.stats.figures import Section
from tests.stats.history import Brute, WishPlan, build, histories, scope_of, windows

SECTIONS: tuple[Section, ...] = (intake.SECTION, speed.SECTION, outcomes.SECTION)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories,
    unit=st.integers(min_value=0, max_value=7),
    scopes=st.lists(windows(), min_size=1, max_size=3),
)
def test_figures_and_drills_equal_brute_force(
    session: Session, history: list[WishPlan], unit: int, scopes: list[tuple[int, int]]
) -> None:
    savepoint = session.begin_nested()
    try:
        tree = build(session, history)
        units = [tree.city, tree.county, *tree.townships, *tree.stations]
        for window in scopes:
            scope = scope_of(units[unit], window)
            brute = Brute(session, scope).run()
            computed = {
                (f.key, f.group): f.value
                for section in SECTIONS
                for f in section.compute(session, scope)
            }
            assert computed == brute.figures
            for section in SECTIONS:
                for f in section.compute(session, scope):
                    drilled = section.drill(session, scope, f.key, f.group)
                    assert drilled == brute.drills[(f.key, f.group)], (f.key, f.group)
    finally:
        savepoint.rollback()
        session.expunge_all()  # rolled-back ids come again on SQLite
