"""The 四季红 endpoints: reading the calendar, and the admin edits with bad input refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.main import API_PREFIX
from app.models import Category, SeasonAffinity, SeasonPeriod
from tests.fixtures.builders import auth, make_admin, make_resident

API = API_PREFIX + "/seasons"
CJK = re.compile(r"[\u3400-\u9fff]")


def error_code(response: Response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert CJK.search(error["message"]), error
    return str(error["code"])


Calendar = tuple[list[tuple[str, str, str]], list[tuple[str, str, float]]]


def calendar(session: Session) -> Calendar:
    """Every stored period and affinity."""
    session.expire_all()
    periods = session.execute(
        select(SeasonPeriod.season_code, SeasonPeriod.start_md, SeasonPeriod.end_md).order_by(
            SeasonPeriod.season_code, SeasonPeriod.start_md
        )
    )
    weights = session.execute(
        select(
            SeasonAffinity.season_code, SeasonAffinity.category_code, SeasonAffinity.weight
        ).order_by(SeasonAffinity.season_code, SeasonAffinity.category_code)
    )
    return [tuple(r) for r in periods], [tuple(r) for r in weights]  # type: ignore[misc]


@pytest.fixture
def admin(session: Session, settings: Settings) -> dict[str, str]:
    return auth(make_admin(session), settings)


@pytest.fixture
def resident(session: Session, settings: Settings) -> dict[str, str]:
    return auth(make_resident(session), settings)


@pytest.fixture
def at_noon_in_shanghai() -> Iterator[None]:
    """Noon of 31 December 2026 in Shanghai. Name it before the callers' fixtures: their tokens
    must be issued at this time, or they have expired by it."""
    previous = clock.get_clock()
    clock.set_clock(lambda: datetime(2026, 12, 31, 4, tzinfo=UTC))
    try:
        yield
    finally:
        clock.set_clock(previous)


def test_current(at_noon_in_shanghai: None, client: TestClient, resident: dict[str, str]) -> None:
    r = client.get(f"{API}/current", headers=resident)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["local_date"] == "2026-12-31"
    assert body["season"]["code"] == "integrity" and body["season"]["name"] == "诚信季"
    assert body["period"] == {"start_date": "2026-11-01", "end_date": "2026-12-31", "days": 61}
    assert body["days_left"] == 1
    assert body["affinities"]["civil_customs"] == 1.0
    assert client.get(f"{API}/current").status_code == 401


def test_seasons_list_the_configuration(client: TestClient, resident: dict[str, str]) -> None:
    r = client.get(API, headers=resident)
    assert r.status_code == 200, r.text
    family = r.json()[0]
    assert (family["code"], family["periods"]) == (
        "family",
        [{"start_md": "01-01", "end_md": "04-30"}],
    )
    assert family["affinities"]["elderly_orphan_care"] == 1.0


def test_year_view(client: TestClient, resident: dict[str, str]) -> None:
    r = client.get(f"{API}/year/2027", headers=resident)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["year"] == 2027
    assert [s["code"] for s in body["seasons"]] == ["family", "growth", "harvest", "integrity"]
    family = body["seasons"][0]
    assert family["ranges"] == [{"start_date": "2027-01-01", "end_date": "2027-04-30", "days": 120}]
    assert [f["code"] for f in family["festivals"]] == ["spring_festival", "lantern", "qingming"]
    assert sum(s["days"] for s in body["seasons"]) == 365
    assert body["unassigned"] == []
    spring = body["festivals"][0]
    assert spring == {
        "code": "spring_festival",
        "name": "春节",
        "gregorian_date": "2027-02-06",
        "lunar_date": "丁未年正月初一",
        "rule": "农历正月初一",
        "season_code": "family",
    }


def test_festivals(at_noon_in_shanghai: None, client: TestClient, resident: dict[str, str]) -> None:
    r = client.get(f"{API}/festivals", params={"year": 2028}, headers=resident)
    assert r.status_code == 200, r.text
    assert r.json()["years"] == [2028]
    by_code = {f["code"]: f for f in r.json()["festivals"]}
    assert by_code["mid_autumn"]["gregorian_date"] == "2028-10-03"
    assert by_code["mid_autumn"]["season_code"] == "harvest"
    # By default this year and next, so December can plan the Spring Festival.
    r = client.get(f"{API}/festivals", headers=resident)
    assert r.status_code == 200, r.text
    assert r.json()["years"] == [2026, 2027]
    dates = [f["gregorian_date"] for f in r.json()["festivals"]]
    assert len(dates) == 16 and dates == sorted(dates)
    assert dates[8] == "2027-02-06"


@pytest.mark.parametrize(
    "path", ["/year/1900", "/year/2100", "/year/-1", "/year/abc", "/festivals?year=2100"]
)
def test_years_out_of_range(client: TestClient, resident: dict[str, str], path: str) -> None:
    assert error_code(client.get(API + path, headers=resident), 422) == "VALIDATION_ERROR"


# ---------------------------------------------------------------- admin edits


def test_admin_replaces_periods(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    r = client.put(f"{API}/integrity/periods", json={"periods": []}, headers=admin)
    assert r.status_code == 200, r.text
    body = {
        "periods": [
            {"start_md": "11-01", "end_md": "12-15"},
            {"start_md": "12-16", "end_md": "12-31"},
        ]
    }
    r = client.put(f"{API}/integrity/periods", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["periods"] == body["periods"]
    periods, _ = calendar(session)
    assert [p for p in periods if p[0] == "integrity"] == [
        ("integrity", "11-01", "12-15"),
        ("integrity", "12-16", "12-31"),
    ]
    # A wrap-around period once the days it takes are free.
    r = client.put(f"{API}/family/periods", json=_periods(("01-11", "04-30")), headers=admin)
    assert r.status_code == 200, r.text
    r = client.put(f"{API}/integrity/periods", json=_periods(("11-01", "01-10")), headers=admin)
    assert r.status_code == 200, r.text
    year = client.get(f"{API}/year/2026", headers=admin).json()
    integrity = next(s for s in year["seasons"] if s["code"] == "integrity")
    assert [(x["start_date"], x["end_date"]) for x in integrity["ranges"]] == [
        ("2026-01-01", "2026-01-10"),
        ("2026-11-01", "2026-12-31"),
    ]


def test_admin_sets_affinities(client: TestClient, session: Session, admin: dict[str, str]) -> None:
    weights = {"culture": 1.0, "rural_revival": 0.25, "environment": 0}
    r = client.put(f"{API}/growth/affinities", json={"weights": weights}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["affinities"] == {"culture": 1.0, "rural_revival": 0.25, "environment": 0.0}
    _, stored = calendar(session)
    assert [w for w in stored if w[0] == "growth"] == [
        ("growth", "culture", 1.0),
        ("growth", "environment", 0.0),
        ("growth", "rural_revival", 0.25),
    ]


def _periods(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"periods": [{"start_md": a, "end_md": b} for a, b in pairs]}


BAD_EDITS: list[tuple[str, str, dict[str, Any], int, str]] = [
    # season, what, body, status, code
    ("family", "periods", _periods(("02-30", "04-30")), 400, "SEASON_PERIOD_INVALID"),
    ("family", "periods", _periods(("01-01", "04-31")), 400, "SEASON_PERIOD_INVALID"),
    ("family", "periods", _periods(("00-01", "04-30")), 400, "SEASON_PERIOD_INVALID"),
    ("family", "periods", _periods(("1-01", "04-30")), 422, "VALIDATION_ERROR"),
    ("family", "periods", _periods(("01-01", "05-01")), 409, "SEASON_PERIODS_OVERLAP"),
    ("family", "periods", _periods(("12-31", "01-05")), 409, "SEASON_PERIODS_OVERLAP"),
    (
        "family",
        "periods",
        _periods(("01-01", "02-29"), ("02-29", "03-10")),
        409,
        "SEASON_PERIODS_OVERLAP",
    ),
    ("nothing", "periods", _periods(("01-01", "01-02")), 404, "SEASON_NOT_FOUND"),
    ("Family", "periods", _periods(("01-01", "01-02")), 422, "VALIDATION_ERROR"),
    ("family", "affinities", {"weights": {"knitting": 0.5}}, 400, "UNKNOWN_CATEGORY"),
    ("family", "affinities", {"weights": {"culture": 1.5}}, 422, "VALIDATION_ERROR"),
    ("family", "affinities", {"weights": {"culture": -0.1}}, 422, "VALIDATION_ERROR"),
    ("family", "affinities", {"weights": {"Culture": 0.5}}, 422, "VALIDATION_ERROR"),
    ("family", "affinities", {"weights": {"culture": "high"}}, 422, "VALIDATION_ERROR"),
    ("nothing", "affinities", {"weights": {"culture": 0.5}}, 404, "SEASON_NOT_FOUND"),
]


@pytest.mark.parametrize(
    ("season", "what", "body", "status", "code"),
    BAD_EDITS,
    ids=[f"{s} {w} {c} {i}" for i, (s, w, _, _, c) in enumerate(BAD_EDITS)],
)
def test_bad_edits_change_nothing(
    client: TestClient,
    session: Session,
    admin: dict[str, str],
    season: str,
    what: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = calendar(session)
    r = client.put(f"{API}/{season}/{what}", json=body, headers=admin)
    assert error_code(r, status) == code
    assert calendar(session) == before


def test_overlap_names_the_other_season(client: TestClient, admin: dict[str, str]) -> None:
    r = client.put(f"{API}/family/periods", json=_periods(("03-01", "05-10")), headers=admin)
    assert error_code(r, 409) == "SEASON_PERIODS_OVERLAP"
    assert r.json()["error"]["details"] == {
        "period": {"start_md": "03-01", "end_md": "05-10"},
        "season_code": "growth",
        "overlaps": {"start_md": "05-01", "end_md": "08-31"},
    }


def test_an_inactive_category_is_unknown(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    session.execute(update(Category).where(Category.code == "culture").values(is_active=False))
    before = calendar(session)
    body = {"weights": {"culture": 0.5, "environment": 0.5}}
    r = client.put(f"{API}/family/affinities", json=body, headers=admin)
    assert error_code(r, 400) == "UNKNOWN_CATEGORY"
    assert r.json()["error"]["details"] == {"category_codes": ["culture"]}
    assert calendar(session) == before


@pytest.mark.parametrize(
    ("what", "body"),
    [("periods", _periods(("01-01", "04-30"))), ("affinities", {"weights": {"culture": 0.5}})],
)
def test_only_admins_edit(
    client: TestClient, session: Session, resident: dict[str, str], what: str, body: dict[str, Any]
) -> None:
    before = calendar(session)
    r = client.put(f"{API}/family/{what}", json=body, headers=resident)
    assert error_code(r, 403) == "ADMIN_ONLY"
    assert client.put(f"{API}/family/{what}", json=body).status_code == 401
    assert calendar(session) == before
