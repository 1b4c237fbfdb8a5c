"""Ranking a unit's direct children: weights change the order, weights are inherited down the
tree (and removed to inherit again), the indicators are the sections' figures, bad weights and
periods are refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock, idempotency
from app.config import Settings
from app.main import API_PREFIX
from app.models import HoursEntry, OrgUnit, RankingWeight, User, Volunteer, WishEventRecord
from app.models.enums import WishStatus
from app.stats import ranking
from app.stats.figures import Scope
from tests.fixtures.builders import (
    Tree,
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = API_PREFIX
NOW = datetime(2027, 3, 20, 4, 0, tzinfo=UTC)  # 2027-03-20 12:00 in the city
PERIOD = {"from": "2027-03-01", "to": "2027-03-20"}
SERVED_AT = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


def _credit(session: Session, volunteer: Volunteer, unit: OrgUnit, minutes: int) -> None:
    session.add(
        HoursEntry(
            volunteer_id=volunteer.id,
            category="service",
            unit_id=unit.id,
            content="探访独居老人",
            started_at=SERVED_AT,
            minutes=minutes,
            verification="record",
            created_at=NOW,
        )
    )
    session.flush()


def _scene(session: Session) -> tuple[Tree, User]:
    """township0 serves long hours with one volunteer; township1 shorter with three, and
    completes a wish."""
    tree = make_tree(session)
    _, one = make_volunteer(session, tree.stations[0])
    _credit(session, one, tree.stations[0], 600)
    for _ in range(3):
        _, volunteer = make_volunteer(session, tree.stations[2])
        _credit(session, volunteer, tree.stations[2], 60)
    wish = make_wish(session, station=tree.stations[3], requester=make_resident(session))
    session.add(
        WishEventRecord(
            wish_id=wish.id,
            event="check_out",
            from_status="in_service",
            to_status=WishStatus.COMPLETED.value,
            actor_role="volunteer",
            data={},
            created_at=SERVED_AT,
        )
    )
    session.flush()
    return tree, make_coordinator(session, tree.county)


def _put(client: TestClient, unit: OrgUnit, body: Any, headers: dict[str, str]) -> Any:
    r = client.put(f"{API}/org-units/{unit.id}/ranking-weights", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _order(client: TestClient, unit: OrgUnit, headers: dict[str, str]) -> list[tuple[int, float]]:
    r = client.get(f"{API}/org-units/{unit.id}/ranking", params=PERIOD, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row["rank"] for row in body["rows"]] == list(range(1, len(body["rows"]) + 1))
    return [(row["unit"]["id"], row["score"]) for row in body["rows"]]


def _weights(**given: int) -> dict[str, Any]:
    return {"weights": [{"indicator": k, "weight": w} for k, w in given.items()]}


def test_weights_change_the_order(client: TestClient, session: Session, settings: Settings) -> None:
    tree, coordinator = _scene(session)
    headers = auth(coordinator, settings)
    first, second = tree.townships
    _put(client, tree.county, _weights(hours=100), headers)
    assert _order(client, tree.county, headers) == [(first.id, 100.0), (second.id, 0.0)]
    _put(client, tree.county, _weights(active=100), headers)
    assert _order(client, tree.county, headers) == [(second.id, 100.0), (first.id, 0.0)]
    _put(client, tree.county, _weights(completed=30, hours=10), headers)
    assert _order(client, tree.county, headers) == [(second.id, 75.0), (first.id, 25.0)]
    # Equal scores: ordered by unit code.
    _put(client, tree.county, _weights(active=50, hours=50), headers)
    assert _order(client, tree.county, headers) == [(first.id, 50.0), (second.id, 50.0)]
    # An indicator undefined for every child (one season in the window: no balance index)
    # scores 0 for everyone.
    _put(client, tree.county, _weights(balance=1), headers)
    assert _order(client, tree.county, headers) == [(first.id, 0.0), (second.id, 0.0)]


def test_indicators_are_the_children_s_figures(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree, coordinator = _scene(session)
    r = client.get(
        f"{API}/org-units/{tree.townships[1].id}/ranking",
        params=PERIOD,
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"] == PERIOD["from"] and body["to"] == PERIOD["to"]
    assert [w["indicator"] for w in body["weights"]] == [i.key for i in ranking.INDICATORS]
    starts_at = clock.local_at(datetime(2027, 3, 1).date(), time(0))
    ends_at = clock.local_at(datetime(2027, 3, 21).date(), time(0))
    rows = {row["unit"]["id"]: row for row in body["rows"]}
    assert set(rows) == {tree.stations[2].id, tree.stations[3].id}
    for station in tree.stations[2:]:
        want = ranking.values(session, Scope(station, starts_at, ends_at))
        got = {m["key"]: m["value"] for m in rows[station.id]["indicators"]}
        assert got == want
    station2 = {m["key"]: m for m in rows[tree.stations[2].id]["indicators"]}
    assert station2["active"]["value"] == 3 and station2["active"]["score"] == 1.0
    assert station2["hours"]["value"] == 3.0
    station3 = {m["key"]: m for m in rows[tree.stations[3].id]["indicators"]}
    assert station3["completed"]["value"] == 1 and station3["coverage"]["value"] == 1.0
    # Default weights: 25 each on active, hours, completed and coverage.
    assert [row["unit"]["id"] for row in body["rows"]] == [tree.stations[2].id, tree.stations[3].id]
    assert [row["score"] for row in body["rows"]] == [50.0, 50.0]


def test_weights_are_inherited_from_the_nearest_unit_that_set_them(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    city = auth(make_coordinator(session, tree.city), settings)
    township = tree.townships[0]

    def weights_of(unit: OrgUnit) -> Any:
        r = client.get(f"{API}/org-units/{unit.id}/ranking-weights", headers=city)
        assert r.status_code == 200, r.text
        return r.json()

    body = weights_of(township)
    assert body["inherited"] is True and body["source_unit"] is None
    assert {w["indicator"]: w["weight"] for w in body["weights"]} == ranking.DEFAULTS

    _put(client, tree.city, _weights(coverage=10), city)
    body = weights_of(township)
    assert body["inherited"] is True and body["source_unit"]["id"] == tree.city.id
    assert {w["indicator"]: w["weight"] for w in body["weights"]} == {
        key: 10 if key == "coverage" else 0 for key in ranking.DEFAULTS
    }

    own = _put(client, tree.county, _weights(hours=5, balance=7), city)
    assert own["inherited"] is False and own["source_unit"]["id"] == tree.county.id
    body = weights_of(township)
    assert body["source_unit"]["id"] == tree.county.id
    assert {w["indicator"]: w["weight"] for w in body["weights"] if w["weight"]} == {
        "hours": 5,
        "balance": 7,
    }
    # The ranking of the township's stations uses them too.
    r = client.get(f"{API}/org-units/{township.id}/ranking", params=PERIOD, headers=city)
    assert {w["indicator"]: w["weight"] for w in r.json()["weights"] if w["weight"]} == {
        "hours": 5,
        "balance": 7,
    }
    # The city's own weights are untouched.
    assert weights_of(tree.city)["inherited"] is False
    assert {w["indicator"]: w["weight"] for w in weights_of(tree.city)["weights"]}["coverage"] == 10


def test_a_unit_s_own_weights_can_be_removed_to_inherit_again(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    city = auth(make_coordinator(session, tree.city), settings)
    county = auth(make_coordinator(session, tree.county), settings)
    url = f"{API}/org-units/{tree.county.id}/ranking-weights"
    _put(client, tree.city, _weights(coverage=10), city)
    _put(client, tree.county, _weights(hours=5, balance=7), county)

    r = client.delete(url, headers=county)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unit_id"] == tree.county.id
    assert body["inherited"] is True and body["source_unit"]["id"] == tree.city.id
    assert {w["indicator"]: w["weight"] for w in body["weights"] if w["weight"]} == {"coverage": 10}
    assert session.scalar(
        select(func.count()).where(RankingWeight.unit_id == tree.county.id)
    ) == 0  # fmt: skip
    # The county's ranking, and the township's below it, use the city's weights again.
    for unit in (tree.county, tree.townships[0]):
        r = client.get(f"{API}/org-units/{unit.id}/ranking", params=PERIOD, headers=county)
        assert {w["indicator"]: w["weight"] for w in r.json()["weights"] if w["weight"]} == {
            "coverage": 10
        }
    # Nothing of its own left to remove: the same answer, no error.
    again = client.delete(url, headers=county)
    assert again.status_code == 200 and again.json() == body
    # The city's own weights are untouched; removed too, the defaults apply.
    r = client.get(f"{API}/org-units/{tree.city.id}/ranking-weights", headers=city)
    assert r.json()["inherited"] is False
    r = client.delete(f"{API}/org-units/{tree.city.id}/ranking-weights", headers=city)
    assert r.status_code == 200, r.text
    assert r.json()["inherited"] is True and r.json()["source_unit"] is None
    assert {w["indicator"]: w["weight"] for w in r.json()["weights"]} == ranking.DEFAULTS
    r = client.get(url, headers=county)
    assert r.json()["source_unit"] is None


@pytest.mark.parametrize(
    ("unit_id", "status", "code"),
    [
        ("2000000000", 404, "ORG_UNIT_NOT_FOUND"),
        ("0", 422, "VALIDATION_ERROR"),
        ("abc", 422, "VALIDATION_ERROR"),
        ("99999999999999999999", 422, "VALIDATION_ERROR"),
    ],
)
def test_removing_weights_of_a_bad_unit_is_refused(
    client: TestClient, session: Session, settings: Settings, unit_id: str, status: int, code: str
) -> None:
    tree = make_tree(session)
    headers = auth(make_coordinator(session, tree.county), settings)
    _put(client, tree.county, _weights(hours=40), headers)
    before = session.scalar(select(func.count()).select_from(RankingWeight))
    r = client.delete(f"{API}/org-units/{unit_id}/ranking-weights", headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
    assert session.scalar(select(func.count()).select_from(RankingWeight)) == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (_weights(speed=10), 400, "RANKING_INDICATOR_UNKNOWN"),
        (_weights(hours=101), 400, "RANKING_WEIGHT_OUT_OF_RANGE"),
        (_weights(hours=-1), 400, "RANKING_WEIGHT_OUT_OF_RANGE"),
        (_weights(hours=0, active=0), 400, "RANKING_WEIGHTS_ALL_ZERO"),
        ({"weights": []}, 400, "RANKING_WEIGHTS_ALL_ZERO"),
        (
            {"weights": [{"indicator": "hours", "weight": 1}] * 2},
            400,
            "RANKING_INDICATOR_REPEATED",
        ),
        ({"weights": [{"indicator": "hours", "weight": "多"}]}, 422, None),
        ({"weights": [{"indicator": "hours"}]}, 422, None),
        ({"weights": [{"indicator": "hours", "weight": 1, "extra": 1}]}, 422, None),
        ({}, 422, None),
    ],
)
def test_bad_weights_are_refused_and_change_nothing(
    client: TestClient,
    session: Session,
    settings: Settings,
    body: Any,
    status: int,
    code: str | None,
) -> None:
    tree = make_tree(session)
    headers = auth(make_coordinator(session, tree.county), settings)
    _put(client, tree.county, _weights(hours=40), headers)
    before = session.scalar(select(func.count()).select_from(RankingWeight))
    r = client.put(f"{API}/org-units/{tree.county.id}/ranking-weights", json=body, headers=headers)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    if code is not None:
        assert error["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert session.scalar(select(func.count()).select_from(RankingWeight)) == before
    r = client.get(f"{API}/org-units/{tree.county.id}/ranking-weights", headers=headers)
    assert {w["indicator"]: w["weight"] for w in r.json()["weights"]}["hours"] == 40


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "2027-03-20", "to": "2027-03-01"}, 400),
        ({"from": "1800-01-01", "to": "2027-03-01"}, 400),
        ({"from": "2027-03-01", "to": "2100-01-01"}, 400),
        ({"from": "2027-13-01"}, 422),
        ({"to": "昨天"}, 422),
    ],
)
def test_bad_periods_are_refused(
    client: TestClient,
    session: Session,
    settings: Settings,
    params: dict[str, str],
    status: int,
) -> None:
    tree = make_tree(session)
    headers = auth(make_coordinator(session, tree.county), settings)
    r = client.get(f"{API}/org-units/{tree.county.id}/ranking", params=params, headers=headers)
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json()["error"]["code"] == "RANKING_PERIOD_INVALID"


def test_default_period_is_this_month_to_today(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    headers = auth(make_coordinator(session, tree.county), settings)
    r = client.get(f"{API}/org-units/{tree.county.id}/ranking", headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["from"], r.json()["to"]) == ("2027-03-01", "2027-03-20")


def test_a_retried_put_is_replayed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    headers = {
        **auth(make_coordinator(session, tree.county), settings),
        idempotency.HEADER: "7d1c9a52-0e4b-4f3a-8c2d-5b6e7f8a9b0c",
    }
    url = f"{API}/org-units/{tree.county.id}/ranking-weights"
    first = client.put(url, json=_weights(hours=30), headers=headers)
    assert first.status_code == 200, first.text
    again = client.put(url, json=_weights(hours=30), headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers.get(idempotency.REPLAYED_HEADER) == "true"
    rows = session.scalar(select(func.count()).where(RankingWeight.unit_id == tree.county.id))
    assert rows == len(ranking.INDICATORS)


def test_a_resident_cannot_read_a_ranking(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    r = client.get(
        f"{API}/org-units/{tree.county.id}/ranking",
        headers=auth(make_resident(session), settings),
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "STAFF_ONLY"


@pytest.mark.parametrize(
    ("first", "last", "status"),
    [
        ("1901-01-01", "2099-12-31", 400),  # two centuries: every year's calendar, per child
        ("2024-03-01", "2027-03-01", 400),  # three years and a day
        ("2024-03-01", "2027-02-28", 200),  # three years to the day
    ],
)
def test_a_period_over_three_years_is_refused_as_the_statistics_refuse_it(
    client: TestClient,
    session: Session,
    settings: Settings,
    first: str,
    last: str,
    status: int,
) -> None:
    tree = make_tree(session)
    headers = auth(make_coordinator(session, tree.county), settings)
    r = client.get(
        f"{API}/org-units/{tree.county.id}/ranking",
        params={"from": first, "to": last},
        headers=headers,
    )
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json()["error"]["code"] == "RANKING_PERIOD_TOO_LONG"
        assert r.json()["error"]["message"] == "考核时段最长 3 年"
    stats = client.get(
        f"{API}/org-units/{tree.county.id}/stats",
        params={"from": first, "to": last, "section": "people"},
        headers=headers,
    )
    assert stats.status_code == status, stats.text
