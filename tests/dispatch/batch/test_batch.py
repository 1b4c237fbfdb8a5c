"""Batch dispatch: an exact global assignment, reviewed as a plan, applied as offers."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.dispatch.batch import apply as batch_apply
from app.dispatch.batch.apply import apply_plan
from app.dispatch.batch.plan import UnassignedReason, plan_for_unit
from app.dispatch.batch.problem import MAX_WISHES, build_problem, greedy_nearest_first
from app.dispatch.batch.solver import solve, total_score
from app.matching.service import rank
from app.models import Offer, OrgUnit, OutboxMessage, Volunteer, Wish, WishEventRecord, WishSkill
from app.models.enums import OfferStatus, VolunteerStatus, WishStatus
from app.volunteers.availability import slot_mask
from app.wishes.schemas import OptionalReasonIn
from app.wishes.service import apply_event
from app.wishes.state import WishEvent
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    KM_LAT,
    KM_LNG,
    Tree,
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    principal,
)

API = "/api/v1"


# ---------------------------------------------------------------- the solver


def optimum(scores: np.ndarray, capacity: np.ndarray) -> float:
    """The reference: `linear_sum_assignment` on the dense matrix, each volunteer's column
    repeated `capacity` times and one "unassigned" column per wish. NaN: ineligible."""
    n, m = scores.shape
    slots = [j for j in range(m) for _ in range(int(capacity[j]))]
    profit = np.full((n, len(slots) + n), -1e9)
    for k, j in enumerate(slots):
        profit[:, k] = np.where(np.isnan(scores[:, j]), -1e9, scores[:, j])
    profit[:, len(slots) :] = 0.0
    rows, cols = linear_sum_assignment(profit, maximize=True)
    total = float(profit[rows, cols].sum())
    assert total > -1e8  # never an ineligible pair
    return total


def as_sparse(scores: np.ndarray) -> csr_matrix:
    rows, cols = np.nonzero(~np.isnan(scores))
    return csr_matrix((scores[rows, cols], (rows, cols)), shape=scores.shape)


def check_feasible(scores: np.ndarray, capacity: np.ndarray, assignment: np.ndarray) -> float:
    """Asserts the assignment uses eligible pairs and respects capacity; returns its total."""
    assert assignment.shape == (scores.shape[0],)
    used = np.bincount(assignment[assignment >= 0], minlength=scores.shape[1])
    assert (used <= capacity).all()
    total = 0.0
    for row, column in enumerate(assignment):
        if column >= 0:
            assert not np.isnan(scores[row, column])
            total += float(scores[row, column])
    return total


@st.composite
def instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 6))
    # Few distinct values make ties common, the hard case for an exchange argument.
    value = st.one_of(
        st.none(),
        st.sampled_from([0.25, 0.5, 0.75, 1.0]),
        st.floats(0.01, 1.0, allow_nan=False),
    )
    cells = draw(st.lists(value, min_size=n * m, max_size=n * m))
    scores = np.array([np.nan if v is None else v for v in cells], dtype=float).reshape(n, m)
    capacity = np.array(draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)))
    return scores, capacity


@settings(max_examples=300, deadline=None)
@given(instances())
def test_solve_is_optimal_and_feasible(instance: tuple[np.ndarray, np.ndarray]) -> None:
    scores, capacity = instance
    assignment = solve(as_sparse(scores), capacity)
    total = check_feasible(scores, capacity, assignment)
    assert total == pytest.approx(optimum(scores, capacity), abs=1e-9)
    assert total_score(as_sparse(scores), assignment) == pytest.approx(total, abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_solve_matches_linear_sum_assignment_on_larger_instances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(20, 60)), int(rng.integers(10, 40))
    scores = np.where(rng.random((n, m)) < rng.uniform(0.1, 0.5), rng.random((n, m)), np.nan)
    capacity = rng.integers(0, 4, m)
    assignment = solve(as_sparse(scores), capacity)
    total = check_feasible(scores, capacity, assignment)
    assert total == pytest.approx(optimum(scores, capacity), abs=1e-9)
    # Deterministic.
    assert np.array_equal(assignment, solve(as_sparse(scores), capacity))


def test_solve_prefers_the_global_optimum_to_the_greedy_choice() -> None:
    # Wish 0 likes volunteer 0 best, but only volunteer 0 can serve wish 1.
    scores = np.array([[0.9, 0.8], [0.7, np.nan]])
    assignment = solve(as_sparse(scores), np.array([1, 1]))
    assert assignment.tolist() == [1, 0]


def test_solve_respects_capacity_and_leaves_the_rest_unassigned() -> None:
    scores = np.array([[0.9], [0.8], [0.7], [0.6]])
    assignment = solve(as_sparse(scores), np.array([2]))
    assert assignment.tolist() == [0, 0, -1, -1]
    assert solve(as_sparse(scores), np.array([0])).tolist() == [-1] * 4


def test_solve_edge_cases() -> None:
    empty = csr_matrix((0, 3))
    assert solve(empty, np.array([1, 1, 1])).tolist() == []
    no_edges = csr_matrix((3, 2))
    assert solve(no_edges, np.array([1, 1])).tolist() == [-1, -1, -1]
    # An explicitly stored zero is an edge (the matrix's absent entries are the ineligible).
    explicit_zero = csr_matrix((np.array([0.0]), np.array([0]), np.array([0, 1])), shape=(1, 1))
    assert explicit_zero.nnz == 1
    assert solve(explicit_zero, np.array([1])).tolist() in ([0], [-1])


@pytest.mark.parametrize(
    ("scores", "capacity"),
    [
        (np.array([[0.5]]), np.array([1])),  # dense, not sparse
        (csr_matrix(np.array([[0.5]])), np.array([1, 1])),  # wrong length
        (csr_matrix(np.array([[0.5]])), np.array([-1])),  # negative
        (csr_matrix(np.array([[0.5]])), np.array([0.5])),  # not integers
        (csr_matrix(np.array([[1.5]])), np.array([1])),  # score out of range
    ],
)
def test_solve_refuses_bad_input(scores: Any, capacity: np.ndarray) -> None:
    with pytest.raises(ValueError):
        solve(scores, capacity)


# ---------------------------------------------------------------- plans over a scene


def state(session: Session) -> tuple[Any, ...]:
    session.expire_all()
    counts = tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Wish, WishEventRecord, Offer, OutboxMessage, Volunteer)
    )
    wishes = tuple(session.execute(select(Wish.id, Wish.status, Wish.version).order_by(Wish.id)))
    return counts, wishes


def test_plan_is_global_not_greedy(session: Session, frozen: Clock) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lng is not None
    resident = make_resident(session)
    # Both wishes want A, who is nearest; only A can serve the second.
    _, a = make_volunteer(session, station, skills=("errands", "companionship"), capacity=1)
    _, b = make_volunteer(
        session, station, lng=station.lng + 2 * KM_LNG, skills=("errands",), capacity=1
    )
    first = make_wish(session, station=station, requester=resident,
                      status=WishStatus.APPROVED, skills=("errands",))  # fmt: skip
    second = make_wish(session, station=station, requester=resident,
                       status=WishStatus.APPROVED, skills=("companionship",))  # fmt: skip
    coordinator = principal(session, make_coordinator(session, tree.townships[0]))
    plan = plan_for_unit(session, unit=tree.townships[0], actor=coordinator)
    assert {(i.wish_id, i.volunteer_id) for i in plan.items} == {
        (first.id, b.id),
        (second.id, a.id),
    }
    assert plan.unassigned == []
    problem = build_problem(session, unit=tree.townships[0])
    greedy = greedy_nearest_first(problem)
    assert (greedy >= 0).sum() == 1  # the nearest-first baseline strands the second wish
    assert plan.total_score > total_score(problem.scores, greedy)


def test_plan_respects_capacity_and_says_why(session: Session, frozen: Clock) -> None:
    tree = make_tree(session)
    station = tree.stations[1]
    resident = make_resident(session)
    _, busy = make_volunteer(session, station, capacity=3, skills=("errands",))
    make_wish(session, station=station, requester=resident, status=WishStatus.ACCEPTED,
              assignee=busy)  # fmt: skip
    wishes = [
        make_wish(
            session,
            station=station,
            requester=resident,
            status=WishStatus.APPROVED,
            skills=("errands",),
        )
        for _ in range(3)
    ]
    lonely = make_wish(session, station=station, requester=resident,
                       status=WishStatus.APPROVED, skills=("medical",))  # fmt: skip
    plan = plan_for_unit(session, unit=tree.county, actor=None)
    assert [i.volunteer_id for i in plan.items] == [busy.id, busy.id]  # 3 − 1 task in hand
    assert {i.wish_id for i in plan.items} < {w.id for w in wishes}
    reasons = {u.wish_id: u.reason for u in plan.unassigned}
    assert reasons[lonely.id] == UnassignedReason.NO_ELIGIBLE_VOLUNTEER
    assert list(reasons.values()).count(UnassignedReason.CAPACITY_TAKEN) == 1
    assert plan.wish_count == 4 and plan.volunteer_count == 1 and plan.eligible_pairs == 3
    for item in plan.items:
        assert sum(item.factors.values()) > 0 and 0 < item.score <= 1


def test_plan_only_offers_the_units_own_active_volunteers(session: Session, frozen: Clock) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = make_resident(session)
    # Living next to the wish, but registered at a station of the other township.
    _, outsider = make_volunteer(session, tree.stations[2], lat=station.lat, lng=station.lng)
    make_volunteer(session, station, status=VolunteerStatus.SUSPENDED)
    make_volunteer(session, station, user=resident)  # the requester: never their own wish
    _, declined = make_volunteer(session, station)
    wish = make_wish(session, station=station, requester=resident, status=WishStatus.APPROVED)
    session.add(
        Offer(wish_id=wish.id, volunteer_id=declined.id, status=OfferStatus.DECLINED,
              created_at=frozen.now, expires_at=frozen.now + timedelta(minutes=30))
    )  # fmt: skip
    session.flush()
    plan = plan_for_unit(session, unit=tree.townships[0], actor=None)
    assert plan.items == []
    assert plan.volunteer_count == 2  # the requester and the declined; the suspended is not read
    assert plan.eligible_pairs == 0
    assert [u.reason for u in plan.unassigned] == [UnassignedReason.NO_ELIGIBLE_VOLUNTEER]
    # The county's plan may offer it to the volunteer registered in the other township.
    county = plan_for_unit(session, unit=tree.county, actor=None)
    assert [(i.wish_id, i.volunteer_id) for i in county.items] == [(wish.id, outsider.id)]


@pytest.mark.parametrize("seed", range(3))
def test_plan_judges_every_pair_as_rank_does_and_is_optimal(
    session: Session, frozen: Clock, seed: int
) -> None:
    """The batch path (one read for the unit, k-d tree, vectorised prefilters) and `rank`
    (per wish, through the database) agree on every eligible pair and its score; the plan's
    total is the optimum of that matrix."""
    rng = random.Random(seed)
    tree = make_tree(session)
    resident = make_resident(session)
    today = frozen.now.date()
    stations = tree.stations
    for _ in range(60):
        station = rng.choice(stations)
        assert station.lat is not None and station.lng is not None
        skills = tuple(s for s in ("errands", "companionship", "first_aid") if rng.random() < 0.5)
        _, volunteer = make_volunteer(
            session,
            station,
            lat=station.lat + rng.uniform(-5, 5) * KM_LAT,
            lng=station.lng + rng.uniform(-5, 5) * KM_LNG,
            radius_m=rng.choice([1000, 3000, 6000]),
            capacity=rng.choice([1, 2, 3]),
            skills=skills,
            qualified={"first_aid": today + timedelta(days=rng.choice([-5, 0, 1, 30]))}
            if "first_aid" in skills
            else None,
            status=VolunteerStatus.SUSPENDED if rng.random() < 0.1 else VolunteerStatus.ACTIVE,
            availability=[rng.choice([0, slot_mask(8 * 60, 12 * 60), slot_mask(0, 24 * 60)])] * 7,
            birth_date=rng.choice([None, date(1960, 1, 1), date(2012, 1, 1)]),
            insured_until=rng.choice([None, today + timedelta(days=10)]),
            preferences=("elderly_orphan_care",) if rng.random() < 0.3 else (),
        )
        if rng.random() < 0.2:
            make_wish(session, station=station, requester=resident, status=WishStatus.ACCEPTED,
                      assignee=volunteer)  # fmt: skip
    wishes = []
    for _ in range(12):
        station = rng.choice(stations)
        wish = make_wish(
            session,
            station=station,
            requester=resident,
            status=WishStatus.APPROVED,
            category=rng.choice(["elderly_orphan_care", "disaster_study", "disability_medical"]),
            skills=tuple(s for s in ("errands", "first_aid") if rng.random() < 0.3),
        )
        assert station.lat is not None and station.lng is not None
        wish.lat = station.lat + rng.uniform(-3, 3) * KM_LAT
        wish.lng = station.lng + rng.uniform(-3, 3) * KM_LNG
        wish.wanted_start_at += timedelta(days=rng.choice([0, 1, 3]), hours=rng.choice([0, 10]))
        wish.wanted_end_at = wish.wanted_start_at + timedelta(hours=2)
        wishes.append(wish)
    session.flush()

    problem = build_problem(session, unit=tree.county)
    assert problem.wish_ids.tolist() == [w.id for w in wishes]
    dense = np.full(problem.scores.shape, np.nan)
    column = {int(v): j for j, v in enumerate(problem.volunteer_ids)}
    for row, wish in enumerate(wishes):
        station = session.get(OrgUnit, wish.station_id)
        assert station is not None
        ranking = rank(session, wish=wish, station=station, limit=1000)
        got = problem.scores.getrow(row)
        assert sorted(int(problem.volunteer_ids[j]) for j in got.indices) == sorted(
            c.volunteer_id for c in ranking.candidates
        )
        for candidate in ranking.candidates:
            j = column[candidate.volunteer_id]
            assert problem.scores[row, j] == pytest.approx(candidate.score, abs=1e-4)
            dense[row, j] = problem.scores[row, j]
    assert problem.scores.nnz > 0
    plan = plan_for_unit(session, unit=tree.county, actor=None)
    assert plan.total_score == pytest.approx(optimum(dense, problem.capacity), abs=1e-3)
    # Hard constraints and capacity hold for every item.
    used: dict[int, int] = {}
    for item in plan.items:
        row = problem.wish_ids.tolist().index(item.wish_id)
        assert not np.isnan(dense[row, column[item.volunteer_id]])
        used[item.volunteer_id] = used.get(item.volunteer_id, 0) + 1
    for volunteer_id, count in used.items():
        assert count <= problem.capacity[column[volunteer_id]]
    greedy = greedy_nearest_first(problem)
    assert plan.total_score >= total_score(problem.scores, greedy) - 1e-3
    # Deterministic.
    again = plan_for_unit(session, unit=tree.county, actor=None)
    assert [(i.wish_id, i.volunteer_id) for i in again.items] == [
        (i.wish_id, i.volunteer_id) for i in plan.items
    ]


def test_plan_takes_the_oldest_wishes_up_to_the_limit(session: Session, frozen: Clock) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    ids = [
        make_wish(session, station=tree.stations[0], requester=resident,
                  status=WishStatus.APPROVED).id
        for _ in range(3)
    ]  # fmt: skip
    make_wish(session, station=tree.stations[0], requester=resident)  # submitted: not yet
    problem = build_problem(session, unit=tree.county, limit=2)
    assert problem.wish_ids.tolist() == ids[:2] and problem.truncated
    assert not build_problem(session, unit=tree.county, limit=3).truncated


# ---------------------------------------------------------------- the API


def _scene(session: Session) -> tuple[Tree, Any, list[Volunteer], list[Wish]]:
    tree = make_tree(session)
    resident = make_resident(session)
    coordinator = make_coordinator(session, tree.townships[0])
    volunteers = [make_volunteer(session, tree.stations[i % 2], capacity=1)[1] for i in range(3)]
    wishes = [
        make_wish(session, station=tree.stations[i % 2], requester=resident,
                  status=WishStatus.APPROVED)
        for i in range(3)
    ]  # fmt: skip
    return tree, coordinator, volunteers, wishes


def test_plan_endpoint_reviews_and_changes_nothing(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree, coordinator, volunteers, wishes = _scene(session)
    before = state(session)
    r = client.post(
        f"{API}/org-units/{tree.townships[0].id}/dispatch-plan",
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert state(session) == before
    # Stations 0 and 1 are 10 km apart: each wish is within reach of its own station's two or one.
    assert body["counts"] == {
        "wishes": 3, "assigned": 3, "unassigned": 0, "volunteers": 3, "eligible_pairs": 5,
    }  # fmt: skip
    assert {i["wish_id"] for i in body["items"]} == {w.id for w in wishes}
    assert {i["volunteer_id"] for i in body["items"]} == {v.id for v in volunteers}
    for item in body["items"]:
        assert item["name"] and item["title"]
        total = sum(f["contribution"] for f in item["factors"].values())
        assert total == pytest.approx(item["score"], abs=1e-3)
    assert body["total_score"] == pytest.approx(sum(i["score"] for i in body["items"]), abs=1e-3)
    assert body["truncated"] is False and body["elapsed_ms"] >= 0
    assert set(body["timings_ms"]) == {"load", "evaluate", "solve", "assemble"}


def test_apply_sends_offers(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree, coordinator, _, _ = _scene(session)
    headers = auth(coordinator, settings)
    unit = tree.townships[0].id
    plan = client.post(f"{API}/org-units/{unit}/dispatch-plan", headers=headers).json()
    pairs = [{"wish_id": i["wish_id"], "volunteer_id": i["volunteer_id"]} for i in plan["items"]]
    r = client.post(
        f"{API}/org-units/{unit}/dispatch-plan/apply",
        json={"assignments": pairs, "expires_in_minutes": 60},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["sent"], body["failed"]) == (3, 0)
    assert all(i["ok"] and i["status"] == "dispatching" for i in body["items"])
    session.expire_all()
    for pair in pairs:
        wish = session.get(Wish, pair["wish_id"])
        assert wish is not None and wish.status == WishStatus.DISPATCHING
        offers = session.scalars(select(Offer).where(Offer.wish_id == wish.id)).all()
        assert [(o.volunteer_id, o.status, o.offered_by_id) for o in offers] == [
            (pair["volunteer_id"], OfferStatus.PENDING, coordinator.id)
        ]
        assert offers[0].expires_at == frozen.now + timedelta(minutes=60)
        events = session.scalars(
            select(WishEventRecord.event).where(WishEventRecord.wish_id == wish.id)
        ).all()
        assert list(events) == [WishEvent.OFFER]
    # A second apply of the same plan sends nothing more.
    again = client.post(
        f"{API}/org-units/{unit}/dispatch-plan/apply", json={"assignments": pairs}, headers=headers
    ).json()
    assert again["sent"] == 0
    assert {i["error"]["code"] for i in again["items"]} == {"WISH_NOT_APPROVED"}


def test_apply_reports_stale_items_and_sends_the_rest(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    coordinator = make_coordinator(session, tree.townships[0])
    admin = principal(session, make_admin(session))
    inside = tree.stations[0]

    def wish(station: OrgUnit = inside, **kw: Any) -> Wish:
        return make_wish(session, station=station, requester=resident,
                         status=WishStatus.APPROVED, **kw)  # fmt: skip

    _, good = make_volunteer(session, inside, capacity=1)
    _, once = make_volunteer(session, inside, capacity=1)
    _, suspended = make_volunteer(session, inside)
    _, elsewhere = make_volunteer(session, tree.stations[2])
    _, unskilled = make_volunteer(session, inside)
    _, roomy = make_volunteer(session, inside, capacity=3)
    cancelled = wish()
    apply_event(
        session=session,
        wish_id=cancelled.id,
        event=WishEvent.CANCEL,
        actor=admin,
        payload=OptionalReasonIn(reason="重复提交"),
    )
    already = wish(offer_to=[good])  # approved, yet an offer is pending (odd, but reported)
    suspended_wish = wish()
    session.execute(
        Volunteer.__table__.update()
        .where(Volunteer.id == suspended.id)
        .values(status=VolunteerStatus.SUSPENDED)
    )
    items = [
        (wish(), good, None),
        (cancelled, good, "WISH_NOT_APPROVED"),
        (wish(tree.stations[3]), good, "WISH_NOT_FOUND"),  # outside the unit
        (already, once, None),  # ALREADY_OFFERED is only for the same volunteer
        (suspended_wish, suspended, "VOLUNTEER_NOT_ELIGIBLE"),
        (wish(), elsewhere, "INVALID_OFFER_TARGET"),
        (wish(skills=("medical",)), unskilled, "VOLUNTEER_NOT_ELIGIBLE"),
        (wish(), once, "VOLUNTEER_NOT_ELIGIBLE"),  # its one slot went to `already`
        (wish(offer_to=[roomy]), roomy, "ALREADY_OFFERED"),
    ]
    session.flush()
    r = client.post(
        f"{API}/org-units/{tree.townships[0].id}/dispatch-plan/apply",
        json={"assignments": [{"wish_id": w.id, "volunteer_id": v.id} for w, v, _ in items]},
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200, r.text
    got = r.json()["items"]
    assert [(i["error"] or {}).get("code") for i in got] == [code for _, _, code in items]
    assert r.json()["sent"] == 2
    by_wish = {i["wish_id"]: i for i in got}
    assert by_wish[items[4][0].id]["error"]["details"] == {"reasons": ["SUSPENDED"]}
    assert by_wish[items[6][0].id]["error"]["details"] == {"reasons": ["SKILL_MISSING"]}
    assert by_wish[items[7][0].id]["error"]["details"] == {"reasons": ["AT_CAPACITY"]}
    assert by_wish[items[5][0].id]["error"]["details"] == {"outside_scope": [elsewhere.id]}
    assert all(i["error"]["message"] for i in got if i["error"])
    session.expire_all()
    for wish_, volunteer, code in items:
        pending = session.scalars(
            select(Offer.volunteer_id).where(
                Offer.wish_id == wish_.id, Offer.status == OfferStatus.PENDING
            )
        ).all()
        fresh = session.get(Wish, wish_.id)
        assert fresh is not None
        if code is None:
            assert volunteer.id in pending and fresh.status == WishStatus.DISPATCHING
        elif code != "ALREADY_OFFERED":
            assert volunteer.id not in pending


def test_apply_undoes_an_offer_when_the_wish_moved_meanwhile(
    session: Session, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dispatched by someone else between this request's read and its offer: OFFER is allowed
    from dispatching too, so the version decides, and the savepoint undoes the offer."""
    tree = make_tree(session)
    resident = make_resident(session)
    coordinator = principal(session, make_coordinator(session, tree.townships[0]))
    _, volunteer = make_volunteer(session, tree.stations[0], capacity=2)
    raced, calm = (
        make_wish(session, station=tree.stations[0], requester=resident,
                  status=WishStatus.APPROVED)
        for _ in range(2)
    )  # fmt: skip
    check = batch_apply._check_fit

    def meanwhile(session: Session, **kw: Any) -> None:
        check(session, **kw)
        apply_event(session=session, wish_id=raced.id, event=WishEvent.OPEN_GRAB, actor=None)

    monkeypatch.setattr(batch_apply, "_check_fit", meanwhile)
    results = apply_plan(
        session,
        unit=tree.townships[0],
        actor=coordinator,
        assignments=[(raced.id, volunteer.id), (calm.id, volunteer.id)],
    )
    assert [r.error.code if r.error else None for r in results] == ["WISH_CHANGED", None]
    session.expire_all()
    assert session.scalars(select(Offer).where(Offer.wish_id == raced.id)).all() == []
    events = session.scalars(
        select(WishEventRecord.event).where(WishEventRecord.wish_id == raced.id)
    ).all()
    assert list(events) == [WishEvent.OPEN_GRAB]  # the other writer's change stays
    moved = session.get(Wish, raced.id)
    assert moved is not None and moved.grab_open and moved.dispatch_round == 0


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"assignments": []}, "too_short"),
        ({}, "missing"),
        ({"assignments": [{"wish_id": 1, "volunteer_id": 1}] * 2}, "value_error"),
        ({"assignments": [{"wish_id": 0, "volunteer_id": 1}]}, "greater_than_equal"),
        ({"assignments": [{"wish_id": 1, "volunteer_id": 1, "x": 1}]}, "extra_forbidden"),
        ({"assignments": [{"wish_id": 1}]}, "missing"),
        (
            {"assignments": [{"wish_id": 1, "volunteer_id": 1}], "expires_in_minutes": 1},
            "greater_than_equal",
        ),
        ({"assignments": "all"}, "list_type"),
    ],
)
def test_apply_refuses_bad_input(
    client: TestClient,
    session: Session,
    settings: Settings,
    body: dict[str, Any],
    why: str | None,
) -> None:
    tree = make_tree(session)
    coordinator = make_coordinator(session, tree.townships[0])
    before = state(session)
    r = client.post(
        f"{API}/org-units/{tree.townships[0].id}/dispatch-plan/apply",
        json=body,
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    if why is not None:
        assert why in {e["type"] for e in error["details"]["errors"]}
    assert all(e["msg"] for e in error["details"]["errors"])
    assert state(session) == before


def test_apply_refuses_too_many_items(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    coordinator = make_coordinator(session, tree.townships[0])
    pairs = [{"wish_id": i, "volunteer_id": 1} for i in range(1, MAX_WISHES + 2)]
    r = client.post(
        f"{API}/org-units/{tree.townships[0].id}/dispatch-plan/apply",
        json={"assignments": pairs},
        headers=auth(coordinator, settings),
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDATION_ERROR")


@pytest.mark.parametrize("verb", ["", "/apply"])
def test_scope(
    client: TestClient, session: Session, settings: Settings, frozen: Clock, verb: str
) -> None:
    tree, _, volunteers, wishes = _scene(session)
    body = {"assignments": [{"wish_id": wishes[0].id, "volunteer_id": volunteers[0].id}]}
    before = state(session)

    def call(user: Any, unit_id: int) -> Any:
        return client.post(
            f"{API}/org-units/{unit_id}/dispatch-plan{verb}",
            json=body,
            headers=auth(user, settings),
        )

    other_township = make_coordinator(session, tree.townships[1])
    for unit in (tree.townships[0], tree.county, tree.stations[0]):
        r = call(other_township, unit.id)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "ORG_UNIT_NOT_FOUND")
    r = call(make_coordinator(session, tree.townships[0]), 2_000_000_000)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ORG_UNIT_NOT_FOUND")
    r = call(make_resident(session), tree.townships[0].id)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "STAFF_ONLY")
    r = client.post(f"{API}/org-units/{tree.townships[0].id}/dispatch-plan{verb}", json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    assert state(session) == before
    # The station's own coordinator plans for the station only; an admin for anything.
    r = call(make_coordinator(session, tree.stations[0]), tree.stations[0].id)
    assert r.status_code == 200, r.text
    r = call(make_admin(session), tree.county.id)
    assert r.status_code == 200, r.text


def test_wish_skills_do_not_leak_between_wishes(session: Session, frozen: Clock) -> None:
    """Each wish is judged with its own required skills (preloaded for all at once)."""
    tree = make_tree(session)
    resident = make_resident(session)
    _, volunteer = make_volunteer(session, tree.stations[0], skills=("errands",))
    needs = make_wish(session, station=tree.stations[0], requester=resident,
                      status=WishStatus.APPROVED)  # fmt: skip
    session.add(WishSkill(wish_id=needs.id, skill_code="medical"))
    fine = make_wish(session, station=tree.stations[0], requester=resident,
                     status=WishStatus.APPROVED, skills=("errands",))  # fmt: skip
    session.flush()
    plan = plan_for_unit(session, unit=tree.stations[0], actor=None)
    assert [(i.wish_id, i.volunteer_id) for i in plan.items] == [(fine.id, volunteer.id)]
    assert [u.wish_id for u in plan.unassigned] == [needs.id]
