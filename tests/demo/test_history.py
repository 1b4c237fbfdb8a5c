"""The demo city's history gives the statistics pages a year worth showing: every section of the
county's figures over the last twelve months has something in it. (One test: seeding the whole
history takes a while.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo.city import COUNTY_CODE
from app.demo.past import HISTORY_DAYS
from app.demo.seed import seed_demo
from app.models import OrgUnit, Wish, WishEventRecord
from app.models.enums import WishStatus
from app.seasons.service import local_date
from app.stats.figures import Figure
from app.stats.service import overview

_FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.accounts.service.hash_password", _FAST_HASHER.hash)


def _values(figures: list[Figure], key: str) -> dict[str | None, float | int | None]:
    return {f.group: f.value for f in figures if f.key == key}


def test_the_last_twelve_months_fill_every_section(session: Session) -> None:
    seed_demo(session=session)
    county = session.scalars(select(OrgUnit).where(OrgUnit.code == COUNTY_CODE)).one()
    last = local_date()
    first = last.replace(year=last.year - 1) + timedelta(days=1)

    computed = {c.section.key: c.figures for c in overview(session, county, first, last)}
    assert set(computed) == {"intake", "speed", "outcomes", "people", "coverage", "seasons"}

    intake = computed["intake"]
    assert _values(intake, "intake.wishes")[None] >= 150  # type: ignore[operator]
    assert len(_values(intake, "intake.by_category")) >= 8
    channels = _values(intake, "intake.by_channel")
    assert all(channels.get(c, 0) > 0 for c in ("self", "grid_worker", "staff")), channels  # type: ignore[operator]

    speed = computed["speed"]
    for step in ("review", "offer", "accept", "complete"):
        assert _values(speed, f"speed.{step}.count")[None], step
        assert _values(speed, f"speed.{step}.p50_minutes")[None] is not None, step
    assert _values(speed, "speed.breaches")["review_overdue"]  # escalated by the ladder

    outcomes = computed["outcomes"]
    for key in ("completed", "cancelled", "escalated", "ratings"):
        assert _values(outcomes, f"outcomes.{key}")[None], key
    mean = _values(outcomes, "outcomes.satisfaction_mean")[None]
    assert mean is not None and 3.5 <= mean <= 5
    assert 0.5 < _values(outcomes, "outcomes.completion_rate")[None] <= 1  # type: ignore[operator]

    people = computed["people"]
    assert _values(people, "people.active")[None] >= 20  # type: ignore[operator]
    assert _values(people, "people.new")[None]  # volunteers joined over the year
    assert _values(people, "people.hours")[None] >= 150  # type: ignore[operator]

    coverage = computed["coverage"]
    assert _values(coverage, "coverage.villages_served")[None] == 4
    assert _values(coverage, "coverage.served_share")[None] == 1.0

    seasons = computed["seasons"]
    by_season = _values(seasons, "seasons.season.wishes")
    assert set(by_season) == {"family", "growth", "harvest", "integrity"}
    assert all(n and n >= 15 for n in by_season.values()), by_season
    balance = _values(seasons, "seasons.balance_index")[None]
    assert balance is not None and balance >= 0.6
    festivals = _values(seasons, "seasons.festival.wishes")
    assert sum(1 for n in festivals.values() if n) >= 6, festivals

    # The history reaches back fifteen months, and each of its wishes has reached its end.
    today = local_date()
    first_event = session.scalar(select(func.min(WishEventRecord.created_at)))
    assert first_event is not None
    assert (today - first_event.date()).days >= HISTORY_DAYS - 20
    old = session.scalars(
        select(Wish.status).where(Wish.wanted_end_at < first_event + timedelta(days=400))
    ).all()
    assert old and set(old) <= {WishStatus.CLOSED, WishStatus.CANCELLED, WishStatus.REJECTED}
