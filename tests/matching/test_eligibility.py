"""Grab eligibility (one volunteer, at acceptance) and matching (many, on arrays) are written
separately for speed; they must agree on every hard constraint, for any facts, and both judge
distance from the wish's coarse point only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.auth.principal import VolunteerFacts
from app.matching.catalogue import CatalogueBits, MatchingCatalogue, wish_facts_preloaded
from app.matching.scoring import Reason, VolunteerArrays, evaluate, reasons_of
from app.models import Category, OrgUnit, Wish
from app.models.enums import VolunteerStatus
from app.volunteers.availability import window_masks
from app.wishes.eligibility import Fit, grab_ineligibility

DAY = date(2027, 3, 3)
START = datetime(2027, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
REQUESTER = 1

masks = st.lists(st.integers(0, (1 << 48) - 1), min_size=7, max_size=7)
dates = st.one_of(st.none(), st.dates(date(1940, 1, 1), date(2030, 12, 31)))
ages = st.one_of(st.none(), st.integers(0, 90))


def covered_slots(volunteer_masks: Sequence[int], window: Sequence[int]) -> int:
    """How many of the window's weekly half hours the volunteer is available in (the reference
    the vectorised check in matching is held to)."""
    return sum((v & w).bit_count() for v, w in zip(volunteer_masks, window, strict=True))


@settings(max_examples=400, deadline=None)
@given(
    user_id=st.sampled_from([REQUESTER, 2, 3]),
    active=st.booleans(),
    d_lat=st.floats(-0.08, 0.08),
    # Where in its 0.01° cell the wish's door is (the cell of 30.60, 119.70).
    door_lat=st.floats(-0.0049, 0.0049),
    door_lng=st.floats(-0.0049, 0.0049),
    radius=st.integers(100, 10_000),
    area=st.integers(100, 10_000),
    skills_held=st.integers(0, 7),
    qualified_held=st.integers(0, 7),
    required=st.integers(0, 7),
    needs_qualification=st.integers(0, 7),
    risky=st.booleans(),
    insured=dates,
    min_age=ages,
    max_age=ages,
    birth=dates,
    volunteer_masks=masks,
    hours=st.integers(1, 72),
)
def test_grab_rules_agree_with_matching(
    user_id: int,
    active: bool,
    d_lat: float,
    door_lat: float,
    door_lng: float,
    radius: int,
    area: int,
    skills_held: int,
    qualified_held: int,
    required: int,
    needs_qualification: int,
    risky: bool,
    insured: date | None,
    min_age: int | None,
    max_age: int | None,
    birth: date | None,
    volunteer_masks: list[int],
    hours: int,
) -> None:
    status = VolunteerStatus.ACTIVE if active else VolunteerStatus.SUSPENDED
    lat, lng = 30.6 + d_lat, 119.7
    end = START + timedelta(hours=hours)
    window, _slots = window_masks(START, end, "Asia/Shanghai")
    qualified_bits = required & needs_qualification
    wish = Wish(
        id=1,
        lat=30.6 + door_lat,
        lng=119.7 + door_lng,
        requester_id=REQUESTER,
        proxy_id=None,
        category_code="x",
        season_code=None,
        wanted_start_at=START,
        wanted_end_at=end,
    )
    assert (wish.coarse_lat, wish.coarse_lng) == (30.6, 119.7)
    station = OrgUnit(service_radius_m=area)

    volunteer = VolunteerFacts(
        id=7, user_id=user_id, lat=lat, lng=lng, service_radius_m=radius, status=status
    )
    fit = Fit(
        lacks_skill=(skills_held & required) != required,
        lacks_qualification=(qualified_held & qualified_bits) != qualified_bits,
        risky=risky,
        insured_until=insured,
        min_age=min_age,
        max_age=max_age,
        birth_date=birth,
        service_day=DAY,
        available=covered_slots(volunteer_masks, window) > 0,
    )
    scalar = grab_ineligibility(volunteer=volunteer, fit=fit, wish=wish, station=station)
    # The door's place in its cell changes nothing: the same verdict as at the cell's centre.
    centre = Wish(lat=30.6, lng=119.7, requester_id=REQUESTER, proxy_id=None)
    assert grab_ineligibility(volunteer=volunteer, fit=fit, wish=centre, station=station) == scalar

    # Through matching's own reader of a wish, then the catalogue-derived facts set directly.
    catalogue = MatchingCatalogue(
        bits=CatalogueBits(skills={}, categories={}, needs_qualification=frozenset()),
        categories={"x": Category(code="x", risky=risky, min_age=min_age, max_age=max_age)},
        related={}, season_code=None, affinities={},
    )  # fmt: skip
    facts = replace(
        wish_facts_preloaded(
            wish, station_radius_m=area, catalogue=catalogue, required=(),
            timezone="Asia/Shanghai",
        ),
        required_bits=required, qualified_bits=qualified_bits,
    )  # fmt: skip
    assert (facts.lat, facts.lng) == (30.6, 119.7)
    assert facts.service_day == DAY and facts.window_masks == tuple(window)
    one = np.ones(1, dtype=np.int64)
    arrays = VolunteerArrays(
        ids=one * 7, user_ids=one * user_id, lat=np.array([lat]), lng=np.array([lng]),
        radius=np.array([float(radius)]), active=np.array([active]), capacity=one,
        birth=one * (birth.toordinal() if birth else 0),
        insured=one * (insured.toordinal() if insured else 0),
        masks=np.array([volunteer_masks], dtype=np.uint64), completed=one * 0,
        withdrawn=one * 0, released=one * 0, skills=np.array([skills_held], dtype=np.uint64),
        qualified=np.array([qualified_held & skills_held], dtype=np.uint64),
        preferences=np.zeros(1, dtype=np.uint64), rating_sum=one * 0, rating_count=one * 0,
        active_tasks=one * 0, recent_tasks=one * 0,
    )  # fmt: skip
    vector = reasons_of(int(evaluate(facts, arrays, weights={"distance": 1.0}).reasons[0]))
    assert scalar == [r for r in vector if r not in (Reason.AT_CAPACITY, Reason.ALREADY_OFFERED)]
