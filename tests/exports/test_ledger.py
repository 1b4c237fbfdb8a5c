"""The station's activity ledger (台账): the figures of the workbook are the sums of the hours
ledger, services are dated by the city's local day, names are masked, units outside the caller's
subtree are 404, and bad periods are refused with a stable code."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import openpyxl
import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.exports import ledger, router
from app.exports.errors import LedgerPeriodInverted, LedgerPeriodTooLong
from app.models import Attendance, HoursEntry, OrgUnit, User, Volunteer, Wish
from app.models.enums import AttendanceStatus, WishStatus
from app.org_units.service import in_subtree
from app.schemas import hours_of
from tests.fixtures.builders import (
    Tree,
    auth,
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
    make_visit,
)

API = "/api/v1"
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 on 25 November in Shanghai
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[datetime]:
    previous = clock.get_clock()
    clock.set_clock(lambda: NOW)
    try:
        yield NOW
    finally:
        clock.set_clock(previous)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """The instant of the city's wall-clock time on a day of 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=clock.zone()).astimezone(UTC)


@dataclass
class History:
    tree: Tree
    coordinator: User  # of townships[0]: stations 0 and 1
    a: Volunteer  # 欧阳小明, station 0
    b: Volunteer  # 张三, station 1
    c: Volunteer  # 李四, station 2 (outside)
    wishes: dict[str, Wish]

    @property
    def unit(self) -> OrgUnit:
        return self.tree.townships[0]


class Builder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.resident = make_resident(session)

    def volunteer(self, station: OrgUnit, name: str) -> Volunteer:
        return make_volunteer(self.session, station, user=make_user(self.session, name=name))[1]

    def wish(
        self, station: OrgUnit, lead: Volunteer, status: WishStatus, title: str, rating: int | None
    ) -> Wish:
        wish = make_wish(
            self.session, station=station, requester=self.resident, status=status, assignee=lead
        )
        wish.title = title
        wish.rating = rating
        self.session.flush()
        return wish

    def serve(
        self,
        wish: Wish,
        volunteer: Volunteer,
        at: datetime,
        minutes: int,
        status: AttendanceStatus = AttendanceStatus.CREDITED,
    ) -> Attendance:
        """A service record checked in at `at`, checked out `minutes` later; credited ones get
        their hours entry (the ledger takes inserts only)."""
        row = Attendance(
            wish_id=wish.id,
            volunteer_id=volunteer.id,
            unit_id=wish.station_id,
            is_lead=wish.assignee_id == volunteer.id,
            status=status,
            checked_in_at=at,
            check_in_method="gps",
            checked_out_at=at + timedelta(minutes=minutes),
            check_out_method="gps",
            confirmed_at=at + timedelta(hours=3) if status == AttendanceStatus.CREDITED else None,
        )
        self.session.add(row)
        self.session.flush()
        if status == AttendanceStatus.CREDITED:
            self.entry(volunteer, wish.station_id, at, minutes, wish=wish, attendance=row)
        return row

    def entry(
        self,
        volunteer: Volunteer,
        unit_id: int,
        at: datetime,
        minutes: int,
        *,
        category: str = "service",
        wish: Wish | None = None,
        attendance: Attendance | None = None,
        reverses: HoursEntry | None = None,
        replaces: HoursEntry | None = None,
    ) -> HoursEntry:
        entry = HoursEntry(
            volunteer_id=volunteer.id,
            category=category,
            unit_id=unit_id,
            wish_id=wish.id if wish else None,
            attendance_id=attendance.id if attendance else None,
            content=wish.title if wish else "社区志愿服务培训",
            started_at=at,
            ended_at=at + timedelta(minutes=abs(minutes)),
            minutes=minutes,
            verification="correction" if reverses or replaces else "record",
            reverses_id=reverses.id if reverses else None,
            replaces_id=replaces.id if replaces else None,
            reason="更正时长" if reverses or replaces else None,
            created_at=at + timedelta(hours=3),
        )
        self.session.add(entry)
        self.session.flush()
        return entry


@pytest.fixture
def history(session: Session) -> History:
    tree = make_tree(session)
    s0, s1, s2 = tree.stations[:3]
    build = Builder(session)
    a, b, c = (
        build.volunteer(s0, "欧阳小明"),
        build.volunteer(s1, "张三"),
        build.volunteer(s2, "李四"),
    )
    d = build.volunteer(s0, "王五")
    done, rated = WishStatus.COMPLETED, WishStatus.RATED
    w1 = build.wish(s0, a, rated, "陪独居老人就医", 5)
    build.serve(w1, a, local(3, 9), 90)
    build.serve(w1, b, local(3, 9, 10), 60)
    build.serve(w1, d, local(3, 9, 20), 30, AttendanceStatus.REJECTED)  # not served
    w2 = build.wish(s1, b, done, '=HYPERLINK("x") 代购药品', None)
    build.serve(w2, b, local(10, 14), 45, AttendanceStatus.CHECKED_OUT)  # awaiting confirmation
    w3 = build.wish(s0, a, rated, "清理楼道杂物", 3)
    first = build.serve(w3, a, local(20, 8), 120)
    original = session.scalars(select(HoursEntry).where(HoursEntry.attendance_id == first.id)).one()
    build.entry(a, s0.id, local(20, 8), -120, wish=w3, reverses=original)
    build.entry(a, s0.id, local(20, 8), 100, wish=w3, replaces=original)
    # 00:30 on 1 November in the city is still 31 October in UTC: inside the period.
    w4 = build.wish(s0, a, done, "早市帮扶", None)
    build.serve(w4, a, local(1, 0, 30), 30)
    # 23:30 on 31 October in the city: before the period.
    w5 = build.wish(s0, a, done, "十月的服务", None)
    build.serve(w5, a, local(31, 23, 30, month=10), 60)
    # A station of the other township: outside the subtree.
    w6 = build.wish(s2, c, done, "外镇服务", 4)
    build.serve(w6, c, local(5, 9), 60)
    # Records without a wish: training for A, a service recorded by hand for B.
    build.entry(a, s0.id, local(15, 19), 30, category="training")
    build.entry(b, s1.id, local(16, 10), 45)
    return History(
        tree=tree,
        coordinator=make_coordinator(session, tree.townships[0]),
        a=a,
        b=b,
        c=c,
        wishes={"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w5": w5, "w6": w6},
    )


def get(client: TestClient, settings: Settings, user: User, unit: OrgUnit, **params: Any) -> Any:
    return client.get(
        f"{API}/org-units/{unit.id}/ledger", params=params, headers=auth(user, settings)
    )


def ledger_minutes(session: Session, unit: OrgUnit, volunteer: Volunteer, category: str) -> int:
    """What the hours ledger says, asked directly: the entries recorded in the subtree with a
    start in November (local)."""
    total = session.scalar(
        select(func.coalesce(func.sum(HoursEntry.minutes), 0))
        .join(OrgUnit, OrgUnit.id == HoursEntry.unit_id)
        .where(
            in_subtree(OrgUnit.path, unit.path),
            HoursEntry.volunteer_id == volunteer.id,
            HoursEntry.category == category,
            HoursEntry.started_at >= local(1, 0),
            HoursEntry.started_at < local(1, 0, month=12),
        )
    )
    return int(total or 0)


def wish_minutes(session: Session, wish: Wish) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
            HoursEntry.wish_id == wish.id, HoursEntry.category == "service"
        )
    )
    return int(total or 0)


def rows_of(ws: Any) -> list[list[Any]]:
    """The table's rows under the title and header, up to the first empty row."""
    out = []
    for row in ws.iter_rows(min_row=3, values_only=True):
        if all(v is None for v in row):
            break
        out.append(list(row))
    return out


def test_workbook_figures_are_the_ledger_sums(
    client: TestClient, session: Session, settings: Settings, history: History
) -> None:
    r = get(client, settings, history.coordinator, history.unit, **NOVEMBER)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["服务台账", "志愿者时长", "汇总"]

    services = book["服务台账"]
    assert services.freeze_panes == "A3"
    assert services["A1"].value == f"{history.unit.name} 服务台账 2026-11-01 至 2026-11-30"
    assert [c.value for c in services[2]][:5] == ["服务日期", "单位", "类型", "编号", "服务内容"]
    rows = rows_of(services)
    w = history.wishes
    assert [row[3] for row in rows] == [w["w4"].id, w["w1"].id, w["w2"].id, w["w3"].id]
    assert {row[2] for row in rows} == {"心愿"}
    by_wish = {row[3]: row for row in rows}
    s0, s1 = history.tree.stations[:2]
    assert by_wish[w["w4"].id][0] == datetime(2026, 11, 1)  # the city's day, not UTC's
    assert by_wish[w["w1"].id][1:] == [
        s0.name, "心愿", w["w1"].id, "陪独居老人就医", "扶老救孤", "欧**明、张*", 2, 2.5, 0, 5
    ]  # fmt: skip
    assert by_wish[w["w2"].id][1] == s1.name
    assert by_wish[w["w2"].id][4] == '=HYPERLINK("x") 代购药品'  # text, never a formula
    assert by_wish[w["w2"].id][6:] == ["张*", 1, 0, 1, None]
    assert by_wish[w["w3"].id][8:] == [hours_of(100), 0, 3]
    for wish_key in ("w1", "w2", "w3", "w4"):
        assert by_wish[w[wish_key].id][8] == hours_of(wish_minutes(session, w[wish_key]))

    hours = book["志愿者时长"]
    table = {row[0]: row for row in rows_of(hours)}
    assert set(table) == {history.a.id, history.b.id}  # C served outside the subtree
    for volunteer in (history.a, history.b):
        service = ledger_minutes(session, history.unit, volunteer, "service")
        training = ledger_minutes(session, history.unit, volunteer, "training")
        assert table[volunteer.id][3:] == [hours_of(service), hours_of(training)]
    assert table[history.a.id][1:] == ["欧**明", s0.name, hours_of(90 + 100 + 30), 0.5]
    assert table[history.b.id][1:] == ["张*", s1.name, hours_of(60 + 45), 0]

    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=3, values_only=True)}
    assert summary["服务次数"] == 4
    assert summary["服务人次"] == 5
    assert summary["服务计入时长"] == hours_of(90 + 60 + 100 + 30)
    assert summary["待确认人次"] == 1
    assert summary["已评价服务"] == 2
    assert summary["平均评价"] == 4
    assert summary["记录时长的志愿者"] == 2
    assert summary["志愿者服务时长合计"] == hours_of(90 + 100 + 30 + 60 + 45)
    assert summary["志愿者培训时长合计"] == 0.5


def test_a_station_sees_its_own_services_only(session: Session, history: History) -> None:
    station = history.tree.stations[1]
    sheets = ledger.sheets(session, station, ledger.period(date(2026, 11, 1), date(2026, 11, 30)))
    services, hours, _ = sheets
    assert [row[3] for row in services.rows] == [history.wishes["w2"].id]
    # W1 was served at station 0 by B: B's entry is recorded (and certified) by station 0.
    assert [(row[0], row[3]) for row in hours.rows] == [(history.b.id, hours_of(45))]


def test_csv_is_the_service_sheet(client: TestClient, settings: Settings, history: History) -> None:
    r = get(client, settings, history.coordinator, history.unit, format="csv", **NOVEMBER)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "服务日期" and len(rows) == 5
    assert rows[1][0] == "2026-11-01"
    hostile = next(row for row in rows if row[3] == str(history.wishes["w2"].id))
    assert hostile[4] == '\'=HYPERLINK("x") 代购药品'
    disposition = r.headers["content-disposition"]
    name = f"{history.unit.name}台账2026-11-01-2026-11-30.csv"
    assert f'filename="ledger-{history.unit.id}-2026-11-01-2026-11-30.csv"' in disposition
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition


def test_pdf_names_the_stations(client: TestClient, settings: Settings, history: History) -> None:
    r = get(client, settings, history.coordinator, history.unit, format="pdf", **NOVEMBER)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    document = pdfium.PdfDocument(r.content)
    try:
        text = "".join(document[i].get_textpage().get_text_bounded() for i in range(len(document)))
    finally:
        document.close()
    flat = re.sub(r"\s+", "", text)
    for expected in (
        f"{history.unit.name}活动台账",
        history.tree.stations[0].name,
        history.tree.stations[1].name,
        "陪独居老人就医",
        "欧**明",
        "志愿者时长",
    ):
        assert expected in flat, expected
    assert history.tree.stations[2].name not in flat


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, 400, "LEDGER_PERIOD_INVERTED"),
        ({"from": "2025-11-01", "to": "2026-11-01"}, 400, "LEDGER_PERIOD_TOO_LONG"),
        ({"from": "1999-12-01", "to": "2000-01-31"}, 400, "LEDGER_DATE_OUT_OF_RANGE"),
        ({"from": "2100-01-01"}, 400, "LEDGER_DATE_OUT_OF_RANGE"),
        ({"from": "2026-13-01"}, 422, None),
        ({"format": "docx"}, 422, None),
    ],
)
def test_bad_periods_are_refused(
    client: TestClient,
    settings: Settings,
    history: History,
    params: dict[str, str],
    status: int,
    code: str | None,
) -> None:
    r = get(client, settings, history.coordinator, history.unit, **params)
    assert r.status_code == status, r.text
    if code is not None:
        assert r.json()["error"]["code"] == code
        assert re.search(r"[\u4e00-\u9fff]", r.json()["error"]["message"])


def test_a_whole_year_is_allowed_and_defaults_are_this_month() -> None:
    assert ledger.period(date(2026, 1, 1), date(2026, 12, 31)).last == date(2026, 12, 31)
    assert ledger.period(date(2024, 2, 29), date(2025, 2, 28)).first == date(2024, 2, 29)
    with pytest.raises(LedgerPeriodTooLong):
        ledger.period(date(2024, 2, 29), date(2025, 3, 1))
    with pytest.raises(LedgerPeriodInverted):
        ledger.period(date(2026, 11, 2), date(2026, 11, 1))
    assert ledger.period(None, None) == ledger.Period(date(2026, 11, 1), date(2026, 11, 25))
    assert ledger.period(None, date(2026, 10, 15)) == ledger.Period(
        date(2026, 10, 1), date(2026, 10, 15)
    )


def test_outsiders_get_404_and_residents_403(
    client: TestClient, session: Session, settings: Settings, history: History
) -> None:
    sibling = make_coordinator(session, history.tree.townships[1])
    r = get(client, settings, sibling, history.unit, **NOVEMBER)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ORG_UNIT_NOT_FOUND")
    r = get(client, settings, history.coordinator, history.tree.county, **NOVEMBER)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ORG_UNIT_NOT_FOUND")
    r = get(client, settings, make_resident(session), history.unit, **NOVEMBER)
    assert r.status_code == 403
    county = make_coordinator(session, history.tree.county)
    r = get(client, settings, county, history.tree.county, format="csv", **NOVEMBER)
    assert r.status_code == 200, r.text
    ids = [row[3] for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")))][1:]
    assert str(history.wishes["w6"].id) in ids and len(ids) == 5


def test_nothing_in_the_period_gives_empty_sheets(
    client: TestClient, settings: Settings, history: History
) -> None:
    r = get(
        client,
        settings,
        history.coordinator,
        history.unit,
        **{"from": "2026-06-01", "to": "2026-06-30"},
    )
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert rows_of(book["服务台账"]) == []
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=3, values_only=True)}
    assert summary["服务次数"] == 0 and summary["平均评价"] is None
    r = get(
        client,
        settings,
        history.coordinator,
        history.unit,
        format="pdf",
        **{"from": "2026-06-01", "to": "2026-06-30"},
    )
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_a_ledger_too_long_for_a_pdf_is_refused(
    client: TestClient,
    settings: Settings,
    history: History,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.exports import router

    monkeypatch.setattr(router, "PDF_MAX_ROWS", 3)
    r = get(client, settings, history.coordinator, history.unit, format="pdf", **NOVEMBER)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "LEDGER_TOO_LARGE_FOR_PDF"
    assert r.json()["error"]["details"] == {"rows": 4 + 2 + 11, "max": 3}  # every sheet's rows
    r = get(client, settings, history.coordinator, history.unit, format="xlsx", **NOVEMBER)
    assert r.status_code == 200


def test_a_second_pdf_meanwhile_is_refused_and_other_formats_still_answer(
    client: TestClient, settings: Settings, history: History
) -> None:
    # A PDF holds the font's lock, which the certificates share: one at a time per process.
    with router.PDF_SLOT:
        r = get(client, settings, history.coordinator, history.unit, format="pdf", **NOVEMBER)
        assert r.status_code == 429, r.text
        assert r.json()["error"]["code"] == "LEDGER_PDF_BUSY"
        assert int(r.headers["Retry-After"]) > 0
        for fmt in ("xlsx", "csv"):
            r = get(client, settings, history.coordinator, history.unit, format=fmt, **NOVEMBER)
            assert r.status_code == 200, r.text
    r = get(client, settings, history.coordinator, history.unit, format="pdf", **NOVEMBER)
    assert r.status_code == 200, r.text
    assert not router.PDF_SLOT.locked()


def test_activity_sessions_and_visits_are_rows_of_their_own(
    client: TestClient, session: Session, settings: Settings, history: History
) -> None:
    """A row per activity session and per pairing visit served in the period, beside the
    wishes: kind, title, publishing unit or station, masked volunteers, the hours credited
    through every correction of their records; outside the subtree or the period, none."""
    tree, build = history.tree, Builder(session)
    township, s1 = history.unit, tree.stations[1]
    d = build.volunteer(tree.stations[0], "王五")
    activity = make_activity(session, unit=township, starts_at=local(12, 9), title="重阳敬老活动")
    first = make_activity_session(session, activity, local(12, 9))
    second = make_activity_session(session, activity, local(19, 9))
    served = make_attendance(
        session, volunteer=history.a, unit=township, at=local(12, 9), minutes=120,
        activity_session=first,
    )  # fmt: skip
    credited = build.entry(history.a, township.id, local(12, 9), 120, attendance=served)
    # Corrected twice: 120 → 90 → 80 (each correction names the entry it corrects).
    build.entry(history.a, township.id, local(12, 9), -120, reverses=credited)
    once = build.entry(history.a, township.id, local(12, 9), 90, replaces=credited)
    build.entry(history.a, township.id, local(12, 9), -90, reverses=once)
    build.entry(history.a, township.id, local(12, 9), 80, replaces=once)
    make_attendance(
        session, volunteer=history.b, unit=township, at=local(12, 9, 5), minutes=60,
        activity_session=first, status=AttendanceStatus.CHECKED_OUT,
    )  # fmt: skip
    make_attendance(
        session, volunteer=d, unit=township, at=local(12, 9, 10), activity_session=first,
        status=AttendanceStatus.REJECTED,
    )  # fmt: skip
    # The second session was served by C, who lives in the other township: the activity's
    # publisher puts it in this subtree.
    later = make_attendance(
        session, volunteer=history.c, unit=township, at=local(19, 9), activity_session=second
    )
    build.entry(history.c, township.id, local(19, 9), 60, attendance=later)
    visit = make_visit(session, station=s1, volunteer=history.b, coarse_address="余村 3 组")
    at_home = make_attendance(
        session, volunteer=history.b, unit=s1, at=local(14, 10), minutes=45, visit=visit
    )
    build.entry(history.b, s1.id, local(14, 10), 45, attendance=at_home)
    # Outside: another township's activity, a visit of a station outside, October's session.
    s2 = tree.stations[2]
    elsewhere = make_activity(session, unit=tree.townships[1], starts_at=local(12, 9))
    make_attendance(
        session, volunteer=history.c, unit=tree.townships[1], at=local(12, 9),
        activity_session=make_activity_session(session, elsewhere, local(12, 9)),
    )  # fmt: skip
    make_attendance(
        session, volunteer=history.c, unit=s2, at=local(14, 10),
        visit=make_visit(session, station=s2, volunteer=history.c, coarse_address="外镇 5 组"),
    )  # fmt: skip
    october = make_activity_session(session, activity, local(20, 9, month=10))
    make_attendance(
        session, volunteer=d, unit=township, at=local(20, 9, month=10), activity_session=october
    )

    r = get(client, settings, history.coordinator, history.unit, **NOVEMBER)
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = rows_of(book["服务台账"])
    w = history.wishes
    assert [(row[2], row[3]) for row in rows] == [
        ("心愿", w["w4"].id), ("心愿", w["w1"].id), ("心愿", w["w2"].id), ("活动", first.id),
        ("走访", visit.id), ("活动", second.id), ("心愿", w["w3"].id),
    ]  # fmt: skip
    by_key = {(row[2], row[3]): row for row in rows}
    assert by_key[("活动", first.id)] == [
        datetime(2026, 11, 12), township.name, "活动", first.id, "重阳敬老活动", "扶老救孤",
        "欧**明、张*", 2, hours_of(80), 1, None,
    ]  # fmt: skip
    assert by_key[("活动", second.id)][1:] == [
        township.name, "活动", second.id, "重阳敬老活动", "扶老救孤", "李*", 1, 1.0, 0, None
    ]  # fmt: skip
    assert by_key[("走访", visit.id)][1:] == [
        s1.name, "走访", visit.id, "结对入户走访（余村 3 组）", None, "张*", 1, 0.75, 0, None
    ]  # fmt: skip
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=3, values_only=True)}
    assert summary["服务次数"] == 7
    assert summary["服务人次"] == 5 + 2 + 1 + 1
    assert summary["服务计入时长"] == hours_of(90 + 60 + 100 + 30 + 80 + 60 + 45)
    assert summary["待确认人次"] == 2
    # The per-volunteer sheet reads the hours ledger as before: the occasions' entries in it.
    assert summary["志愿者服务时长合计"] == hours_of(
        sum(
            ledger_minutes(session, history.unit, v, "service")
            for v in (history.a, history.b, history.c)
        )
    )

    r = get(client, settings, history.coordinator, history.unit, format="pdf", **NOVEMBER)
    assert r.status_code == 200, r.text
    document = pdfium.PdfDocument(r.content)
    try:
        text = "".join(document[i].get_textpage().get_text_bounded() for i in range(len(document)))
    finally:
        document.close()
    flat = re.sub(r"\s+", "", text)
    for expected in ("重阳敬老活动", "结对入户走访（余村3组）", "走访", "李*"):
        assert expected in flat, expected
    assert "外镇5组" not in flat
