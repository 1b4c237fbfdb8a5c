"""Consent texts are versioned data; a grant names the version read; a stale or unknown version
is refused; withdrawing location consent erases the fixes kept under it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.models import Attendance, Consent
from app.models.enums import WishStatus
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"


def error(r: Any) -> str:
    return str(r.json()["error"]["code"])


def consents(session: Session, user_id: int) -> list[tuple[str, bool, str | None, str | None]]:
    session.expire_all()
    return [
        (c.purpose, c.granted, c.version, c.method)
        for c in session.scalars(
            select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)
        )
    ]


def test_texts_are_read_before_signing_in(client: TestClient) -> None:
    r = client.get(f"{API}/consent-texts/location")
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["title"]) == ("1", "签到签退位置信息授权")
    assert "不记录行动轨迹" in r.json()["body"]
    assert client.get(f"{API}/consent-texts/personal_info").json()["version"] == "1"
    r = client.get(f"{API}/consent-texts/location", params={"version": "9"})
    assert (r.status_code, error(r)) == (404, "CONSENT_TEXT_NOT_FOUND")
    assert client.get(f"{API}/consent-texts/marketing").status_code == 422


def test_a_grant_names_the_current_version(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = make_resident(session)
    h = auth(user, settings)
    r = client.put(f"{API}/me/consents/location", json={"granted": True}, headers=h)
    assert (r.status_code, error(r)) == (422, "VALIDATION_ERROR")
    r = client.put(f"{API}/me/consents/location", json={"granted": True, "version": "7"}, headers=h)
    assert (r.status_code, error(r)) == (400, "CONSENT_VERSION_UNKNOWN")
    assert r.json()["error"]["details"]["current_version"] == "1"
    assert consents(session, user.id) == []
    r = client.put(f"{API}/me/consents/location", json={"granted": True, "version": "1"}, headers=h)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["granted"], got["version"], got["method"], got["up_to_date"]) == (
        True,
        "1",
        "app",
        True,
    )
    assert consents(session, user.id) == [("location", True, "1", "app")]
    listed = {
        c["purpose"]: c["granted"] for c in client.get(f"{API}/me/consents", headers=h).json()
    }
    assert listed == {"location": True, "personal_info": False}


def test_a_new_version_makes_the_old_one_stale(
    client: TestClient, session: Session, settings: Settings
) -> None:
    from app.privacy.consent import today as local_today

    user = make_resident(session)
    h = auth(user, settings)
    admin = auth(make_admin(session), settings)
    today = local_today(clock.now())  # the city's date, as the service judges effective dates
    new = {
        "purpose": "location",
        "version": "2",
        "title": "签到签退位置信息授权（修订）",
        "body": "修订后的说明……",
        "effective_date": (today + timedelta(days=1)).isoformat(),
    }
    r = client.post(f"{API}/admin/consent-texts", json=new, headers=admin)
    assert r.status_code == 201, r.text
    r = client.post(f"{API}/admin/consent-texts", json=new, headers=admin)
    assert (r.status_code, error(r)) == (409, "CONSENT_VERSION_EXISTS")
    backdated = {**new, "version": "3", "effective_date": "2020-01-01"}
    r = client.post(f"{API}/admin/consent-texts", json=backdated, headers=admin)
    assert (r.status_code, error(r)) == (400, "EFFECTIVE_DATE_IN_PAST")
    # Not in force until tomorrow: version 1 is still the one to agree to.
    r = client.put(f"{API}/me/consents/location", json={"granted": True, "version": "1"}, headers=h)
    assert r.status_code == 200, r.text
    later = clock.now() + timedelta(days=2)
    clock.set_clock(lambda: later)
    try:
        h = auth(user, settings)  # a token of that day
        assert client.get(f"{API}/consent-texts/location").json()["version"] == "2"
        mine = client.get(f"{API}/me/consents/location", headers=h).json()
        assert (mine["granted"], mine["version"], mine["up_to_date"]) == (True, "1", False)
        r = client.put(
            f"{API}/me/consents/location", json={"granted": True, "version": "1"}, headers=h
        )
        assert (r.status_code, error(r)) == (409, "CONSENT_VERSION_STALE")
        assert r.json()["error"]["details"]["current_version"] == "2"
        r = client.put(
            f"{API}/me/consents/location", json={"granted": True, "version": "2"}, headers=h
        )
        assert r.json()["up_to_date"] is True
    finally:
        clock.set_clock(None)


def test_withdrawing_location_consent_erases_the_fixes(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    user, volunteer = make_volunteer(session, station)
    _, other = make_volunteer(session, station)
    resident = make_resident(session)
    for who in (volunteer, volunteer, other):
        wish = make_wish(
            session, station=station, requester=resident, status=WishStatus.COMPLETED, assignee=who
        )
        session.add(
            Attendance(
                wish_id=wish.id,
                volunteer_id=who.id,
                unit_id=station.id,
                is_lead=True,
                status="checked_out",
                checked_in_at=clock.now() - timedelta(hours=2),
                checked_out_at=clock.now() - timedelta(hours=1),
                check_in_method="gps",
                check_out_method="gps",
                check_in_fix=(30.1, 119.1),
                check_out_fix=(30.1, 119.1),
            )
        )
    session.flush()
    h = auth(user, settings)
    r = client.put(f"{API}/me/consents/location", json={"granted": False}, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["granted"], r.json()["removed_fixes"]) == (False, 4)
    session.expire_all()
    kept = dict(
        session.execute(
            select(Attendance.volunteer_id, func.count())
            .where(Attendance.check_in_fix.is_not(None))
            .group_by(Attendance.volunteer_id)
        ).all()
    )
    assert kept == {other.id: 1}  # another volunteer's fixes stay
    times = session.scalars(
        select(Attendance.checked_in_at).where(Attendance.volunteer_id == volunteer.id)
    ).all()
    assert len(times) == 2 and all(t is not None for t in times)  # the record itself stays
    r = client.put(f"{API}/me/consents/location", json={"granted": False}, headers=h)
    assert r.json()["removed_fixes"] == 0
    assert consents(session, user.id)[-2:] == [("location", False, None, "app")] * 2


@pytest.mark.parametrize("table", ["consents", "consent_texts"])
@pytest.mark.parametrize("verb", ["UPDATE {t} SET version = 'x'", "DELETE FROM {t}"])
def test_consents_and_texts_are_append_only(session: Session, table: str, verb: str) -> None:
    from tests.fixtures.builders import consent_to

    consent_to(session, make_resident(session).id)
    connection = session.connection()
    savepoint = connection.begin_nested()
    with pytest.raises((DatabaseError, IntegrityError)) as raised:
        connection.execute(text(verb.format(t=table)))
    savepoint.rollback()
    assert "append-only" in str(raised.value)
