"""On PostgreSQL an overview's sections run on several connections sharing the request's
snapshot: the figures equal those computed in the request's own transaction; with one
connection allowed the request computes them itself."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.config import Settings, settings_in_use
from app.db import make_engine
from app.models import OrgUnit
from app.stats.figures import Scope
from app.stats.queries import for_statistics
from app.stats.service import ordered
from app.stats.together import computed_together
from tests.fixtures.builders import make_tree
from tests.fixtures.databases import fresh_database
from tests.stats.history import at, people, served_in_turn


def test_sections_together_equal_sections_in_turn(tmp_path: Path, settings: Settings) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        engine = make_engine(url, settings)
        try:
            with Session(engine, expire_on_commit=False) as session:
                tree = make_tree(session)
                who = people(session, tree)
                served_in_turn(session, tree, who, ("self", "grid_worker", "staff", "self"))
                session.commit()
                county_id = tree.county.id

            chosen = ordered()
            with Session(engine) as session:
                for_statistics(session)
                county = session.get(OrgUnit, county_id)
                assert county is not None
                scope = Scope(county, at(0), at(1000))
                in_turn = [section.compute(session, scope) for section in chosen]
                with settings_in_use(settings.model_copy(update={"stats_connections": 1})):
                    assert computed_together(session, scope, chosen) is None
                with settings_in_use(settings.model_copy(update={"stats_connections": 3})):
                    together = computed_together(session, scope, chosen)
            assert together is not None
            assert together == in_turn
            placed = next(f for f in together[0] if f.key == "intake.wishes")
            assert placed.value == 4
        finally:
            engine.dispose()
