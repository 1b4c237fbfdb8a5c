"""The whole loop through the HTTP API: 点单 → 审单 → 派单 → 接单 → 服务 → 评单 → 办结."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.models import Offer, OutboxMessage, WishEventRecord
from tests.fixtures.builders import (
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    wish_body,
)

API = "/api/v1"


def test_directed_offer_loop(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    resident = make_resident(session)
    coordinator = make_coordinator(session, station)
    v1_user, v1 = make_volunteer(session, station, skills=("errands",))
    v2_user, v2 = make_volunteer(session, station, skills=("errands",))
    assert station.lat is not None and station.lng is not None

    r = client.post(
        f"{API}/wishes", json=wish_body(station.lat, station.lng), headers=auth(resident, settings)
    )
    assert r.status_code == 201, r.text
    wish = r.json()
    assert wish["status"] == "submitted"
    assert wish["station"]["id"] == station.id
    wish_id = wish["id"]

    queue = client.get(f"{API}/wishes/review-queue", headers=auth(coordinator, settings)).json()
    assert [w["id"] for w in queue["items"]] == [wish_id]

    r = client.post(f"{API}/wishes/{wish_id}/approve", headers=auth(coordinator, settings))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"

    r = client.post(
        f"{API}/wishes/{wish_id}/offer",
        json={"volunteer_ids": [v1.id, v2.id], "expires_in_minutes": 30},
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dispatching"

    # The volunteer sees the offer, but not the private parts of the wish.
    offers = client.get(f"{API}/me/offers", headers=auth(v1_user, settings)).json()
    assert [o["wish_id"] for o in offers["items"]] == [wish_id]
    seen = client.get(f"{API}/wishes/{wish_id}", headers=auth(v1_user, settings)).json()
    assert seen["redacted"] is True
    assert seen["full_address"] is None and seen["contact_phone"] is None
    assert seen["requester"] is None
    assert set(seen["allowed_events"]) == {"accept", "decline"}

    r = client.post(
        f"{API}/wishes/{wish_id}/decline",
        json={"reason": "这周出差"},
        headers=auth(v2_user, settings),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dispatching"

    r = client.post(f"{API}/wishes/{wish_id}/accept", headers=auth(v1_user, settings))
    assert r.status_code == 200, r.text
    taken = r.json()
    assert taken["status"] == "accepted"
    assert taken["assignee"]["id"] == v1.id
    # Once the volunteer has accepted, the wish names the requester, phones masked; the full
    # contact is revealed on request, and the reveal is logged.
    assert taken["redacted"] is False and taken["masked"] is True
    assert taken["full_address"] is None and taken["contact_phone"] == "138****1111"
    assert taken["can_reveal"] is True
    r = client.post(f"{API}/wishes/{wish_id}/reveal", headers=auth(v1_user, settings))
    assert r.status_code == 200, r.text
    assert r.json()["full_address"] == "余村 3 组 12 号"
    assert r.json()["contact_phone"] == "13800001111"

    # At the place, in the window, with the volunteer's consent to a fix at these two moments.
    r = client.put(
        f"{API}/me/consents/location",
        json={"granted": True, "version": "1"},
        headers=auth(v1_user, settings),
    )
    assert r.status_code == 200 and r.json()["granted"] is True, r.text
    body = wish_body(station.lat, station.lng)
    place = {"lat": body["lat"], "lng": body["lng"]}
    start = datetime.fromisoformat(str(taken["wanted_start_at"]))
    try:
        for verb, status, minutes in (
            ("check-in", "in_service", 5),
            ("check-out", "completed", 100),
        ):
            clock.set_clock(lambda m=minutes: start + timedelta(minutes=m))
            r = client.post(
                f"{API}/wishes/{wish_id}/{verb}", json=place, headers=auth(v1_user, settings)
            )
            assert r.status_code == 200, r.text
            assert r.json()["status"] == status
        # The coordinator confirms; 95 minutes are credited as 1.5 hours (rounded to 0.5 h).
        records = client.get(
            f"{API}/wishes/{wish_id}/service-records", headers=auth(coordinator, settings)
        ).json()
        assert [(x["volunteer_id"], x["status"]) for x in records] == [(v1.id, "checked_out")]
        r = client.post(
            f"{API}/service-records/{records[0]['id']}/confirm",
            headers=auth(coordinator, settings),
        )
        assert r.status_code == 200, r.text
        assert r.json()["credited_hours"] == 1.5
        mine = client.get(f"{API}/me/hours", headers=auth(v1_user, settings)).json()
        assert mine["service_hours"] == 1.5
        assert [e["wish_id"] for e in mine["entries"]] == [wish_id]
    finally:
        clock.set_clock(None)

    r = client.post(
        f"{API}/wishes/{wish_id}/rate",
        json={"score": 5, "comment": "很及时"},
        headers=auth(resident, settings),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rated" and r.json()["rating"] == 5

    r = client.post(f"{API}/wishes/{wish_id}/close", headers=auth(coordinator, settings))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"

    events = client.get(f"{API}/wishes/{wish_id}/events", headers=auth(resident, settings)).json()
    assert [e["event"] for e in events["items"]] == [
        "submit",
        "approve",
        "offer",
        "decline",
        "accept",
        "check_in",
        "check_out",
        "rate",
        "close",
    ]
    offer_states = dict(
        session.execute(
            select(Offer.volunteer_id, Offer.status).where(Offer.wish_id == wish_id)
        ).all()
    )
    assert offer_states == {v1.id: "accepted", v2.id: "declined"}
    topics = set(
        session.scalars(select(OutboxMessage.topic).where(OutboxMessage.wish_id == wish_id))
    )
    assert {
        "wish.submitted",
        "wish.approved",
        "offer.received",
        "offer.declined",
        "wish.accepted",
        "wish.completed",
        "wish.rated",
    } <= topics


def test_grab_loop(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    station = tree.stations[1]
    resident = make_resident(session)
    coordinator = make_coordinator(session, tree.townships[0])
    near_user, near = make_volunteer(session, station, skills=("errands",))
    far_user, _far = make_volunteer(session, tree.stations[3], skills=("errands",))
    unskilled_user, _ = make_volunteer(session, station)
    assert station.lat is not None and station.lng is not None

    wish_id = client.post(
        f"{API}/wishes", json=wish_body(station.lat, station.lng), headers=auth(resident, settings)
    ).json()["id"]
    client.post(f"{API}/wishes/{wish_id}/approve", headers=auth(coordinator, settings))
    r = client.post(f"{API}/wishes/{wish_id}/open-grab", headers=auth(coordinator, settings))
    assert r.status_code == 200, r.text
    assert r.json()["grab_open"] is True

    near_list = client.get(f"{API}/wishes/open", headers=auth(near_user, settings)).json()
    assert [w["id"] for w in near_list] == [wish_id]
    assert near_list[0]["distance"] == {
        "band": "lt_1km",
        "label": "1 公里内",
        "min_m": 0,
        "max_m": 1000,
    }
    assert "distance_m" not in near_list[0]
    assert client.get(f"{API}/wishes/open", headers=auth(far_user, settings)).json() == []
    assert client.get(f"{API}/wishes/open", headers=auth(unskilled_user, settings)).json() == []

    r = client.post(f"{API}/wishes/{wish_id}/accept", headers=auth(far_user, settings))
    assert r.status_code == 404, r.text  # out of reach: not even visible
    r = client.post(f"{API}/wishes/{wish_id}/accept", headers=auth(near_user, settings))
    assert r.status_code == 200, r.text
    assert r.json()["assignee"]["id"] == near.id
    n_accepts = session.scalar(
        select(func.count())
        .select_from(WishEventRecord)
        .where(WishEventRecord.wish_id == wish_id, WishEventRecord.event == "accept")
    )
    assert n_accepts == 1
