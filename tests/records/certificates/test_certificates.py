"""Record certificates (记录证明): whoever recorded, certifies.

A certificate covers only the service recorded by the issuing unit's subtree, snapshots the
credited minutes (reversals included), refuses when there is nothing to certify, renders as a
PDF with an embedded Chinese font, and can be checked by anyone by its number, with the name
masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from reportlab.pdfbase import pdfmetrics
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.models import Certificate, HoursEntry, OrgUnit, User, Volunteer
from app.records.certificates import pdf as certificate_pdf
from app.records.certificates.service import mask_name, summarise
from tests.fixtures.builders import (
    Tree,
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_user,
    make_volunteer,
)

API = "/api/v1"
# 01:30 on 26 November in Shanghai, still the 25th in UTC: dates shown are the city's.
NOW = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[datetime]:
    previous = clock.get_clock()
    clock.set_clock(lambda: NOW)
    try:
        yield NOW
    finally:
        clock.set_clock(previous)


# ---------------------------------------------------------------- helpers


def record(
    session: Session,
    volunteer: Volunteer,
    unit: OrgUnit,
    minutes: int,
    *,
    content: str = "帮独居老人买菜",
    days_ago: int = 10,
    category: str = "service",
    reverses: HoursEntry | None = None,
    replaces: HoursEntry | None = None,
) -> HoursEntry:
    """An hours entry recorded by `unit`, inserted directly (the ledger takes inserts only)."""
    started = NOW - timedelta(days=days_ago)
    entry = HoursEntry(
        volunteer_id=volunteer.id,
        category=category,
        unit_id=unit.id,
        content=content,
        started_at=started,
        ended_at=started + timedelta(minutes=abs(minutes)),
        minutes=minutes,
        verification="correction" if reverses or replaces else "record",
        reverses_id=reverses.id if reverses else None,
        replaces_id=replaces.id if replaces else None,
        reason="更正" if reverses or replaces else None,
        created_at=NOW,
    )
    session.add(entry)
    session.flush()
    return entry


def certificate_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Certificate)) or 0


def error_code(response: Response) -> str:
    return str(response.json()["error"]["code"])


def issue(
    client: TestClient, settings: Settings, user: User, volunteer: Volunteer, **body: Any
) -> Response:
    return client.post(
        f"{API}/volunteers/{volunteer.id}/certificates", json=body, headers=auth(user, settings)
    )


@pytest.fixture
def tree(session: Session) -> Tree:
    return make_tree(session)


# ---------------------------------------------------------------- issuing


def test_coordinator_issues_for_their_unit_subtree_only(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    coordinator = make_coordinator(session, tree.townships[0])
    user, volunteer = make_volunteer(session, tree.stations[0])
    record(session, volunteer, tree.stations[0], 90, content="帮独居老人买菜", days_ago=30)
    record(session, volunteer, tree.stations[1], 60, content="社区环境整治", days_ago=5)
    record(session, volunteer, tree.stations[2], 120, content="另一镇的服务", days_ago=1)
    record(session, volunteer, tree.stations[0], 45, category="training", content="急救培训")

    r = issue(client, settings, coordinator, volunteer)

    assert r.status_code == 201, r.text
    body = r.json()
    assert body["unit"] == {"id": tree.townships[0].id, "name": tree.townships[0].name}
    assert (body["minutes"], body["hours"], body["entry_count"]) == (150, 2.5, 2)
    assert body["content"] == "帮独居老人买菜；社区环境整治"
    assert body["first_service_at"] == (NOW - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    assert body["volunteer_name"] == user.name
    assert re.fullmatch(rf"{tree.townships[0].code}-20261126-[A-Z2-7]{{8}}", body["number"])
    row = session.scalars(select(Certificate).where(Certificate.number == body["number"])).one()
    assert (row.unit_id, row.minutes, row.issued_by_id) == (
        tree.townships[0].id,
        150,
        coordinator.id,
    )


def test_a_sibling_stations_entries_are_not_certified(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    coordinator = make_coordinator(session, tree.stations[0])
    _, volunteer = make_volunteer(session, tree.stations[0])
    record(session, volunteer, tree.stations[0], 90)
    record(session, volunteer, tree.stations[1], 600, content="邻村的服务")

    r = issue(client, settings, coordinator, volunteer)

    assert r.status_code == 201, r.text
    assert (r.json()["minutes"], r.json()["entry_count"]) == (90, 1)
    assert "邻村" not in r.json()["content"]
    # The township above both stations certifies both.
    county = issue(
        client,
        settings,
        make_coordinator(session, tree.county),
        volunteer,
        unit_id=tree.townships[0].id,
    )
    assert county.status_code == 201, county.text
    assert county.json()["minutes"] == 690


def test_volunteer_asks_a_unit_that_recorded_their_service(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    user, volunteer = make_volunteer(session, tree.stations[0])
    # Served away from home: the recording station certifies.
    record(session, volunteer, tree.stations[2], 75, content="文明交通劝导")
    headers = auth(user, settings)

    r = client.post(
        f"{API}/me/certificates", json={"unit_id": tree.stations[2].id}, headers=headers
    )

    assert r.status_code == 201, r.text
    assert (r.json()["unit"]["id"], r.json()["minutes"], r.json()["hours"]) == (
        tree.stations[2].id,
        75,
        1.25,
    )
    mine = client.get(f"{API}/me/certificates", headers=headers)
    assert mine.status_code == 200, mine.text
    assert [c["number"] for c in mine.json()["items"]] == [r.json()["number"]]

    before = certificate_count(session)
    refused = client.post(
        f"{API}/me/certificates", json={"unit_id": tree.stations[3].id}, headers=headers
    )
    assert (refused.status_code, error_code(refused)) == (400, "NOTHING_TO_CERTIFY")
    unknown = client.post(f"{API}/me/certificates", json={"unit_id": 999_999}, headers=headers)
    assert (unknown.status_code, error_code(unknown)) == (404, "ORG_UNIT_NOT_FOUND")
    assert certificate_count(session) == before


def test_a_reversing_entry_reduces_the_certified_minutes(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    coordinator = make_coordinator(session, tree.stations[0])
    _, volunteer = make_volunteer(session, tree.stations[0])
    original = record(session, volunteer, tree.stations[0], 120, content="误记的服务", days_ago=40)
    record(session, volunteer, tree.stations[0], -120, reverses=original, days_ago=40)
    record(session, volunteer, tree.stations[0], 60, replaces=original, content="更正后的服务")
    record(session, volunteer, tree.stations[0], 30, content="帮独居老人买菜", days_ago=3)

    r = issue(client, settings, coordinator, volunteer)

    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["minutes"], body["hours"], body["entry_count"]) == (90, 1.5, 2)
    assert "误记" not in body["content"]  # the reversed entry no longer stands


def test_nothing_to_certify_is_refused_and_writes_nothing(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    coordinator = make_coordinator(session, tree.townships[0])
    _, volunteer = make_volunteer(session, tree.stations[0])
    record(session, volunteer, tree.stations[0], 120, category="training")
    reversed_entry = record(session, volunteer, tree.stations[0], 60)
    record(session, volunteer, tree.stations[0], -60, reverses=reversed_entry)
    record(session, volunteer, tree.stations[2], 300)  # outside the issuing unit
    before = certificate_count(session)

    r = issue(client, settings, coordinator, volunteer)

    assert (r.status_code, error_code(r)) == (400, "NOTHING_TO_CERTIFY")
    assert certificate_count(session) == before


def test_certificate_routes_scope(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    """The coordinator of townships[0] acts only inside it; others see nothing of it."""
    coordinator = make_coordinator(session, tree.townships[0])
    other_coordinator = make_coordinator(session, tree.townships[1])
    inside_user, inside = make_volunteer(session, tree.stations[0])
    _, outside = make_volunteer(session, tree.stations[2])
    for volunteer in (inside, outside):
        record(session, volunteer, tree.stations[0], 60)
        record(session, volunteer, tree.stations[2], 60)
    # A certificate the other township issued to the inside volunteer, at their request.
    theirs = client.post(
        f"{API}/me/certificates",
        json={"unit_id": tree.townships[1].id},
        headers=auth(inside_user, settings),
    )
    assert theirs.status_code == 201, theirs.text
    number = theirs.json()["number"]
    before = certificate_count(session)
    headers = auth(coordinator, settings)

    r = issue(client, settings, coordinator, outside)
    assert (r.status_code, error_code(r)) == (404, "VOLUNTEER_NOT_FOUND")
    r = issue(client, settings, coordinator, inside, unit_id=tree.townships[1].id)
    assert (r.status_code, error_code(r)) == (404, "ORG_UNIT_NOT_FOUND")
    r = issue(client, settings, coordinator, inside, unit_id=tree.stations[3].id)
    assert (r.status_code, error_code(r)) == (404, "ORG_UNIT_NOT_FOUND")
    assert certificate_count(session) == before

    r = client.get(f"{API}/volunteers/{outside.id}/certificates", headers=headers)
    assert (r.status_code, error_code(r)) == (404, "VOLUNTEER_NOT_FOUND")
    listed = client.get(f"{API}/volunteers/{inside.id}/certificates", headers=headers)
    assert [c["number"] for c in listed.json()["items"]] == [number]
    # The other township recorded service for the inside volunteer, but does not see them.
    r = issue(client, settings, other_coordinator, inside, unit_id=tree.townships[1].id)
    assert (r.status_code, error_code(r)) == (404, "VOLUNTEER_NOT_FOUND")

    # The PDF: the volunteer and the issuing unit's coordinators, nobody else.
    pdf = f"{API}/certificates/{number}/pdf"
    r = client.get(pdf, headers=headers)
    assert (r.status_code, error_code(r)) == (404, "CERTIFICATE_NOT_FOUND")
    other_user, _ = make_volunteer(session, tree.stations[0])
    r = client.get(pdf, headers=auth(other_user, settings))
    assert (r.status_code, error_code(r)) == (404, "CERTIFICATE_NOT_FOUND")
    assert client.get(pdf, headers=auth(inside_user, settings)).status_code == 200
    assert client.get(pdf, headers=auth(other_coordinator, settings)).status_code == 200
    assert client.get(pdf).status_code == 401

    # Roles: issuing for others is for staff, asking for oneself for volunteers.
    resident = make_resident(session)
    r = issue(client, settings, resident, inside)
    assert (r.status_code, error_code(r)) == (403, "STAFF_ONLY")
    r = client.post(
        f"{API}/me/certificates",
        json={"unit_id": tree.stations[0].id},
        headers=auth(resident, settings),
    )
    assert (r.status_code, error_code(r)) == (403, "NOT_A_VOLUNTEER")
    assert certificate_count(session) == before


def test_an_admin_without_a_unit_names_the_issuing_unit(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    from app.models.enums import AccountRole

    admin = make_user(session, roles=[(AccountRole.ADMIN, None)])
    _, volunteer = make_volunteer(session, tree.stations[0])
    record(session, volunteer, tree.stations[0], 60)

    r = issue(client, settings, admin, volunteer)
    assert (r.status_code, error_code(r)) == (400, "ISSUING_UNIT_REQUIRED")
    r = issue(client, settings, admin, volunteer, unit_id=tree.county.id)
    assert r.status_code == 201, r.text
    assert r.json()["unit"]["id"] == tree.county.id


def test_staff_list_is_newest_first_and_paged(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    coordinator = make_coordinator(session, tree.stations[0])
    _, volunteer = make_volunteer(session, tree.stations[0])
    record(session, volunteer, tree.stations[0], 60)
    numbers = [issue(client, settings, coordinator, volunteer).json()["number"] for _ in range(3)]
    headers = auth(coordinator, settings)
    url = f"{API}/volunteers/{volunteer.id}/certificates"

    first = client.get(url, params={"limit": 2}, headers=headers).json()
    rest = client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    ).json()

    assert [c["number"] for c in first["items"] + rest["items"]] == numbers[::-1]
    assert rest["next_cursor"] is None
    assert len(set(numbers)) == 3


# ---------------------------------------------------------------- public verification


def test_public_verification_masks_the_name(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    coordinator = make_coordinator(session, tree.stations[0])
    user = make_user(session, name="张小三")
    _, volunteer = make_volunteer(session, tree.stations[0], user=user)
    record(session, volunteer, tree.stations[0], 150)
    number = issue(client, settings, coordinator, volunteer).json()["number"]

    r = client.get(f"{API}/public/certificates/{number}")  # no Authorization header

    assert r.status_code == 200, r.text
    assert r.json() == {
        "valid": True,
        "number": number,
        "volunteer_name": "张*三",
        "unit_name": tree.stations[0].name,
        "issued_date": "2026-11-26",
        "hours": 2.5,
    }
    code, day, random_part = number.split("-")
    lower = client.get(f"{API}/public/certificates/{code}-{day}-{random_part.lower()}")
    assert lower.status_code == 200 and lower.json()["number"] == number

    unknown = f"{code}-{day}-{'A' * 8 if random_part != 'A' * 8 else 'B' * 8}"
    for wrong in (unknown, "abc", "1-2-3", number + "X", "x" * 300):
        r = client.get(f"{API}/public/certificates/{wrong}")
        assert (r.status_code, error_code(r)) == (404, "CERTIFICATE_NOT_FOUND"), wrong


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张小三", "张*三"), ("欧阳小明", "欧**明"), ("李", "*"), ("", "*")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_content_summary_fits_the_column() -> None:
    contents = [f"第{i}次社区环境整治与垃圾分类宣传" for i in range(100)] * 2
    text = summarise(contents)
    assert len(text) <= 1000
    assert text.startswith("第0次社区环境整治与垃圾分类宣传；第1次")
    assert text.endswith("等100项")
    assert summarise(["买菜", "买菜", " ", "陪聊"]) == "买菜；陪聊"


# ---------------------------------------------------------------- the PDF


def test_pdf_draws_the_chinese_text_with_an_embedded_font(
    client: TestClient, session: Session, settings: Settings, tree: Tree
) -> None:
    coordinator = make_coordinator(session, tree.stations[0])
    # 玥 is outside GB2312: the shipped font must cover names beyond it.
    user = make_user(session, name="欧阳玥")
    _, volunteer = make_volunteer(session, tree.stations[0], user=user)
    record(session, volunteer, tree.stations[0], 150, content="帮独居老人买菜")
    number = issue(client, settings, coordinator, volunteer).json()["number"]

    r = client.get(f"{API}/certificates/{number}/pdf", headers=auth(user, settings))

    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="certificate-{number}.pdf"')
    assert "filename*=UTF-8''" in disposition
    data = r.content
    assert data.startswith(b"%PDF-")
    # The CJK font is embedded (TrueType outlines), not left to the viewer.
    assert b"/FontFile2" in data
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+WenQuanYiMicroHei", data)

    document = pdfium.PdfDocument(data)
    try:
        assert len(document) == 1
        _check_page(document[0], volunteer, tree.stations[0].name, number)
    finally:
        document.close()


def _check_page(page: pdfium.PdfPage, volunteer: Volunteer, unit_name: str, number: str) -> None:
    textpage = page.get_textpage()
    text = textpage.get_text_bounded()
    flat = re.sub(r"\s*\n", "", text)  # the lines as wrapped, joined again
    for expected in (
        "志愿服务记录证明",
        "欧阳玥",
        f"志愿者编号：{volunteer.id}",
        "2.5 小时",
        unit_name,
        number,
        "2026年11月26日",
        "帮独居老人买菜",
        "《志愿服务条例》",
        "《志愿服务记录与证明出具办法》",
        f"/api/v1/public/certificates/{number}",
    ):
        assert expected in flat, expected
    # Every character drawn has a real glyph in the font (no tofu boxes).
    face = pdfmetrics.getFont(certificate_pdf.font()).face
    assert all(ord(ch) in face.charToGlyph for ch in set(text) if not ch.isspace())

    # The name's box on the rendered page has ink in it.
    searcher = textpage.search("欧阳玥")
    found = searcher.get_next()
    assert found is not None
    index, count = found
    boxes = [textpage.get_charbox(i) for i in range(index, index + count)]
    left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
    bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
    scale = 2
    pixels = page.render(scale=scale, grayscale=True).to_numpy()
    height = page.get_height()
    region = pixels[
        int((height - top) * scale) : int((height - bottom) * scale) + 1,
        int(left * scale) : int(right * scale) + 1,
    ]
    assert region.size > 0
    dark = (region < 128).mean()
    assert dark > 0.05, f"the name's region is nearly blank ({dark:.3f} dark)"
    blank = pixels[5:40, 5:40]  # the page margin, outside the border
    assert (blank < 128).mean() == 0
