"""A coordinator records a volunteer's qualifications and insurance; matching counts them."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.models.enums import WishStatus
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"


def test_recorded_qualification_and_insurance_make_a_volunteer_eligible(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    """A coordinator records a certificate and insurance over the API; matching then counts the
    volunteer in. An expired certificate, or one for a skill the catalogue lacks, is refused or
    still rules the volunteer out."""
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, station)
    wish = make_wish(session, station=station, requester=make_resident(session),
                     status=WishStatus.APPROVED, skills=("first_aid",),
                     category="disaster_study")  # fmt: skip
    day = wish.wanted_start_at.date()
    _, volunteer = make_volunteer(session, station, birth_date=date(1990, 5, 1))
    headers = auth(coordinator, settings)

    def reasons() -> set[str]:
        r = client.get(
            f"{API}/wishes/{wish.id}/candidates",
            params={"include_ineligible": True},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        if any(c["volunteer_id"] == volunteer.id for c in body["candidates"]):
            return set()
        [entry] = [i for i in body["ineligible"] if i["volunteer_id"] == volunteer.id]
        return {x["code"] for x in entry["reasons"]}

    assert reasons() == {"SKILL_MISSING", "NEEDS_INSURANCE"}
    base = f"{API}/volunteers/{volunteer.id}"
    expired = str(day - timedelta(days=1))
    r = client.put(f"{base}/qualification", headers=headers,
                   json={"skill_code": "first_aid", "qualified_until": expired})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["qualifications"] == {"first_aid": expired}
    assert reasons() == {"NEEDS_QUALIFICATION", "NEEDS_INSURANCE"}
    r = client.put(f"{base}/qualification", headers=headers,
                   json={"skill_code": "no_such_skill", "qualified_until": str(day)})  # fmt: skip
    assert r.status_code == 400 and r.json()["error"]["code"] == "UNKNOWN_SKILL", r.text
    r = client.put(f"{base}/insurance", headers=headers, json={"insured_until": "明年"})
    assert r.status_code == 422, r.text
    assert reasons() == {"NEEDS_QUALIFICATION", "NEEDS_INSURANCE"}
    r = client.put(f"{base}/qualification", headers=headers,
                   json={"skill_code": "first_aid", "qualified_until": str(day)})  # fmt: skip
    assert r.status_code == 200, r.text
    r = client.put(f"{base}/insurance", headers=headers, json={"insured_until": str(day)})
    assert r.status_code == 200 and r.json()["insured_until"] == str(day), r.text
    assert reasons() == set()
