"""Deleting one's account (PIPL Art 47): personal data goes, the ledgers keep a pseudonym, and
the account never signs in again."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import clock
from app.auth.users import user_by_phone
from app.config import Settings
from app.models import (
    Attendance,
    Certificate,
    Consent,
    HoursEntry,
    Offer,
    OutboxMessage,
    User,
    Volunteer,
    Wish,
    WishEventRecord,
)
from app.models.enums import OfferStatus, SessionKind, VolunteerStatus, WishStatus
from app.records.hours import ledger
from tests.fixtures.builders import (
    auth,
    consent_to,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"
CONFIRM = {"confirm": "注销账号"}


def error(r: Any) -> str:
    return str(r.json()["error"]["code"])


def delete_me(client: TestClient, headers: dict[str, str], body: Any = CONFIRM) -> Any:
    return client.request("DELETE", f"{API}/me", json=body, headers=headers)


def test_deleting_an_account_keeps_the_record_under_a_pseudonym(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, station)
    user, volunteer = make_volunteer(session, station, birth_date=date(1985, 3, 1))
    user.name = "张小三"
    user.wechat_openid, user.wechat_unionid = "o-test-openid", "u-test-unionid"
    phone = str(user.phone)
    volunteer.id_number = "11010519491231002X"
    volunteer.home_point = (30.6381234, 119.6801234)
    _, other = make_volunteer(session, station)
    neighbour = make_resident(session)
    now = clock.now()
    # A wish they placed (as a resident) and had served, one they served, one offered to them.
    placed = make_wish(
        session, station=station, requester=user, status=WishStatus.CLOSED, assignee=other
    )
    served = make_wish(
        session, station=station, requester=neighbour, status=WishStatus.CLOSED, assignee=volunteer
    )
    offered = make_wish(
        session,
        station=station,
        requester=neighbour,
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer, other],
    )
    for wish, who in ((served, volunteer), (placed, other)):
        session.add(
            Attendance(
                wish_id=wish.id,
                volunteer_id=who.id,
                unit_id=station.id,
                is_lead=True,
                status="credited",
                checked_in_at=now - timedelta(hours=3),
                checked_out_at=now - timedelta(hours=1),
                check_in_method="gps",
                check_out_method="gps",
                check_in_fix=(30.1, 119.1),
                check_out_fix=(30.1, 119.1),
            )
        )
    session.add(
        HoursEntry(
            volunteer_id=volunteer.id,
            category="service",
            unit_id=station.id,
            wish_id=served.id,
            content="陪老人聊天",
            started_at=now - timedelta(hours=3),
            ended_at=now - timedelta(hours=1),
            minutes=120,
            verification="gps",
            created_at=now,
        )
    )
    session.add(
        Certificate(
            number="TEST-20270302-ABCDEFGH",
            volunteer_id=volunteer.id,
            unit_id=station.id,
            volunteer_name="张小三",
            minutes=120,
            entry_count=1,
            content="陪老人聊天",
            issued_at=now,
        )
    )
    session.flush()
    consent_to(session, user.id)
    hours_before = ledger.totals(session, volunteer.id)
    events_before = session.scalar(select(func.count()).select_from(WishEventRecord))
    h = auth(user, settings)

    for body in (None, {}, {"confirm": "yes"}):
        r = delete_me(client, h, body)
        assert (r.status_code, error(r)) == (422, "VALIDATION_ERROR")
    r = delete_me(client, h)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["pseudonym"].startswith("已注销用户#") and len(done["pseudonym"]) == 12
    assert done["erased"] == {
        "offers_declined": 1,
        "consents_withdrawn": 1,
        "fixes": 4,  # their own two, and the two taken at the home of the wish they placed
        "wishes": 1,
        "certificates_renamed": 1,
        "notifications": 0,
    }

    session.expire_all()
    row = session.get(User, user.id)
    assert row is not None
    assert row.wechat_unionid is None
    assert (row.name, row.phone, row.phone_hash, row.wechat_openid, row.is_active) == (
        done["pseudonym"],
        None,
        None,
        None,
        False,
    )
    assert row.deleted_at is not None
    stored = session.execute(text("SELECT phone FROM users WHERE id = :id"), {"id": user.id})
    assert stored.scalar_one() is None
    profile = session.get(Volunteer, volunteer.id)
    assert profile is not None
    assert (profile.birth_date, profile.id_number, profile.home_point) == (None, None, None)
    assert (profile.lat, profile.lng) == (station.lat, station.lng)
    assert profile.status == VolunteerStatus.SUSPENDED
    mine = session.get(Wish, placed.id)
    assert mine is not None and mine.full_address is None and mine.contact_phone is None
    assert mine.personal_data_erased_at is not None
    assert session.scalars(select(Attendance.check_in_fix)).all() == [None, None]
    assert (
        session.scalar(
            select(Offer.status).where(
                Offer.wish_id == offered.id, Offer.volunteer_id == volunteer.id
            )
        )
        == OfferStatus.DECLINED
    )
    assert (
        session.scalar(
            select(Offer.status).where(Offer.wish_id == offered.id, Offer.volunteer_id == other.id)
        )
        == OfferStatus.PENDING
    )
    # The ledgers stay whole.
    assert ledger.totals(session, volunteer.id) == hours_before == {"service": 120}
    events_after = session.scalar(select(func.count()).select_from(WishEventRecord))
    assert events_after == (events_before or 0) + 1  # the decline
    consents = session.execute(
        select(Consent.granted, Consent.method)
        .where(Consent.user_id == user.id)
        .order_by(Consent.id)
    ).all()
    assert [tuple(c) for c in consents] == [(True, "app"), (False, "account_deletion")]
    r = client.get(f"{API}/public/certificates/TEST-20270302-ABCDEFGH")
    assert r.json()["volunteer_name"] == "已注销用户" and r.json()["hours"] == 2.0
    # Coordinators see the pseudonym where the name was.
    seen = client.get(f"{API}/volunteers/{volunteer.id}", headers=auth(coordinator, settings))
    assert (seen.json()["name"], seen.json()["phone"]) == (done["pseudonym"], None)

    # The account is gone for good: its token no longer works, its phone finds nothing.
    r = client.get(f"{API}/me", headers=h)
    assert (r.status_code, error(r)) == (401, "INVALID_TOKEN")
    assert user_by_phone(session, phone) is None


def test_the_phone_makes_a_new_account_after_deletion(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = make_resident(session, phone="13999991111")
    assert delete_me(client, auth(user, settings)).status_code == 200
    assert user_by_phone(session, "13999991111") is None
    login = client.post(f"{API}/auth/dev-login", json={"phone": "13999991111"})
    assert login.status_code == 200, login.text
    assert login.json()["user"]["id"] != user.id


def test_deletion_waits_for_open_work(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    user, volunteer = make_volunteer(session, station)
    pending = make_wish(session, station=station, requester=user)
    task = make_wish(
        session,
        station=station,
        requester=make_resident(session),
        status=WishStatus.ACCEPTED,
        assignee=volunteer,
    )
    counts = {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (User, Consent, OutboxMessage, WishEventRecord)
    }
    r = delete_me(client, auth(user, settings))
    assert (r.status_code, error(r)) == (409, "ACCOUNT_HAS_OPEN_WORK")
    assert r.json()["error"]["details"] == {
        "wishes_in_progress": [pending.id],
        "tasks": [task.id],
    }
    session.expire_all()
    assert session.get(User, user.id).name == user.name  # type: ignore[union-attr]
    assert counts == {
        m.__name__: session.scalar(select(func.count()).select_from(m))
        for m in (User, Consent, OutboxMessage, WishEventRecord)
    }


def test_staff_accounts_are_the_organisations_even_in_a_consumer_session(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    coordinator = make_coordinator(session, tree.stations[0])
    for kind in (SessionKind.STAFF, SessionKind.CONSUMER):
        r = delete_me(client, auth(coordinator, settings, kind=kind))
        assert (r.status_code, error(r)) == (409, "STAFF_ACCOUNT")
        assert r.json()["error"]["details"] == {"roles": ["coordinator"]}
    session.expire_all()
    assert session.get(User, coordinator.id).is_active is True  # type: ignore[union-attr]
