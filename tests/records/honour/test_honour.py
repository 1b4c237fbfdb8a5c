"""Honour lists (好人榜 / 爱心榜): a unit's volunteers ranked by hours, by ratings or by hours in
the season's theme, over a month, a 四季红 season or a year of the city's calendar."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.main import API_PREFIX
from app.models import Attendance, HoursEntry, OrgUnit, User, Volunteer, Wish
from app.models.enums import VolunteerStatus, WishStatus
from app.seasons.monthdays import Period
from app.seasons.service import replace_periods
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
CITY = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 15, 2, 0, tzinfo=UTC)  # 10:00 on 15 March in Shanghai


@pytest.fixture
def frozen() -> Iterator[None]:
    clock.set_clock(lambda: NOW)
    try:
        yield
    finally:
        clock.set_clock(None)


def local(*args: int) -> datetime:
    """A moment of the city's wall clock."""
    return datetime(*args, tzinfo=CITY)  # type: ignore[misc]


# ---------------------------------------------------------------- helpers


def service(
    session: Session,
    volunteer: Volunteer,
    started_at: datetime,
    hours: float,
    *,
    category_code: str | None = "elderly_orphan_care",
    category: str = "service",
    reverses: HoursEntry | None = None,
) -> HoursEntry:
    """A ledger entry, inserted directly (the ledger takes inserts only)."""
    entry = HoursEntry(
        volunteer_id=volunteer.id,
        category=category,
        unit_id=session.get(Volunteer, volunteer.id).home_station_id,  # type: ignore[union-attr]
        category_code=category_code,
        content="陪独居老人买菜",
        started_at=started_at,
        ended_at=started_at + timedelta(hours=abs(hours)),
        minutes=round(hours * 60),
        verification="record",
        reverses_id=reverses.id if reverses is not None else None,
        created_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    return entry


def reversal(session: Session, original: HoursEntry) -> HoursEntry:
    """A correction: it copies the original's start, so it lands in the same period."""
    volunteer = session.get(Volunteer, original.volunteer_id)
    assert volunteer is not None
    return service(
        session,
        volunteer,
        original.started_at,
        -original.minutes / 60,
        category_code=original.category_code,
        reverses=original,
    )


@dataclass
class Scene:
    session: Session
    settings: Settings
    tree: Tree
    requester: User
    viewer: User

    def headers(self, user: User | None = None) -> dict[str, str]:
        return auth(user or self.viewer, self.settings)

    def volunteer(self, station: int, name: str) -> Volunteer:
        user = make_resident(self.session, name=name)
        return make_volunteer(self.session, self.tree.stations[station], user=user)[1]

    def rated(
        self,
        assignee: Volunteer,
        rating: int,
        rated_at: datetime,
        team: tuple[tuple[Volunteer, str], ...] = (),
    ) -> Wish:
        """A wish `assignee` served, rated by the requester; team members with their
        attendance status."""
        station = self.session.get(OrgUnit, assignee.home_station_id)
        assert station is not None
        wish = make_wish(
            self.session,
            station=station,
            requester=self.requester,
            status=WishStatus.RATED,
            assignee=assignee,
        )
        wish.rating, wish.rated_at = rating, rated_at
        for member, status in ((assignee, "credited"), *team):
            self.session.add(
                Attendance(
                    wish_id=wish.id,
                    volunteer_id=member.id,
                    unit_id=station.id,
                    is_lead=member.id == assignee.id,
                    status=status,
                )
            )
        self.session.flush()
        return wish


@pytest.fixture
def scene(session: Session, settings: Settings, frozen: None) -> Scene:
    return Scene(
        session=session,
        settings=settings,
        tree=make_tree(session),
        requester=make_resident(session),
        viewer=make_resident(session),
    )


def honour(client: TestClient, scene: Scene, unit: OrgUnit, **params: Any) -> dict[str, Any]:
    r = client.get(f"{API}/org-units/{unit.id}/honour-list", params=params, headers=scene.headers())
    assert r.status_code == 200, r.text
    return dict(r.json())


def ranking(body: dict[str, Any], figure: str = "hours") -> list[tuple[int, str, Any]]:
    return [(row["rank"], row["name"], row[figure]) for row in body["items"]]


def error_code(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])


# ---------------------------------------------------------------- by hours


def test_honour_by_hours_ranks_ties_and_keeps_to_the_citys_month(
    client: TestClient, scene: Scene
) -> None:
    s = scene.session
    a, b = scene.volunteer(0, "甲"), scene.volunteer(1, "乙")
    c, d = scene.volunteer(0, "丙"), scene.volunteer(1, "丁")
    e = scene.volunteer(2, "戊")  # under the other township
    gone = scene.volunteer(0, "己")

    # 00:30 on 1 March in Shanghai is still 28 February in UTC: it is March's.
    service(s, a, local(2027, 3, 1, 0, 30), 3)
    service(s, a, local(2027, 2, 28, 23, 30), 5)  # February's
    service(s, a, local(2027, 3, 5, 9), 4, category="training")  # not service
    service(s, b, local(2027, 3, 20, 9), 3)
    # C served 6 h, corrected to 5 h: reversed, and replaced.
    wrong = service(s, c, local(2027, 3, 10, 9), 6)
    reversal(s, wrong)
    service(s, c, local(2027, 3, 10, 9), 5)
    service(s, d, local(2027, 3, 31, 23, 59), 1)  # the month's last minute
    service(s, d, local(2027, 4, 1, 0, 0), 9)  # April's (still 31 March in UTC)
    service(s, e, local(2027, 3, 12, 9), 10)
    service(s, gone, local(2027, 3, 12, 9), 20)
    s.get(Volunteer, gone.id).status = VolunteerStatus.SUSPENDED  # type: ignore[union-attr]
    # Someone whose March was all corrected away is not listed with 0 h.
    zero = scene.volunteer(0, "庚")
    reversal(s, service(s, zero, local(2027, 3, 3, 9), 2))
    s.flush()

    body = honour(client, scene, scene.tree.townships[0])  # month of today (15 March)
    assert (body["period"], body["start_date"], body["end_date"]) == (
        "month",
        "2027-03-01",
        "2027-03-31",
    )
    assert ranking(body) == [(1, "丙", 5.0), (2, "甲", 3.0), (2, "乙", 3.0), (4, "丁", 1.0)]
    assert body["items"][0]["station"] == {
        "id": scene.tree.stations[0].id,
        "name": scene.tree.stations[0].name,
    }

    county = honour(client, scene, scene.tree.county, date="2027-03-31")
    assert ranking(county) == [
        (1, "戊", 10.0),
        (2, "丙", 5.0),
        (3, "甲", 3.0),
        (3, "乙", 3.0),
        (5, "丁", 1.0),
    ]
    # A page shorter than the tie keeps the ranks of the whole list.
    assert ranking(honour(client, scene, scene.tree.county, limit=3)) == [
        (1, "戊", 10.0),
        (2, "丙", 5.0),
        (3, "甲", 3.0),
    ]
    april = honour(client, scene, scene.tree.townships[0], date="2027-04-01")
    assert ranking(april) == [(1, "丁", 9.0)]
    feb = honour(client, scene, scene.tree.townships[0], date="2027-02-01")
    assert ranking(feb) == [(1, "甲", 5.0)]
    year = honour(client, scene, scene.tree.townships[0], period="year", date="2027-12-31")
    assert (year["start_date"], year["end_date"]) == ("2027-01-01", "2027-12-31")
    assert ranking(year) == [(1, "丁", 10.0), (2, "甲", 8.0), (3, "丙", 5.0), (4, "乙", 3.0)]
    assert ranking(honour(client, scene, scene.tree.stations[3])) == []


def test_hours_keep_two_decimals(client: TestClient, scene: Scene) -> None:
    a = scene.volunteer(0, "甲")
    service(scene.session, a, local(2027, 3, 2, 9), 1)
    entry = service(scene.session, a, local(2027, 3, 3, 9), 0)
    assert entry.minutes == 0
    service(scene.session, a, local(2027, 3, 4, 9), 20 / 60)  # 20 minutes
    assert ranking(honour(client, scene, scene.tree.stations[0])) == [(1, "甲", 1.33)]


# ---------------------------------------------------------------- by rating


def test_honour_by_rating_with_a_minimum_count_and_tie_breaks(
    client: TestClient, scene: Scene
) -> None:
    s = scene.session
    p, t, q = scene.volunteer(0, "平"), scene.volunteer(1, "汤"), scene.volunteer(0, "秦")
    r, few, absent = scene.volunteer(1, "任"), scene.volunteer(0, "范"), scene.volunteer(0, "安")
    march = local(2027, 3, 10, 12)

    for rating in (5, 5, 4, 5, 5, 4):  # 4.67 from six ratings
        scene.rated(r, rating, march)
    for rating in (5, 5, 4):  # 4.67 from three, as P's team: Q served, the absentee did not
        scene.rated(p, rating, march, team=((q, "checked_out"), (absent, "rejected")))
    for rating in (4, 5, 5):
        scene.rated(t, rating, march)
    scene.rated(p, 1, local(2027, 2, 28, 23))  # rated in February
    scene.rated(few, 5, march)
    scene.rated(few, 5, march)
    # Hours in March break the tie of P and T with Q; P and T are equal in everything.
    for volunteer, hours in ((p, 2), (t, 2), (q, 1)):
        service(s, volunteer, local(2027, 3, 10, 9), hours)

    body = honour(client, scene, scene.tree.townships[0], by="rating")
    assert body["min_ratings"] == 3
    rows = [
        (row["rank"], row["name"], row["average_rating"], row["rating_count"], row["hours"])
        for row in body["items"]
    ]
    assert rows == [
        (1, "任", 4.67, 6, 0.0),
        (2, "平", 4.67, 3, 2.0),
        (2, "汤", 4.67, 3, 2.0),
        (4, "秦", 4.67, 3, 1.0),
    ]
    two = honour(client, scene, scene.tree.townships[0], by="rating", min_ratings=2)
    assert [(row["rank"], row["name"]) for row in two["items"]] == [
        (1, "范"),
        (2, "任"),
        (3, "平"),
        (3, "汤"),
        (5, "秦"),
    ]
    feb = honour(
        client, scene, scene.tree.townships[0], by="rating", date="2027-02-10", min_ratings=1
    )
    assert [(row["name"], row["average_rating"]) for row in feb["items"]] == [("平", 1.0)]
    # Stations 0 and 1 only: station 0's list has P, Q and the few; R and T live at station 1.
    station0 = honour(client, scene, scene.tree.stations[0], by="rating", min_ratings=2)
    assert [row["name"] for row in station0["items"]] == ["范", "平", "秦"]


# ---------------------------------------------------------------- by the season's theme


def test_honour_by_season_theme_counts_the_seasons_categories_and_days(
    client: TestClient, scene: Scene
) -> None:
    s = scene.session
    a, b, c = scene.volunteer(0, "甲"), scene.volunteer(1, "乙"), scene.volunteer(2, "丙")
    # The default calendar: 亲情季 (family) is 1 January to 30 April; elderly care and culture
    # fit it, rural revival does not.
    service(s, a, local(2027, 2, 3, 9), 3, category_code="elderly_orphan_care")
    service(s, a, local(2027, 3, 3, 9), 10, category_code="rural_revival")
    service(s, b, local(2027, 4, 30, 23), 2, category_code="culture")
    service(s, b, local(2027, 5, 1, 0, 30), 5, category_code="elderly_orphan_care")  # 成长季
    service(s, c, local(2027, 1, 1, 0, 0), 1, category_code="neighbourly_watch")
    service(s, c, local(2026, 12, 31, 23, 59), 7, category_code="civil_customs")  # last year

    body = honour(client, scene, scene.tree.county, by="season_theme")
    assert body["period"] == "season"
    assert body["season"]["code"] == "family"
    assert (body["start_date"], body["end_date"]) == ("2027-01-01", "2027-04-30")
    assert "elderly_orphan_care" in body["theme_category_codes"]
    assert "rural_revival" not in body["theme_category_codes"]
    assert ranking(body) == [(1, "甲", 3.0), (2, "乙", 2.0), (3, "丙", 1.0)]
    # The same season by plain hours counts every category.
    hours = honour(client, scene, scene.tree.county, period="season")
    assert ranking(hours) == [(1, "甲", 13.0), (2, "乙", 2.0), (3, "丙", 1.0)]
    # 成长季 starts on 1 May: B's elderly care then (a fit of 0.4) is in it.
    growth = honour(client, scene, scene.tree.county, by="season_theme", date="2027-05-01")
    assert growth["season"]["code"] == "growth"
    assert ranking(growth) == [(1, "乙", 5.0)]


def test_a_season_across_the_years_end_is_one_period(client: TestClient, scene: Scene) -> None:
    s = scene.session
    replace_periods(session=s, season_code="family", periods=[Period("02-01", "04-30")])
    replace_periods(session=s, season_code="integrity", periods=[Period("11-01", "01-31")])
    a, b = scene.volunteer(0, "甲"), scene.volunteer(0, "乙")
    service(s, a, local(2026, 11, 1, 8), 2, category_code="civil_customs")
    service(s, a, local(2027, 1, 31, 22), 1, category_code="policy_talks")
    service(s, b, local(2027, 2, 1, 0, 0), 9, category_code="civil_customs")  # 亲情季's
    service(s, b, local(2026, 10, 31, 23), 9, category_code="civil_customs")  # 丰收季's

    body = honour(client, scene, scene.tree.stations[0], by="season_theme", date="2027-01-10")
    assert body["season"]["code"] == "integrity"
    assert (body["start_date"], body["end_date"]) == ("2026-11-01", "2027-01-31")
    assert ranking(body) == [(1, "甲", 3.0)]


# ---------------------------------------------------------------- parameters and scope


def test_honour_list_bad_parameters_are_refused(client: TestClient, scene: Scene) -> None:
    url = f"{API}/org-units/{scene.tree.county.id}/honour-list"
    headers = scene.headers()
    for params in (
        {"by": "likes"},
        {"period": "week"},
        {"date": "2027-13-01"},
        {"date": "15/03/2027"},
        {"limit": 0},
        {"limit": 101},
        {"min_ratings": 0},
        {"by": "rating", "min_ratings": "many"},
    ):
        r = client.get(url, params=params, headers=headers)
        assert error_code(r, 422) == "VALIDATION_ERROR", params
    for params in ({"date": "1999-12-31"}, {"date": "9999-12-31"}, {"date": "0001-01-01"}):
        r = client.get(url, params=params, headers=headers)
        assert error_code(r, 400) == "HONOUR_DATE_OUT_OF_RANGE", params
    for period in ("month", "year"):
        r = client.get(url, params={"by": "season_theme", "period": period}, headers=headers)
        assert error_code(r, 400) == "HONOUR_THEME_NEEDS_SEASON"
    # A day no season covers.
    replace_periods(session=scene.session, season_code="growth", periods=[])
    for params in (
        {"by": "season_theme", "date": "2027-06-01"},
        {"period": "season", "date": "2027-06-01"},
    ):
        r = client.get(url, params=params, headers=headers)
        assert error_code(r, 404) == "NO_SEASON_ON_DATE", params
    assert client.get(url, params={"date": "2027-06-01"}, headers=headers).status_code == 200


def test_honour_list_scope(client: TestClient, scene: Scene) -> None:
    """Published lists: any logged-in user reads any unit's list; only units that exist."""
    s, tree = scene.session, scene.tree
    a = scene.volunteer(0, "甲")
    service(s, a, local(2027, 3, 2, 9), 2)
    url = f"{API}/org-units/{tree.townships[0].id}/honour-list"
    outsider = make_coordinator(s, tree.townships[1])
    for user in (scene.viewer, outsider, make_volunteer(s, tree.stations[3])[0]):
        r = client.get(url, headers=scene.headers(user))
        assert r.status_code == 200, r.text
        assert [row["name"] for row in r.json()["items"]] == ["甲"]
    assert error_code(client.get(url), 401) == "UNAUTHORIZED"
    unknown = client.get(f"{API}/org-units/2000000000/honour-list", headers=scene.headers())
    assert error_code(unknown, 404) == "ORG_UNIT_NOT_FOUND"
    # The other township's list does not show this township's volunteers.
    other = client.get(
        f"{API}/org-units/{tree.townships[1].id}/honour-list", headers=scene.headers()
    )
    assert other.json()["items"] == []


def test_a_volunteer_sees_their_own_rank_beyond_the_list(client: TestClient, scene: Scene) -> None:
    s = scene.session
    people = [scene.volunteer(0, name) for name in ("甲", "乙", "丙", "丁")]
    for hours, person in zip((8, 6, 6, 2), people, strict=True):
        service(s, person, local(2027, 3, 10, 9), hours)
    last = s.get(User, people[3].user_id)
    assert last is not None
    r = client.get(f"{API}/org-units/{scene.tree.county.id}/honour-list",
                   params={"limit": 2}, headers=scene.headers(last))  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert ranking(body) == [(1, "甲", 8.0), (2, "乙", 6.0)]
    assert (body["mine"]["rank"], body["mine"]["name"], body["mine"]["hours"]) == (4, "丁", 2.0)
    # Not a volunteer, or not on the list: no row of one's own.
    assert honour(client, scene, scene.tree.county, limit=2)["mine"] is None
    outsider = make_volunteer(s, scene.tree.stations[2])[0]
    r = client.get(f"{API}/org-units/{scene.tree.townships[0].id}/honour-list",
                   headers=scene.headers(outsider))  # fmt: skip
    assert r.status_code == 200 and r.json()["mine"] is None
