"""The statistics API over a real section (tests/stats/probe.py): figures of a subtree over
local dates, series whose buckets add up, drill-downs whose totals are the figures, exports
that open in a spreadsheet, and every bad input a 4xx with its code."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.main import API_PREFIX
from app.models import HoursEntry, OrgUnit, User, Volunteer, Wish, WishEventRecord
from app.models.enums import WishStatus
from tests.fixtures.builders import (
    Tree,
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_user,
    make_volunteer,
    make_wish,
)
from tests.fixtures.programmes import (
    make_activity,
    make_activity_session,
    make_attendance,
    make_signup,
)
from tests.stats import probe


def local(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return clock.local_at(day, time(hour, minute))


NOV = {"from": "2026-11-01", "to": "2026-11-30"}


@dataclass
class Scene:
    session: Session
    settings: Settings
    tree: Tree
    coordinator: User  # of townships[0]: stations 0 and 1
    wishes: dict[str, Wish]
    events: list[int]
    hours: list[int]
    volunteer_id: int

    @property
    def unit(self) -> OrgUnit:
        return self.tree.townships[0]

    def url(self, tail: str = "", unit: OrgUnit | None = None) -> str:
        return f"{API_PREFIX}/org-units/{(unit or self.unit).id}/stats{tail}"

    def headers(self, user: User | None = None) -> dict[str, str]:
        return auth(user or self.coordinator, self.settings)


@pytest.fixture
def scene(session: Session, settings: Settings) -> Iterator[Scene]:
    tree = make_tree(session)
    resident = make_resident(session)
    helper = make_user(session, name="王晓峰")
    _, volunteer = make_volunteer(session, tree.stations[0], user=helper)

    def wish(station: int, at: datetime, category: str = "elderly_orphan_care", **kw: Any) -> Wish:
        row = make_wish(
            session,
            station=tree.stations[station],
            requester=resident,
            category=category,
            **kw,
        )
        row.submitted_at = at
        return row

    wishes = {
        "closed": wish(
            0, local(date(2026, 11, 2), 10), status=WishStatus.CLOSED, assignee=volunteer
        ),
        "late_evening": wish(1, local(date(2026, 11, 9), 23, 30), "culture"),
        "last_minute": wish(0, local(date(2026, 11, 30), 23, 59)),
        "december": wish(0, local(date(2026, 12, 1), 0, 10)),
        "outside": wish(2, local(date(2026, 11, 10))),
        "october": wish(1, local(date(2026, 10, 20)), "culture"),
    }
    events = []
    for name, at in (("closed", date(2026, 11, 3)), ("late_evening", date(2026, 11, 10))):
        event = WishEventRecord(
            wish_id=wishes[name].id,
            event="approve",
            from_status="submitted",
            to_status="approved",
            actor_role="coordinator",
            data={},
            created_at=local(at, 9),
        )
        session.add(event)
        session.flush()
        events.append(event.id)
    hours = []
    for station, day, minutes in ((0, 5, 90), (1, 20, 30), (2, 21, 60)):
        entry = HoursEntry(
            volunteer_id=volunteer.id,
            category="service",
            unit_id=tree.stations[station].id,
            content="陪老人就医",
            started_at=local(date(2026, 11, day), 9),
            ended_at=local(date(2026, 11, day), 11),
            minutes=minutes,
            verification="manual",
            created_at=local(date(2026, 11, day), 12),
        )
        session.add(entry)
        session.flush()
        hours.append(entry.id)
    session.flush()
    with probe.registered():
        yield Scene(
            session=session,
            settings=settings,
            tree=tree,
            coordinator=make_coordinator(session, tree.townships[0]),
            wishes=wishes,
            events=events,
            hours=hours[:2],
            volunteer_id=volunteer.id,
        )


def figures_of(body: dict[str, Any]) -> dict[tuple[str, str | None], Any]:
    [section] = [s for s in body["sections"] if s["key"] == probe.KEY]
    return {(f["key"], f["group"]): f["value"] for f in section["figures"]}


def code_of(response: Any) -> str:
    return str(response.json()["error"]["code"])


# ---------------------------------------------------------------- figures


def test_figures_count_the_subtree_over_local_dates(client: TestClient, scene: Scene) -> None:
    r = client.get(scene.url(), params=NOV, headers=scene.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unit"] == {"id": scene.unit.id, "name": scene.unit.name, "level": "township"}
    assert (body["from"], body["to"]) == ("2026-11-01", "2026-11-30")
    assert figures_of(body) == {
        # 23:59 on 30 November counts; 00:10 on 1 December (16:10 UTC on the 30th) does not.
        ("probe.wishes", None): 3,
        ("probe.wishes", "culture"): 1,
        ("probe.wishes", "elderly_orphan_care"): 2,
        ("probe.closed_rate", None): pytest.approx(1 / 3),
        ("probe.events", None): 2,
        ("probe.hours", None): 2.0,
        ("probe.volunteers", None): 1,
        ("probe.stations", None): 2,
    }
    [section] = [s for s in body["sections"] if s["key"] == probe.KEY]
    assert section["label"] == "测试板块"
    culture = next(f for f in section["figures"] if f["group"] == "culture")
    assert (culture["group_label"], culture["unit"], culture["drill"]) == (
        "文化惠民",
        "件",
        "wishes",
    )


def test_the_county_sees_more_and_an_admin_sees_all(client: TestClient, scene: Scene) -> None:
    county = make_coordinator(scene.session, scene.tree.county)
    r = client.get(scene.url(unit=scene.tree.county), params=NOV, headers=scene.headers(county))
    assert r.status_code == 200, r.text
    assert figures_of(r.json())[("probe.wishes", None)] == 4
    admin = make_admin(scene.session)
    r = client.get(scene.url(unit=scene.tree.city), params=NOV, headers=scene.headers(admin))
    assert figures_of(r.json())[("probe.hours", None)] == 3.0


def test_the_default_period_is_this_month_so_far(client: TestClient, scene: Scene) -> None:
    today = clock.local_day(clock.now())
    r = client.get(scene.url(), headers=scene.headers())
    assert r.status_code == 200, r.text
    assert (r.json()["from"], r.json()["to"]) == (
        today.replace(day=1).isoformat(),
        today.isoformat(),
    )
    r = client.get(scene.url(), params={"to": "2026-11-20"}, headers=scene.headers())
    assert (r.json()["from"], r.json()["to"]) == ("2026-11-01", "2026-11-20")


# ---------------------------------------------------------------- series


@pytest.mark.parametrize(
    ("bucket", "labels"),
    [
        ("month", ["2026年10月", "2026年11月"]),
        ("season", ["2026年丰收季", "2026年诚信季"]),
        ("year", ["2026年"]),
        ("week", None),
        ("day", None),
    ],
)
def test_series_buckets_add_up_to_the_period(
    client: TestClient, scene: Scene, bucket: str, labels: list[str] | None
) -> None:
    period = {"from": "2026-10-15", "to": "2026-11-30"}
    for group, whole in ((None, 4), ("culture", 2), ("elderly_orphan_care", 2)):
        params = {**period, "key": "probe.wishes", "bucket": bucket}
        if group:
            params["group"] = group
        r = client.get(scene.url("/series"), params=params, headers=scene.headers())
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["key"], body["group"], body["bucket"]) == ("probe.wishes", group, bucket)
        assert body["value"] == whole
        points = body["points"]
        assert sum(p["value"] or 0 for p in points) == whole
        # The buckets tile the period: first to last, no gap, no overlap.
        assert points[0]["from"] == "2026-10-15" and points[-1]["to"] == "2026-11-30"
        for before, after in itertools.pairwise(points):
            gap = date.fromisoformat(after["from"]) - date.fromisoformat(before["to"])
            assert gap.days == 1
        if labels is not None:
            assert [p["label"] for p in points] == labels


def test_series_by_week_and_day(client: TestClient, scene: Scene) -> None:
    params = {**NOV, "key": "probe.wishes", "bucket": "week"}
    points = client.get(scene.url("/series"), params=params, headers=scene.headers()).json()
    weeks = [(p["label"], p["from"], p["to"], p["value"]) for p in points["points"]]
    assert weeks[:2] == [
        ("2026年第44周", "2026-11-01", "2026-11-01", 0),  # a Sunday
        ("2026年第45周", "2026-11-02", "2026-11-08", 1),
    ]
    assert weeks[-1] == ("2026年第49周", "2026-11-30", "2026-11-30", 1)
    params["bucket"] = "day"
    days = client.get(scene.url("/series"), params=params, headers=scene.headers()).json()
    by_day = {p["from"]: p["value"] for p in days["points"]}
    assert len(by_day) == 30
    assert (by_day["2026-11-09"], by_day["2026-11-10"], by_day["2026-11-30"]) == (1, 0, 1)
    assert days["points"][8]["label"] == "2026年11月9日"


def test_a_rate_is_computed_in_each_bucket(client: TestClient, scene: Scene) -> None:
    params = {"from": "2026-10-01", "to": "2026-11-30", "key": "probe.closed_rate"}
    body = client.get(scene.url("/series"), params=params, headers=scene.headers()).json()
    assert body["unit"] == "%"
    assert [p["value"] for p in body["points"]] == [0.0, pytest.approx(1 / 3)]
    assert body["value"] == pytest.approx(1 / 4)


# ---------------------------------------------------------------- drill-down


@pytest.mark.parametrize(
    "key",
    ["probe.wishes", "probe.closed_rate", "probe.events", "probe.volunteers", "probe.stations"],
)
def test_drill_totals_are_the_counts(client: TestClient, scene: Scene, key: str) -> None:
    figures = figures_of(client.get(scene.url(), params=NOV, headers=scene.headers()).json())
    r = client.get(scene.url("/drill"), params={**NOV, "key": key}, headers=scene.headers())
    assert r.status_code == 200, r.text
    body = r.json()
    expected = figures[(key, None)]
    if key == "probe.closed_rate":  # the numerator of the rate
        expected = round(expected * figures[("probe.wishes", None)])
    assert body["total"] == expected == len(body["items"])


def test_drill_lists_the_rows_named_and_pages(client: TestClient, scene: Scene) -> None:
    w = scene.wishes
    params = {**NOV, "key": "probe.wishes", "limit": 2}
    first = client.get(scene.url("/drill"), params=params, headers=scene.headers()).json()
    assert (first["kind"], first["total"]) == ("wishes", 3)
    second = client.get(
        scene.url("/drill"), params={**params, "offset": 2}, headers=scene.headers()
    ).json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert ids == sorted([w["closed"].id, w["late_evening"].id, w["last_minute"].id])
    assert first["items"][0]["label"] == "帮独居老人买菜（扶老救孤）"
    assert first["items"][0]["at"] is not None
    culture = client.get(
        scene.url("/drill"), params={**NOV, "key": "probe.wishes", "group": "culture"},
        headers=scene.headers(),
    ).json()  # fmt: skip
    assert (culture["group"], culture["total"]) == ("culture", 1)
    assert [i["id"] for i in culture["items"]] == [w["late_evening"].id]
    assert culture["items"][0]["label"] == "帮独居老人买菜（文化惠民）"


@pytest.mark.parametrize(
    ("key", "kind", "labels"),
    [
        ("probe.events", "events", ["审核通过", "审核通过"]),
        ("probe.hours", "hours", ["陪老人就医（1.5 小时）", "陪老人就医（0.5 小时）"]),
        ("probe.volunteers", "volunteers", ["王*峰"]),
    ],
)
def test_drill_items_of_each_kind(
    client: TestClient, scene: Scene, key: str, kind: str, labels: list[str]
) -> None:
    body = client.get(
        scene.url("/drill"), params={**NOV, "key": key}, headers=scene.headers()
    ).json()
    assert body["kind"] == kind
    assert [i["label"] for i in body["items"]] == labels
    ids = {"events": scene.events, "hours": scene.hours, "volunteers": [scene.volunteer_id]}
    assert [i["id"] for i in body["items"]] == ids[kind]


def test_drill_units_are_named(client: TestClient, scene: Scene) -> None:
    params = {**NOV, "key": "probe.stations"}
    body = client.get(scene.url("/drill"), params=params, headers=scene.headers()).json()
    stations = scene.tree.stations[:2]
    assert body["kind"] == "units"
    assert [(i["id"], i["label"], i["at"]) for i in body["items"]] == [
        (s.id, s.name, None) for s in stations
    ]


# ---------------------------------------------------------------- exports


def test_export_xlsx_opens_with_chinese_headers_and_numbers(
    client: TestClient, scene: Scene
) -> None:
    r = client.get(scene.url("/export"), params=NOV, headers=scene.headers())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    assert f"stats-{scene.unit.id}-2026-11-01-2026-11-30.xlsx" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book["测试板块"]
    rows = list(sheet.iter_rows(values_only=True))
    assert scene.unit.name in rows[0][0] and "2026-11-01" in rows[0][0]
    assert rows[1] == ("指标", "分组", "数值", "单位")
    assert sheet.freeze_panes == "A3"
    table = {(row[0], row[1]): (row[2], row[3]) for row in rows[2:] if row[3] is not None}
    assert table[("点单数", None)] == (3, "件")
    assert table[("点单数", "文化惠民")] == (1, "件")
    assert table[("办结率", None)] == (33.33, "%")
    assert table[("服务时长", None)] == (2, "小时")
    assert all(isinstance(value, int | float) for value, _ in table.values())


def test_export_csv_is_one_section(client: TestClient, scene: Scene) -> None:
    params = {**NOV, "format": "csv", "section": probe.KEY}
    r = client.get(scene.url("/export"), params=params, headers=scene.headers())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["指标", "分组", "数值", "单位"]
    assert ["点单数", "", "3", "件"] in rows
    r = client.get(scene.url("/export"), params={**NOV, "format": "csv"}, headers=scene.headers())
    assert (r.status_code, code_of(r)) == (400, "STATS_SECTION_REQUIRED")


# ---------------------------------------------------------------- bad input


BAD = [
    ("", {"from": "2026-11-30", "to": "2026-11-01"}, 400, "STATS_PERIOD_INVERTED"),
    ("", {"from": "2023-01-01", "to": "2026-01-01"}, 400, "STATS_PERIOD_TOO_LONG"),
    ("", {"from": "1999-12-31", "to": "2000-01-02"}, 400, "STATS_DATE_OUT_OF_RANGE"),
    ("", {"from": "2026-02-30"}, 422, "VALIDATION_ERROR"),
    ("/series", {"key": "probe.wishes", "bucket": "fortnight"}, 422, "VALIDATION_ERROR"),
    (
        "/series",
        {"key": "probe.wishes", "bucket": "day", "from": "2025-01-01", "to": "2026-01-02"},
        400,
        "STATS_TOO_MANY_BUCKETS",
    ),
    ("/series", {"key": "probe.nothing"}, 404, "STATS_FIGURE_NOT_FOUND"),
    ("/series", {"key": "nowhere.wishes"}, 404, "STATS_FIGURE_NOT_FOUND"),
    ("/series", {"key": "probe.wishes", "group": "knitting"}, 404, "STATS_FIGURE_NOT_FOUND"),
    ("/series", {"key": "Bad Key"}, 422, "VALIDATION_ERROR"),
    ("/series", {}, 422, "VALIDATION_ERROR"),
    ("/drill", {"key": "probe.nothing"}, 404, "STATS_FIGURE_NOT_FOUND"),
    ("/drill", {"key": "probe.wishes", "limit": 0}, 422, "VALIDATION_ERROR"),
    ("/drill", {"key": "probe.wishes", "offset": -1}, 422, "VALIDATION_ERROR"),
    ("/export", {"section": "nowhere"}, 404, "STATS_SECTION_NOT_FOUND"),
    ("/export", {"format": "pdf"}, 422, "VALIDATION_ERROR"),
]


@pytest.mark.parametrize(("tail", "params", "status", "code"), BAD)
def test_bad_input_is_refused_with_a_code(
    client: TestClient, scene: Scene, tail: str, params: dict[str, Any], status: int, code: str
) -> None:
    r = client.get(scene.url(tail), params=params, headers=scene.headers())
    assert (r.status_code, code_of(r)) == (status, code), r.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["error"]["message"])


def test_a_period_of_exactly_three_years_is_answered(client: TestClient, scene: Scene) -> None:
    params = {"from": "2024-01-01", "to": "2026-12-31"}
    r = client.get(scene.url(), params=params, headers=scene.headers())
    assert r.status_code == 200, r.text
    params = {**params, "key": "probe.wishes", "bucket": "day", "to": "2024-12-31"}
    r = client.get(scene.url("/series"), params=params, headers=scene.headers())
    assert (r.status_code, len(r.json()["points"])) == (200, 366)


# ---------------------------------------------------------------- who may read


ROUTES = [("", {}), ("/series", {"key": "probe.wishes"}), ("/drill", {"key": "probe.wishes"}),
          ("/export", {})]  # fmt: skip


def test_stats_routes_scope(client: TestClient, scene: Scene) -> None:
    """Every statistics route: the township's coordinator reads its stations and itself; a
    station of the other township is 404 ORG_UNIT_NOT_FOUND (unknown keys included, so
    nothing tells an outside unit apart from a missing one); residents are refused."""
    inside = (scene.unit, scene.tree.stations[0], scene.tree.stations[1])
    outside = (scene.tree.stations[2], scene.tree.townships[1], scene.tree.county)
    for tail, params in ROUTES:
        for unit in inside:
            r = client.get(scene.url(tail, unit), params={**NOV, **params}, headers=scene.headers())
            assert r.status_code == 200, (tail, unit.name, r.text)
        for unit in outside:
            for extra in ({}, {"key": "probe.nothing"} if "key" in params else {}):
                query = {**NOV, **params, **extra}
                r = client.get(scene.url(tail, unit), params=query, headers=scene.headers())
                assert (r.status_code, code_of(r)) == (404, "ORG_UNIT_NOT_FOUND"), tail
        resident = make_resident(scene.session)
        r = client.get(scene.url(tail), params={**NOV, **params}, headers=scene.headers(resident))
        assert (r.status_code, code_of(r)) == (403, "STAFF_ONLY")
        assert client.get(scene.url(tail), params={**NOV, **params}).status_code == 401
    station = client.get(
        scene.url(unit=scene.tree.stations[1]), params=NOV, headers=scene.headers()
    ).json()
    assert figures_of(station)[("probe.wishes", None)] == 1


# ---------------------------------------------------------------- the registered sections


def test_every_registered_count_drills_to_its_rows(client: TestClient, scene: Scene) -> None:
    """Over every section registered in the app (not only the probe): each count (件, 人, 人次,
    个) drills to exactly as many rows as it says, an activity's figures among them."""
    completed = WishEventRecord(
        wish_id=scene.wishes["closed"].id,
        event="check_out",
        from_status="in_service",
        to_status="completed",
        actor_role="volunteer",
        data={},
        created_at=local(date(2026, 11, 4), 16),
    )
    scene.session.add(completed)
    scene.session.flush()
    held = local(date(2026, 11, 5), 9)
    activity = make_activity(scene.session, unit=scene.unit, starts_at=held, title="敬老义诊")
    occasion = make_activity_session(scene.session, activity, held)
    volunteer = scene.session.get(Volunteer, scene.volunteer_id)
    assert volunteer is not None
    make_signup(scene.session, activity, volunteer)
    make_attendance(
        scene.session,
        volunteer=volunteer,
        unit=scene.unit,
        at=held,
        activity_session=occasion,
    )
    body = client.get(scene.url(), params=NOV, headers=scene.headers()).json()
    checked = []
    for section in body["sections"]:
        for figure in section["figures"]:
            counted = ("件", "人", "人次", "个")
            if figure["unit"] not in counted or not isinstance(figure["value"], int):
                continue
            params = {**NOV, "key": figure["key"], "limit": 1}
            if figure["group"] is not None:
                params["group"] = figure["group"]
            drilled = client.get(scene.url("/drill"), params=params, headers=scene.headers())
            assert drilled.status_code == 200, drilled.text
            assert drilled.json()["total"] == figure["value"], figure
            checked.append((figure["key"], figure["value"]))
    assert len({key for key, _ in checked}) > 5
    assert any(value > 0 for key, value in checked if not key.startswith(probe.KEY))
    for key, kind in (
        ("seasons.activities", "activities"),
        ("seasons.places", "signups"),
        ("seasons.attendances", "attendances"),
    ):
        assert (key, 1) in checked
        drilled = client.get(
            scene.url("/drill"), params={**NOV, "key": key}, headers=scene.headers()
        ).json()
        assert drilled["kind"] == kind
        assert [item["label"].split("（")[0].split(" · ")[0] for item in drilled["items"]] == [
            "敬老义诊"
        ]


def test_sections_are_shown_in_their_order(client: TestClient, scene: Scene) -> None:
    body = client.get(scene.url(), params=NOV, headers=scene.headers()).json()
    keys = [s["key"] for s in body["sections"]]
    assert keys == ["intake", "speed", "outcomes", "people", "coverage", "seasons", probe.KEY]
    r = client.get(scene.url("/export"), params=NOV, headers=scene.headers())
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert len(book.sheetnames) == len(keys) and book.sheetnames[-1] == "测试板块"
    for sheet in book.worksheets:
        assert next(sheet.iter_rows(min_row=2, max_row=2, values_only=True)) == (
            "指标", "分组", "数值", "单位",
        )  # fmt: skip


def test_credited_hours_by_week_add_up(client: TestClient, scene: Scene) -> None:
    figures = client.get(scene.url(), params=NOV, headers=scene.headers()).json()
    [people] = [s for s in figures["sections"] if s["key"] == "people"]
    hours = next(f["value"] for f in people["figures"] if f["key"] == "people.hours")
    assert hours == 2.0
    params = {**NOV, "key": "people.hours", "bucket": "week"}
    body = client.get(scene.url("/series"), params=params, headers=scene.headers()).json()
    assert body["value"] == hours
    assert sum(p["value"] for p in body["points"]) == pytest.approx(hours)
    assert [p["value"] for p in body["points"] if p["value"]] == [1.5, 0.5]
