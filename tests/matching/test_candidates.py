"""Ranked, explained candidates: hard constraints with typed reasons, then a visible score."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.matching.service import rank
from app.models import Category, Wish, WishSkill
from app.models.enums import VolunteerStatus, WishStatus
from app.volunteers.availability import slot_mask
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    KM_LNG,
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"


def test_each_hard_constraint_has_its_reason(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    coordinator = make_coordinator(session, station)
    resident = make_resident(session)
    # The wish: first-aid help (needs a qualification), risky, for ages 18–65, tomorrow 10–12.
    category = session.get(Category, "disaster_study")
    assert category is not None and category.risky and category.min_age == 18
    wish = make_wish(session, station=station, requester=resident, status=WishStatus.APPROVED,
                     skills=("first_aid",), category="disaster_study")  # fmt: skip
    day = wish.wanted_start_at.date()
    ok = {
        "skills": ("first_aid",),
        "qualified": {"first_aid": day + timedelta(days=30)},
        "insured_until": day + timedelta(days=30),
        "birth_date": date(1990, 5, 1),
    }
    near = station.lng + 0.5 * KM_LNG
    people = {
        "fit": make_volunteer(session, station, lng=near, **ok)[1],
        "suspended": make_volunteer(
            session, station, lng=near, status=VolunteerStatus.SUSPENDED, **ok
        )[1],
        "far": make_volunteer(session, station, lng=station.lng + 3 * KM_LNG, radius_m=2000, **ok)[
            1
        ],
        "no_skill": make_volunteer(
            session, station, lng=near, **{**ok, "skills": (), "qualified": {}}
        )[1],
        "no_qualification": make_volunteer(session, station, lng=near, **{**ok, "qualified": {}})[
            1
        ],
        "no_insurance": make_volunteer(
            session, station, lng=near, **{**ok, "insured_until": day - timedelta(days=1)}
        )[1],
        "too_young": make_volunteer(
            session, station, lng=near, **{**ok, "birth_date": day.replace(year=day.year - 17)}
        )[1],
        "busy_hours": make_volunteer(
            session, station, lng=near, availability=[slot_mask(19 * 60, 21 * 60)] * 7, **ok
        )[1],
        "at_capacity": make_volunteer(session, station, lng=near, capacity=1, **ok)[1],
    }
    make_wish(session, station=station, requester=resident, status=WishStatus.ACCEPTED,
              assignee=people["at_capacity"])  # fmt: skip
    r = client.get(
        f"{API}/wishes/{wish.id}/candidates",
        params={"include_ineligible": True},
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["volunteer_id"] for c in body["candidates"]] == [people["fit"].id]
    reasons = {i["volunteer_id"]: {x["code"] for x in i["reasons"]} for i in body["ineligible"]}
    expected = {
        "suspended": {"SUSPENDED"},
        "far": {"OUT_OF_RADIUS"},
        "no_skill": {"SKILL_MISSING"},
        "no_qualification": {"NEEDS_QUALIFICATION"},
        "no_insurance": {"NEEDS_INSURANCE"},
        "too_young": {"AGE_NOT_SUITABLE"},
        "busy_hours": {"UNAVAILABLE_IN_WINDOW"},
        "at_capacity": {"AT_CAPACITY"},
    }
    assert {name: reasons[people[name].id] for name in expected} == expected
    assert all(x["message"] for i in body["ineligible"] for x in i["reasons"])


def test_score_breakdown_adds_up_and_orders_the_list(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lng is not None
    coordinator = make_coordinator(session, tree.county)
    wish = make_wish(session, station=station, requester=make_resident(session),
                     status=WishStatus.APPROVED)  # fmt: skip
    for i in range(6):
        make_volunteer(
            session,
            station,
            lng=station.lng + (i + 1) * 0.5 * KM_LNG,
            skills=("companionship",) if i % 2 else (),
            preferences=("elderly_orphan_care",) if i % 3 == 0 else (),
        )
    r = client.get(f"{API}/wishes/{wish.id}/candidates", headers=auth(coordinator, settings))
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["candidates"]) == 6
    assert body["season_fit"] == 1.0  # March: 亲情季, and 扶老救孤 is its theme
    assert sum(body["weights"].values()) == pytest.approx(1.0)
    scores = [c["score"] for c in body["candidates"]]
    assert scores == sorted(scores, reverse=True)
    for c in body["candidates"]:
        assert set(c["factors"]) == {
            "distance", "skill", "theme", "availability", "fairness", "reliability",
        }  # fmt: skip
        total = sum(f["contribution"] for f in c["factors"].values())
        assert total == pytest.approx(c["score"], abs=1e-3)
        assert all(0 <= f["value"] <= 1 for f in c["factors"].values())


def test_fairness_favours_the_less_loaded(session: Session, frozen: Clock) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    resident = make_resident(session)
    _, busy = make_volunteer(session, station, capacity=3)
    _, idle = make_volunteer(session, station, capacity=3)
    make_wish(session, station=station, requester=resident, status=WishStatus.ACCEPTED,
              assignee=busy)  # fmt: skip
    wish = make_wish(session, station=station, requester=resident, status=WishStatus.APPROVED)
    ranking = rank(session, wish=wish, station=station)
    order = [c.volunteer_id for c in ranking.candidates]
    assert order == [idle.id, busy.id]
    by_id = {c.volunteer_id: c for c in ranking.candidates}
    assert by_id[idle.id].factors["fairness"] > by_id[busy.id].factors["fairness"]


@pytest.mark.parametrize("seed", range(3))
def test_the_database_prefilter_keeps_exactly_the_eligible(
    session: Session, frozen: Clock, seed: int
) -> None:
    """The fast path (the database drops the clearly unsuitable) and the full evaluation of
    every nearby volunteer agree on who is eligible and how they rank."""
    rng = random.Random(seed)
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = make_resident(session)
    wish = make_wish(session, station=station, requester=resident, status=WishStatus.APPROVED)
    session.add(WishSkill(wish_id=wish.id, skill_code="errands"))
    for _ in range(80):
        make_volunteer(
            session,
            station,
            lat=station.lat + rng.uniform(-6, 6) * 0.009,
            lng=station.lng + rng.uniform(-6, 6) * KM_LNG,
            radius_m=rng.choice([1000, 3000, 6000]),
            skills=tuple(s for s in ("errands", "repair") if rng.random() < 0.6),
            status=VolunteerStatus.SUSPENDED if rng.random() < 0.1 else VolunteerStatus.ACTIVE,
            availability=[rng.choice([0, slot_mask(8 * 60, 12 * 60), slot_mask(0, 24 * 60)])] * 7,
        )
    session.flush()
    fast = rank(session, wish=wish, station=station, limit=100)
    full = rank(session, wish=wish, station=station, limit=100, explain=True, ineligible_limit=1000)
    assert fast.eligible_count == full.eligible_count > 0
    assert [c.volunteer_id for c in fast.candidates] == [c.volunteer_id for c in full.candidates]
    assert fast.considered <= full.considered


def test_candidates_need_staff_in_scope(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    wish: Wish = make_wish(session, station=tree.stations[3], requester=make_resident(session))
    outsider = make_coordinator(session, tree.townships[0])
    r = client.get(f"{API}/wishes/{wish.id}/candidates", headers=auth(outsider, settings))
    assert r.status_code == 404
    resident = make_resident(session)
    r = client.get(f"{API}/wishes/{wish.id}/candidates", headers=auth(resident, settings))
    assert r.status_code == 403 and r.json()["error"]["code"] == "STAFF_ONLY"
    inside = make_coordinator(session, tree.townships[1])
    r = client.get(
        f"{API}/wishes/{wish.id}/candidates",
        params={"limit": 0},
        headers=auth(inside, settings),
    )
    assert r.status_code == 422
