"""Personal data is sealed in the database and plain in Python; sealed columns cannot be
compared in SQL; phones are found through the keyed hash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import clock
from app.auth.users import user_by_phone
from app.config import Settings
from app.crypto.types import SealedColumnComparison
from app.geo import coarse_point
from app.models import Attendance, OrgUnit, OutboxMessage, User, Volunteer, Wish
from tests.fixtures.builders import (
    PROXY_CONSENT,
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_wish,
    wish_body,
)

API = "/api/v1"


def raw(session: Session, sql: str, **params: object) -> tuple[object, ...]:
    row = session.execute(text(sql), params).one()
    return tuple(row)


def test_what_a_request_stores_is_sealed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    coordinator = make_coordinator(session, station)
    body = wish_body(
        station.lat,
        station.lng,
        full_address="余村 3 组 12 号",
        contact_phone="13812340001",
        on_behalf_of={"phone": "13812340002", "name": "王奶奶", "consent": PROXY_CONSENT},
    )
    r = client.post(f"{API}/wishes", json=body, headers=auth(coordinator, settings))
    assert r.status_code == 201, r.text
    wish_id = r.json()["id"]
    address, phone, point, lat, lng = raw(
        session,
        "SELECT full_address, contact_phone, exact_point, coarse_lat, coarse_lng FROM wishes "
        "WHERE id = :id",
        id=wish_id,
    )
    for value in (address, phone, point):
        assert isinstance(value, str) and value.startswith("enc1:dev:"), value
    assert "余村" not in str(address) and "13812340001" not in str(phone)
    # The plain point is the public one, to 0.01°; the exact one is sealed.
    assert (lat, lng) == coarse_point(float(body["lat"]), float(body["lng"]))  # type: ignore[arg-type]
    session.expire_all()
    wish = session.get(Wish, wish_id)
    assert wish is not None
    assert (wish.full_address, wish.contact_phone) == ("余村 3 组 12 号", "13812340001")
    assert wish.exact_point == (body["lat"], body["lng"])
    resident = user_by_phone(session, "13812340002")
    assert resident is not None and resident.phone == "13812340002"
    stored, digest = raw(
        session, "SELECT phone, phone_hash FROM users WHERE id = :id", id=resident.id
    )
    assert str(stored).startswith("enc1:") and len(str(digest)) == 64
    assert "13812340002" not in str(stored) + str(digest)
    # Notifications (names, free text) are sealed too.
    payloads = session.execute(
        text("SELECT payload FROM outbox WHERE wish_id = :id"), {"id": wish_id}
    ).scalars()
    assert all(str(p).startswith("enc1:") for p in payloads)
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.wish_id == wish_id)).first()
    assert message is not None and message.payload["wish_id"] == wish_id


def test_volunteer_fields_and_fixes_are_sealed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    user = make_resident(session)
    r = client.post(
        f"{API}/me/volunteer",
        json={
            "home_station_id": station.id,
            "lat": 30.638123,
            "lng": 119.680456,
            "id_number": "11010519491231002X",
        },
        headers=auth(user, settings),
    )
    assert r.status_code == 201, r.text
    mine = r.json()
    # The volunteer sees their own profile in full.
    assert (mine["lat"], mine["lng"], mine["id_number"]) == (
        30.638123,
        119.680456,
        "11010519491231002X",
    )
    home, number, lat, lng = raw(
        session,
        "SELECT home_point, id_number, lat, lng FROM volunteers WHERE id = :id",
        id=mine["id"],
    )
    assert str(home).startswith("enc1:") and str(number).startswith("enc1:")
    assert (lat, lng) == (30.638, 119.68)  # matching reads the home to about 100 m
    volunteer = session.get(Volunteer, mine["id"])
    assert volunteer is not None
    attendance = Attendance(
        wish_id=_any_wish(session, station),
        volunteer_id=volunteer.id,
        unit_id=station.id,
        status="in_service",
        checked_in_at=clock.now() - timedelta(hours=1),
        check_in_fix=(30.6381, 119.6801),
    )
    session.add(attendance)
    session.flush()
    (fix,) = raw(session, "SELECT check_in_fix FROM attendances WHERE id = :id", id=attendance.id)
    assert str(fix).startswith("enc1:") and "30.6381" not in str(fix)


def _any_wish(session: Session, station: OrgUnit) -> int:
    return make_wish(session, station=station, requester=make_resident(session)).id


def test_sealed_columns_refuse_comparison_in_sql(session: Session) -> None:
    for column, value in (
        (User.phone, "13812345678"),
        (Wish.full_address, "余村"),
        (Wish.contact_phone, "13812345678"),
    ):
        with pytest.raises(SealedColumnComparison):
            select(User.id).where(column == value)
        with pytest.raises(SealedColumnComparison):
            select(User.id).where(column.like("%1%"))
    # NULL tests stay possible (retention finds what is still kept).
    assert session.scalars(select(Wish.id).where(Wish.full_address.is_(None))).all() == []


def test_phone_lookup_and_uniqueness(session: Session) -> None:
    user = make_resident(session, phone="13811112222")
    assert user_by_phone(session, "13811112222") == user
    assert user_by_phone(session, " 13811112222 ") == user
    assert user_by_phone(session, "13811112223") is None
    user.phone = "13811113333"  # setting the phone moves the hash with it
    session.flush()
    assert user_by_phone(session, "13811112222") is None
    assert user_by_phone(session, "13811113333") == user
    from sqlalchemy.exc import IntegrityError

    twin = User(name="重复", phone="13811113333")
    session.add(twin)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_responses_kept_for_retries_are_sealed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = make_resident(session)
    headers = {**auth(resident, settings), "Idempotency-Key": "wish-once-0001"}
    body = wish_body(station.lat, station.lng, full_address="余村 9 组 99 号")
    first = client.post(f"{API}/wishes", json=body, headers=headers)
    assert first.status_code == 201, first.text
    stored = session.execute(
        text("SELECT response_body FROM idempotency_keys WHERE key = 'wish-once-0001'")
    ).scalar_one()
    assert bytes(stored).startswith(b"enc1:")
    assert "余村 9 组 99 号".encode() not in bytes(stored) and b"13800001111" not in bytes(stored)
    again = client.post(f"{API}/wishes", json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.json()["full_address"] == "余村 9 组 99 号"
