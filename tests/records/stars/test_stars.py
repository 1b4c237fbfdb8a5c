"""Star volunteers (星级志愿者): awards when the ledger crosses a ladder's thresholds, certified at
the ladder's levels; public notice, objection and resolution; ladders as data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.main import API_PREFIX
from app.models import HoursEntry, OrgUnit, RecordRules, StarAward, StarLadder, User, Volunteer
from app.models.enums import OrgLevel
from app.records.stars import service as stars
from app.records.stars.service import after_credit, certifying_unit
from app.rules.records import RULES
from tests.fixtures.builders import (
    Tree,
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
)

API = API_PREFIX
START = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def frozen() -> Iterator[Clock]:
    fake = Clock(START)
    clock.set_clock(fake)
    try:
        yield fake
    finally:
        clock.set_clock(None)


@pytest.fixture(autouse=True)
def _fresh_rules() -> Iterator[None]:
    RULES.forget()
    yield
    RULES.forget()


# ---------------------------------------------------------------- helpers


def credit(session: Session, volunteer: Volunteer, unit: OrgUnit, hours: float) -> HoursEntry:
    """A service entry of `hours` (negative: a correction), inserted directly: the ledger
    takes inserts only."""
    now = clock.now()
    minutes = round(hours * 60)
    entry = HoursEntry(
        volunteer_id=volunteer.id,
        category="service",
        unit_id=unit.id,
        content="陪独居老人买菜",
        started_at=now - timedelta(hours=2),
        ended_at=now,
        minutes=minutes,
        verification="record",
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def credit_and_award(
    session: Session, volunteer: Volunteer, unit: OrgUnit, hours: float
) -> list[StarAward]:
    credit(session, volunteer, unit, hours)
    return after_credit(session, volunteer.id, clock.now())


def awards(session: Session, volunteer: Volunteer) -> list[StarAward]:
    session.expire_all()
    return list(
        session.scalars(
            select(StarAward).where(StarAward.volunteer_id == volunteer.id).order_by(StarAward.star)
        )
    )


def award_rows(session: Session) -> list[tuple[Any, ...]]:
    """Every award's mutable columns, to show that a refused request changed nothing."""
    session.expire_all()
    return [
        tuple(r)
        for r in session.execute(
            select(
                StarAward.id,
                StarAward.status,
                StarAward.objection,
                StarAward.resolution,
                StarAward.resolved_by_id,
            ).order_by(StarAward.id)
        )
    ]


def error_code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])


@dataclass
class Scene:
    session: Session
    settings: Settings
    tree: Tree
    user: User
    volunteer: Volunteer  # at stations[0], under townships[0]
    coordinator: User  # of townships[0]
    resident: User

    def headers(self, user: User | None = None) -> dict[str, str]:
        return auth(user or self.coordinator, self.settings)

    @property
    def station(self) -> OrgUnit:
        return self.tree.stations[0]


@pytest.fixture
def scene(session: Session, settings: Settings, frozen: Clock) -> Scene:
    tree = make_tree(session)
    user, volunteer = make_volunteer(session, tree.stations[0])
    return Scene(
        session=session,
        settings=settings,
        tree=tree,
        user=user,
        volunteer=volunteer,
        coordinator=make_coordinator(session, tree.townships[0]),
        resident=make_resident(session),
    )


# ---------------------------------------------------------------- awarding


def test_crossing_thresholds_awards_each_star_once_at_the_ladders_levels(scene: Scene) -> None:
    s, v, station, tree = scene.session, scene.volunteer, scene.station, scene.tree
    assert credit_and_award(s, v, station, 99.5) == []

    first = credit_and_award(s, v, station, 0.5)  # exactly 100 h
    assert [(a.star, a.certifying_unit_id, a.minutes_at_award) for a in first] == [
        (1, tree.townships[0].id, 100 * 60)
    ]
    assert first[0].status == "notice"
    assert first[0].ladder_code == "default"
    assert first[0].notice_starts_at == START
    assert first[0].notice_ends_at == START + timedelta(days=7)

    # 100 → 1050 h in one go: stars 2 (township), 3 and 4 (county), all in notice from now.
    scene_now = clock.now()
    crossed = credit_and_award(s, v, station, 950)
    assert [(a.star, a.certifying_unit_id) for a in crossed] == [
        (2, tree.townships[0].id),
        (3, tree.county.id),
        (4, tree.county.id),
    ]
    assert {a.notice_ends_at for a in crossed} == {scene_now + timedelta(days=7)}

    assert credit_and_award(s, v, station, 449) == []  # 1499 h
    fifth = credit_and_award(s, v, station, 1)
    assert [(a.star, a.certifying_unit_id) for a in fifth] == [(5, tree.city.id)]

    # Nothing more to award, however often crediting calls it.
    assert after_credit(s, v.id, clock.now()) == []
    assert [a.star for a in awards(s, v)] == [1, 2, 3, 4, 5]


def test_beijing_ladder_and_notice_days_from_a_county_rule(scene: Scene) -> None:
    s, v, station, tree = scene.session, scene.volunteer, scene.station, scene.tree
    s.add(RecordRules(org_unit_id=tree.county.id, star_ladder="beijing", notice_days=3))
    s.flush()
    made = credit_and_award(s, v, station, 200)
    assert [(a.star, a.ladder_code, a.certifying_unit_id) for a in made] == [
        (1, "beijing", tree.townships[0].id),
        (2, "beijing", tree.townships[0].id),
    ]
    assert {a.notice_ends_at for a in made} == {START + timedelta(days=3)}
    # 300 h is the default ladder's 2★, but Beijing's 3★ needs 500 h.
    assert credit_and_award(s, v, station, 100) == []
    third = credit_and_award(s, v, station, 200)
    assert [(a.star, a.certifying_unit_id) for a in third] == [(3, tree.county.id)]

    # A volunteer of another county (no rule) still climbs the default ladder.
    other = make_tree(s)
    _, elsewhere = make_volunteer(s, other.stations[3])
    made = credit_and_award(s, elsewhere, other.stations[3], 300)
    assert [(a.star, a.ladder_code, a.certifying_unit_id) for a in made] == [
        (1, "default", other.townships[1].id),
        (2, "default", other.townships[1].id),
    ]


def test_a_reversal_keeps_awards_and_an_existing_star_is_never_made_twice(scene: Scene) -> None:
    s, v, station = scene.session, scene.volunteer, scene.station
    entry = credit(s, v, station, 120)
    assert [a.star for a in after_credit(s, v.id, clock.now())] == [1]
    # The correction takes the total back under 100 h: the award stays, nothing new is made.
    credit(s, v, station, -entry.minutes / 60)
    assert after_credit(s, v.id, clock.now()) == []
    assert [(a.star, a.status) for a in awards(s, v)] == [(1, "notice")]
    # Crossing 100 h again does not award 1★ a second time (unique (volunteer, star)).
    assert credit_and_award(s, v, station, 150) == []
    assert len(awards(s, v)) == 1


def test_a_duplicate_award_is_skipped_without_failing_the_transaction(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the check miss a row (a caller that skipped the volunteer's lock), the unique
    constraint refuses the duplicate inside a savepoint: the other stars are still awarded and
    the crediting transaction goes on."""
    s, v, station = scene.session, scene.volunteer, scene.station
    [first] = credit_and_award(s, v, station, 100)
    monkeypatch.setattr(stars, "awarded_stars", lambda _session, _volunteer_id: set())
    made = credit_and_award(s, v, station, 200)
    assert [a.star for a in made] == [2]
    entry = credit(s, v, station, 1)  # the transaction is still usable
    assert entry.id is not None
    assert [(a.id, a.star) for a in awards(s, v)] == [(first.id, 1), (made[0].id, 2)]


def test_an_entry_not_yet_flushed_counts(scene: Scene) -> None:
    s, v = scene.session, scene.volunteer
    s.add(
        HoursEntry(
            volunteer_id=v.id,
            category="service",
            unit_id=scene.station.id,
            content="陪独居老人买菜",
            started_at=START - timedelta(hours=2),
            minutes=100 * 60,
            verification="record",
            created_at=START,
        )
    )
    assert [a.star for a in after_credit(s, v.id, START)] == [1]


def test_a_volunteer_without_hours_or_profile_gets_nothing(scene: Scene) -> None:
    assert after_credit(scene.session, scene.volunteer.id, clock.now()) == []
    assert after_credit(scene.session, 2_000_000_000, clock.now()) == []


def test_certifying_unit_falls_back_to_the_nearest_unit_above() -> None:
    def unit(level: OrgLevel, name: str) -> OrgUnit:
        return OrgUnit(name=name, level=level)

    city, county = unit(OrgLevel.CITY, "city"), unit(OrgLevel.COUNTY, "county")
    town, village = unit(OrgLevel.TOWNSHIP, "town"), unit(OrgLevel.VILLAGE, "village")
    full = [city, county, town, village]
    assert [certifying_unit(full, lv).name for lv in ("city", "county", "township", "village")] == [
        "city",
        "county",
        "town",
        "village",
    ]
    # No township on the chain: the county above certifies.
    assert certifying_unit([city, county, village], "township").name == "county"
    # A county-level deployment: a city-certified star goes to the root.
    assert certifying_unit([county, town, village], "city").name == "county"


# ---------------------------------------------------------------- standing, notice, objection


def test_notice_becomes_effective_when_it_ends(
    client: TestClient, scene: Scene, frozen: Clock
) -> None:
    s = scene.session
    credit_and_award(s, scene.volunteer, scene.station, 150)
    me = auth(scene.user, scene.settings)

    r = client.get(f"{API}/me/stars", headers=me)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["current_star"] == 0
    assert body["total_hours"] == 150.0
    assert body["ladder"]["code"] == "default"
    assert body["ladder"]["thresholds"] == [100, 300, 600, 1000, 1500]
    assert (body["next_star"], body["next_threshold_hours"], body["hours_to_go"]) == (2, 300, 150.0)
    assert [(a["star"], a["status"]) for a in body["awards"]] == [(1, "notice")]
    assert body["awards"][0]["certifying_unit"]["id"] == scene.tree.townships[0].id

    frozen.advance(days=7, seconds=-1)
    me = auth(scene.user, scene.settings)  # tokens expire on the service clock
    assert client.get(f"{API}/me/stars", headers=me).json()["current_star"] == 0
    frozen.advance(seconds=1)
    me = auth(scene.user, scene.settings)  # tokens expire on the service clock
    body = client.get(f"{API}/me/stars", headers=me).json()
    assert body["current_star"] == 1
    assert body["awards"][0]["status"] == "effective"

    # Staff of the volunteer's station read the same standing.
    staff = client.get(f"{API}/volunteers/{scene.volunteer.id}/stars", headers=scene.headers())
    assert staff.status_code == 200, staff.text
    assert staff.json()["current_star"] == 1


def test_objection_holds_and_resolution_goes_both_ways(
    client: TestClient, scene: Scene, frozen: Clock
) -> None:
    s = scene.session
    first, _ = credit_and_award(s, scene.volunteer, scene.station, 300)
    resident = scene.headers(scene.resident)

    r = client.post(
        f"{API}/star-awards/{first.id}/objection",
        json={"reason": "服务时长有虚报"},
        headers=resident,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "held"
    assert r.json()["objection"] == "服务时长有虚报"
    again = client.post(
        f"{API}/star-awards/{first.id}/objection", json={"reason": "再次异议"}, headers=resident
    )
    assert error_code(again, 409) == "STAR_AWARD_ALREADY_HELD"

    # Held past the notice's end: not effective.
    frozen.advance(days=8)
    resident = scene.headers(scene.resident)  # tokens expire on the service clock
    me = auth(scene.user, scene.settings)
    body = client.get(f"{API}/me/stars", headers=me).json()
    assert [(a["star"], a["status"]) for a in body["awards"]] == [(1, "held"), (2, "effective")]
    assert body["current_star"] == 2

    # Dismissed: back in notice with its original end, which has passed: effective at once.
    r = client.post(
        f"{API}/star-awards/{first.id}/resolve",
        json={"uphold": False, "reason": "经核实时长无误"},
        headers=scene.headers(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "effective"
    assert datetime.fromisoformat(r.json()["notice_ends_at"]) == first.notice_ends_at
    [row] = [a for a in awards(s, scene.volunteer) if a.id == first.id]
    assert (row.status, row.resolution, row.resolved_by_id) == (
        "notice",
        "经核实时长无误",
        scene.coordinator.id,
    )
    assert row.notice_ends_at == first.notice_ends_at

    # A third star, objected to and upheld: revoked, and no longer objectionable.
    [third] = credit_and_award(s, scene.volunteer, scene.station, 300)
    r = client.post(
        f"{API}/star-awards/{third.id}/objection", json={"reason": "冒名顶替"}, headers=resident
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"{API}/star-awards/{third.id}/resolve",
        json={"uphold": True, "reason": "异议属实"},
        headers=scene.headers(make_coordinator(s, scene.tree.county)),  # certified by the county
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked"
    late = client.post(
        f"{API}/star-awards/{third.id}/objection", json={"reason": "x"}, headers=resident
    )
    assert error_code(late, 409) == "STAR_AWARD_REVOKED"
    twice = client.post(
        f"{API}/star-awards/{third.id}/resolve",
        json={"uphold": False, "reason": "x"},
        headers=scene.headers(make_admin(s)),
    )
    assert error_code(twice, 409) == "STAR_AWARD_NOT_HELD"
    frozen.advance(days=30)
    me = auth(scene.user, scene.settings)  # tokens expire on the service clock
    body = client.get(f"{API}/me/stars", headers=me).json()
    assert [a["status"] for a in body["awards"]] == ["effective", "effective", "revoked"]
    assert body["current_star"] == 2


def test_objection_refused_after_effect_and_after_a_decision(
    client: TestClient, scene: Scene, frozen: Clock
) -> None:
    s = scene.session
    [award] = credit_and_award(s, scene.volunteer, scene.station, 100)
    resident = scene.headers(scene.resident)

    # Dismissed while the notice still runs: back in notice, but its objection was decided.
    assert (
        client.post(
            f"{API}/star-awards/{award.id}/objection", json={"reason": "有疑问"}, headers=resident
        ).status_code
        == 200
    )
    r = client.post(
        f"{API}/star-awards/{award.id}/resolve",
        json={"uphold": False, "reason": "无误"},
        headers=scene.headers(),
    )
    assert r.json()["status"] == "notice", r.text
    before = award_rows(s)
    again = client.post(
        f"{API}/star-awards/{award.id}/objection", json={"reason": "还有疑问"}, headers=resident
    )
    assert error_code(again, 409) == "STAR_OBJECTION_ALREADY_DECIDED"
    assert award_rows(s) == before

    # After the notice ends the award has taken effect: too late to object.
    frozen.advance(days=7)
    resident = scene.headers(scene.resident)  # tokens expire on the service clock
    too_late = client.post(
        f"{API}/star-awards/{award.id}/objection", json={"reason": "迟到的异议"}, headers=resident
    )
    assert error_code(too_late, 409) == "STAR_AWARD_NOT_IN_NOTICE"
    assert award_rows(s) == before

    # An unknown award, and a resolution of an award that is not held.
    missing = client.post(
        f"{API}/star-awards/2000000000/objection", json={"reason": "x"}, headers=resident
    )
    assert error_code(missing, 404) == "STAR_AWARD_NOT_FOUND"
    not_held = client.post(
        f"{API}/star-awards/{award.id}/resolve",
        json={"uphold": True, "reason": "x"},
        headers=scene.headers(),
    )
    assert error_code(not_held, 409) == "STAR_AWARD_NOT_HELD"
    # Bad bodies: validation, nothing changes.
    for body in ({}, {"reason": ""}, {"reason": "x", "extra": 1}):
        bad = client.post(f"{API}/star-awards/{award.id}/objection", json=body, headers=resident)
        assert error_code(bad, 422) == "VALIDATION_ERROR"
    assert award_rows(s) == before


def test_star_notices_list_the_subtrees_awards_in_notice_or_held(
    client: TestClient, scene: Scene, frozen: Clock
) -> None:
    s, tree = scene.session, scene.tree
    _, other = make_volunteer(s, tree.stations[2])  # under townships[1]
    [mine] = credit_and_award(s, scene.volunteer, scene.station, 100)
    [theirs] = credit_and_award(s, other, tree.stations[2], 100)
    frozen.advance(days=1)
    _, late = make_volunteer(s, tree.stations[1])
    [held] = credit_and_award(s, late, tree.stations[1], 100)
    resident = scene.headers(scene.resident)
    r = client.post(
        f"{API}/star-awards/{held.id}/objection", json={"reason": "有疑问"}, headers=resident
    )
    assert r.status_code == 200, r.text

    def notice_ids(unit: OrgUnit, **params: Any) -> list[int]:
        r = client.get(f"{API}/org-units/{unit.id}/star-notices", headers=resident, params=params)
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["items"]]

    assert notice_ids(tree.townships[0]) == [mine.id, held.id]
    assert notice_ids(tree.townships[1]) == [theirs.id]
    assert notice_ids(tree.city) == [mine.id, theirs.id, held.id]
    assert notice_ids(tree.stations[0]) == []  # 1★ is certified by the township

    item = client.get(
        f"{API}/org-units/{tree.townships[0].id}/star-notices", headers=resident
    ).json()["items"][0]
    assert item["volunteer_name"] == scene.user.name
    assert item["station"]["id"] == scene.station.id
    assert (item["star"], item["hours_at_award"], item["status"]) == (1, 100.0, "notice")

    page = client.get(
        f"{API}/org-units/{tree.city.id}/star-notices", headers=resident, params={"limit": 2}
    ).json()
    assert [i["id"] for i in page["items"]] == [mine.id, theirs.id]
    assert notice_ids(tree.city, cursor=page["next_cursor"]) == [held.id]

    # The first two take effect and leave the notice; the held one stays until decided.
    frozen.advance(days=6)
    resident = scene.headers(scene.resident)  # tokens expire on the service clock
    assert notice_ids(tree.city) == [held.id]


def test_star_routes_scope(client: TestClient, scene: Scene) -> None:
    s, tree = scene.session, scene.tree
    [award] = credit_and_award(s, scene.volunteer, scene.station, 100)  # certified by townships[0]
    resident = scene.headers(scene.resident)
    assert (
        client.post(
            f"{API}/star-awards/{award.id}/objection", json={"reason": "有疑问"}, headers=resident
        ).status_code
        == 200
    )
    before = award_rows(s)
    decision = {"uphold": True, "reason": "异议属实"}

    # A coordinator of the other township: the award does not exist for them, nothing changes.
    outsider = make_coordinator(s, tree.townships[1])
    r = client.post(
        f"{API}/star-awards/{award.id}/resolve", json=decision, headers=scene.headers(outsider)
    )
    assert error_code(r, 404) == "STAR_AWARD_NOT_FOUND"
    # A coordinator of the volunteer's own station, below the certifying township: nor for them.
    below = make_coordinator(s, scene.station)
    r = client.post(
        f"{API}/star-awards/{award.id}/resolve", json=decision, headers=scene.headers(below)
    )
    assert error_code(r, 404) == "STAR_AWARD_NOT_FOUND"
    # Residents and volunteers are not staff.
    r = client.post(f"{API}/star-awards/{award.id}/resolve", json=decision, headers=resident)
    assert error_code(r, 403) == "STAFF_ONLY"
    assert award_rows(s) == before

    # A volunteer's standing: themselves and staff over their station; others 404.
    url = f"{API}/volunteers/{scene.volunteer.id}/stars"
    assert client.get(url, headers=auth(scene.user, scene.settings)).status_code == 200
    assert client.get(url, headers=scene.headers()).status_code == 200
    assert (
        error_code(client.get(url, headers=scene.headers(outsider)), 404) == "VOLUNTEER_NOT_FOUND"
    )
    assert error_code(client.get(url, headers=resident), 404) == "VOLUNTEER_NOT_FOUND"
    assert error_code(client.get(f"{API}/me/stars", headers=resident), 403) == "NOT_A_VOLUNTEER"

    # The public notice: anyone logged in, any unit that exists.
    notices = f"{API}/org-units/{tree.townships[0].id}/star-notices"
    assert client.get(notices, headers=scene.headers(outsider)).status_code == 200
    assert error_code(client.get(notices), 401) == "UNAUTHORIZED"
    unknown = client.get(f"{API}/org-units/2000000000/star-notices", headers=resident)
    assert error_code(unknown, 404) == "ORG_UNIT_NOT_FOUND"

    # Ladders: read by anyone logged in, written by admins only.
    assert client.get(f"{API}/star-ladders", headers=resident).status_code == 200
    body = {"name": "试行", "thresholds": [10], "certifying_levels": ["township"]}
    r = client.put(f"{API}/star-ladders/trial", json=body, headers=scene.headers())
    assert error_code(r, 403) == "ADMIN_ONLY"
    assert s.get(StarLadder, "trial") is None

    # The coordinator of the certifying township decides.
    r = client.post(f"{API}/star-awards/{award.id}/resolve", json=decision, headers=scene.headers())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked"


# ---------------------------------------------------------------- ladders


def test_ladders_are_validated_and_replace_the_thresholds(client: TestClient, scene: Scene) -> None:
    s = scene.session
    admin = scene.headers(make_admin(s))
    url = f"{API}/star-ladders/zhejiang"

    def stored() -> tuple[Any, ...] | None:
        s.expire_all()
        row = s.get(StarLadder, "zhejiang")
        return (row.name, row.thresholds, row.certifying_levels) if row else None

    bad_bodies = [
        ([], []),  # no star
        (list(range(1, 12)), ["township"] * 11),  # 11 stars
        ([100, 100], ["township", "county"]),  # not strictly ascending
        ([300, 100], ["township", "county"]),
        ([0, 100], ["township", "county"]),  # not positive
        ([-5, 100], ["township", "county"]),
        ([100, 300], ["township"]),  # a level missing
        ([100, 300], ["township", "province"]),  # unknown level
    ]
    for thresholds, levels in bad_bodies:
        r = client.put(
            url,
            json={"name": "浙江", "thresholds": thresholds, "certifying_levels": levels},
            headers=admin,
        )
        assert error_code(r, 400) == "STAR_LADDER_INVALID", (thresholds, levels)
        assert stored() is None
    wrong_type = client.put(
        url,
        json={"name": "浙江", "thresholds": ["many"], "certifying_levels": ["city"]},
        headers=admin,
    )
    assert error_code(wrong_type, 422) == "VALIDATION_ERROR"
    bad_code = client.put(
        f"{API}/star-ladders/Bad-Code",
        json={"name": "x", "thresholds": [1], "certifying_levels": ["city"]},
        headers=admin,
    )
    assert error_code(bad_code, 422) == "VALIDATION_ERROR"

    body = {"name": "浙江省", "thresholds": [50, 150], "certifying_levels": ["village", "county"]}
    r = client.put(url, json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"code": "zhejiang", **body}
    assert stored() == ("浙江省", "50,150", "village,county")
    listed = client.get(f"{API}/star-ladders", headers=scene.headers(scene.resident)).json()
    assert {ladder["code"] for ladder in listed} >= {"default", "beijing", "zhejiang"}

    # Replace it, and put a county on it: the next credit uses the new thresholds.
    body = {"name": "浙江省", "thresholds": [20, 40, 60], "certifying_levels": ["village"] * 3}
    assert client.put(url, json=body, headers=admin).status_code == 200
    s.add(RecordRules(org_unit_id=scene.tree.county.id, star_ladder="zhejiang"))
    s.flush()
    made = credit_and_award(s, scene.volunteer, scene.station, 45)
    assert [(a.star, a.ladder_code, a.certifying_unit_id) for a in made] == [
        (1, "zhejiang", scene.station.id),
        (2, "zhejiang", scene.station.id),
    ]


def test_rules_naming_a_missing_ladder_fall_back_to_the_default(scene: Scene) -> None:
    s = scene.session
    s.add(RecordRules(org_unit_id=scene.tree.city.id, star_ladder="no_such_ladder"))
    s.flush()
    made = credit_and_award(s, scene.volunteer, scene.station, 100)
    assert [(a.star, a.ladder_code) for a in made] == [(1, "default")]
