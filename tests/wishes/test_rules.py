"""The rules each event enforces beyond the transition table, through the API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.models import Offer, OutboxMessage, Wish
from app.models.enums import VolunteerStatus, WishStatus
from tests.fixtures.builders import (
    BASE_LAT,
    BASE_LNG,
    PROXY_CONSENT,
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    wish_body,
)

API = "/api/v1"


def error_code(response: object) -> str:
    return response.json()["error"]["code"]  # type: ignore[attr-defined, no-any-return]


def test_capacity_is_enforced(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    resident = make_resident(session)
    user, volunteer = make_volunteer(session, station, capacity=1)
    make_wish(
        session, station=station, requester=resident, status=WishStatus.ACCEPTED, assignee=volunteer
    )
    second = make_wish(
        session,
        station=station,
        requester=resident,
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
    )
    r = client.post(f"{API}/wishes/{second.id}/accept", headers=auth(user, settings))
    assert r.status_code == 409
    assert error_code(r) == "AT_CAPACITY"
    assert r.json()["error"]["details"] == {"active_tasks": 1, "max_concurrent_tasks": 1}


def test_expired_offer_cannot_be_accepted(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    user, volunteer = make_volunteer(session, tree.stations[0])
    wish = make_wish(
        session,
        station=tree.stations[0],
        requester=make_resident(session),
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
        offer_expires_at=clock.now() - timedelta(seconds=1),
    )
    r = client.post(f"{API}/wishes/{wish.id}/accept", headers=auth(user, settings))
    assert r.status_code == 409 and error_code(r) == "OFFER_EXPIRED"
    # Expired offers are not listed as pending.
    offers = client.get(f"{API}/me/offers", headers=auth(user, settings)).json()
    assert offers["items"] == []


def test_offer_targets_are_checked(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    coordinator = make_coordinator(session, tree.townships[0])
    _, inside = make_volunteer(session, tree.stations[1])
    _, outside = make_volunteer(session, tree.stations[2])
    _, suspended = make_volunteer(session, tree.stations[0], status=VolunteerStatus.SUSPENDED)
    wish = make_wish(
        session,
        station=tree.stations[0],
        requester=make_resident(session),
        status=WishStatus.APPROVED,
    )
    headers = auth(coordinator, settings)
    r = client.post(
        f"{API}/wishes/{wish.id}/offer",
        json={"volunteer_ids": [inside.id, outside.id, suspended.id, 2_000_000]},
        headers=headers,
    )
    assert r.status_code == 400 and error_code(r) == "INVALID_OFFER_TARGET"
    assert r.json()["error"]["details"] == {
        "outside_scope": [outside.id],
        "suspended": [suspended.id],
        "not_found": [2_000_000],
    }
    assert session.scalar(select(func.count()).select_from(Offer)) == 0

    r = client.post(
        f"{API}/wishes/{wish.id}/offer", json={"volunteer_ids": [inside.id]}, headers=headers
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"{API}/wishes/{wish.id}/offer", json={"volunteer_ids": [inside.id]}, headers=headers
    )
    assert r.status_code == 409 and error_code(r) == "ALREADY_OFFERED"


def test_reasons(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    coordinator = make_coordinator(session, tree.stations[0])
    wish = make_wish(session, station=tree.stations[0], requester=resident)
    r = client.post(f"{API}/wishes/{wish.id}/cancel", headers=auth(coordinator, settings))
    assert r.status_code == 400 and error_code(r) == "REASON_REQUIRED"
    r = client.post(
        f"{API}/wishes/{wish.id}/reject",
        json={"reason": "   "},
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 422
    # The requester may cancel without giving a reason.
    r = client.post(f"{API}/wishes/{wish.id}/cancel", headers=auth(resident, settings))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_reject_reason_is_visible_to_requester(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    coordinator = make_coordinator(session, tree.county)
    wish = make_wish(session, station=tree.stations[3], requester=resident)
    r = client.post(
        f"{API}/wishes/{wish.id}/reject",
        json={"reason": "请联系社区卫生服务站"},
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200
    seen = client.get(f"{API}/wishes/{wish.id}", headers=auth(resident, settings)).json()
    assert seen["status"] == "rejected" and seen["reject_reason"] == "请联系社区卫生服务站"
    topics = session.scalars(
        select(OutboxMessage.topic).where(OutboxMessage.recipient_id == resident.id)
    ).all()
    assert "wish.rejected" in topics


def test_withdraw_returns_wish_to_dispatch(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, station)
    user, volunteer = make_volunteer(session, station)
    _, other = make_volunteer(session, station)
    wish = make_wish(
        session,
        station=station,
        requester=make_resident(session),
        status=WishStatus.ACCEPTED,
        assignee=volunteer,
    )
    r = client.post(
        f"{API}/wishes/{wish.id}/withdraw",
        json={"reason": "家中有急事"},
        headers=auth(user, settings),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["assignee"] is None
    told = session.scalars(
        select(OutboxMessage.recipient_id).where(
            OutboxMessage.wish_id == wish.id, OutboxMessage.topic == "wish.withdrawn"
        )
    ).all()
    assert coordinator.id in told
    r = client.post(
        f"{API}/wishes/{wish.id}/offer",
        json={"volunteer_ids": [other.id]},
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200 and r.json()["status"] == "dispatching"


def test_suspended_volunteer_cannot_accept(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    user, volunteer = make_volunteer(session, tree.stations[0])
    wish = make_wish(
        session,
        station=tree.stations[0],
        requester=make_resident(session),
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
    )
    volunteer.status = VolunteerStatus.SUSPENDED
    session.flush()
    r = client.post(f"{API}/wishes/{wish.id}/accept", headers=auth(user, settings))
    assert r.status_code == 403 and error_code(r) == "VOLUNTEER_SUSPENDED"


def test_accepting_twice_says_so(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    user, volunteer = make_volunteer(session, tree.stations[0])
    wish = make_wish(
        session,
        station=tree.stations[0],
        requester=make_resident(session),
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
    )
    assert client.post(f"{API}/wishes/{wish.id}/accept", headers=auth(user, settings)).is_success
    r = client.post(f"{API}/wishes/{wish.id}/accept", headers=auth(user, settings))
    assert r.status_code == 409 and error_code(r) == "ALREADY_ACCEPTED"


def test_open_grab_twice(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    coordinator = make_coordinator(session, tree.stations[0])
    wish = make_wish(
        session,
        station=tree.stations[0],
        requester=make_resident(session),
        status=WishStatus.APPROVED,
    )
    headers = auth(coordinator, settings)
    assert client.post(f"{API}/wishes/{wish.id}/open-grab", headers=headers).status_code == 200
    r = client.post(f"{API}/wishes/{wish.id}/open-grab", headers=headers)
    assert r.status_code == 409 and error_code(r) == "GRAB_ALREADY_OPEN"


def test_intake_picks_the_covering_station_or_refuses(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    headers = auth(resident, settings)
    # Near station 2 (20 km east of the base point): that station is chosen.
    near2 = tree.stations[2]
    assert near2.lat is not None and near2.lng is not None
    r = client.post(f"{API}/wishes", json=wish_body(near2.lat, near2.lng), headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["station"]["id"] == near2.id
    # 200 km away from every station.
    r = client.post(f"{API}/wishes", json=wish_body(BASE_LAT + 1.8, BASE_LNG), headers=headers)
    assert r.status_code == 400 and error_code(r) == "OUT_OF_SERVICE_AREA"
    # Naming a station that does not cover the place is refused too.
    r = client.post(
        f"{API}/wishes",
        json=wish_body(near2.lat, near2.lng, station_id=tree.stations[0].id),
        headers=headers,
    )
    assert r.status_code == 400 and error_code(r) == "OUT_OF_SERVICE_AREA"
    assert r.json()["error"]["details"]["distance_m"] > 5000


def test_proxy_ordering(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, station)
    outsider = make_coordinator(session, tree.stations[3])
    assert station.lat is not None and station.lng is not None
    resident = {"phone": "13912345678", "name": "王奶奶", "consent": PROXY_CONSENT}
    body = wish_body(station.lat, station.lng, on_behalf_of=resident)
    r = client.post(f"{API}/wishes", json=body, headers=auth(outsider, settings))
    assert r.status_code == 403 and error_code(r) == "PROXY_NOT_ALLOWED"
    r = client.post(f"{API}/wishes", json=body, headers=auth(coordinator, settings))
    assert r.status_code == 201, r.text
    wish = r.json()
    assert wish["proxy_id"] == coordinator.id
    assert wish["requester"]["name"] == "王奶奶"
    # The resident logs in with that phone and finds the wish among theirs.
    login = client.post(f"{API}/auth/dev-login", json={"phone": "13912345678"}).json()
    mine = client.get(
        f"{API}/me/wishes", headers={"Authorization": f"Bearer {login['access_token']}"}
    ).json()
    assert [w["id"] for w in mine["items"]] == [wish["id"]]


def test_keyset_pagination_walks_every_item_once(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    ids = {make_wish(session, station=tree.stations[0], requester=resident).id for _ in range(5)}
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"{API}/me/wishes", params=params, headers=auth(resident, settings))
        assert page.status_code == 200
        seen += [w["id"] for w in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)


def test_needs_dispatch_filter(client: TestClient, session: Session, settings: Settings) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, station)
    resident = make_resident(session)
    _, volunteer = make_volunteer(session, station)
    waiting = make_wish(session, station=station, requester=resident, status=WishStatus.APPROVED)
    stalled = make_wish(
        session,
        station=station,
        requester=resident,
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
        offer_expires_at=clock.now() - timedelta(minutes=1),
    )
    make_wish(
        session,
        station=station,
        requester=resident,
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
    )  # live offer
    make_wish(
        session, station=station, requester=resident, status=WishStatus.DISPATCHING, grab_open=True
    )
    r = client.get(
        f"{API}/wishes", params={"needs_dispatch": True}, headers=auth(coordinator, settings)
    )
    assert r.status_code == 200
    assert {w["id"] for w in r.json()["items"]} == {waiting.id, stalled.id}


def test_wish_rows_are_untouched_by_failed_create(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    resident = make_resident(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    before = session.scalar(select(func.count()).select_from(Wish))
    r = client.post(
        f"{API}/wishes",
        json=wish_body(station.lat, station.lng, skill_codes=["errands", "no_such_skill"]),
        headers=auth(resident, settings),
    )
    assert r.status_code == 400 and error_code(r) == "UNKNOWN_CATALOGUE_ENTRY"
    assert r.json()["error"]["details"] == {"unknown": {"skill_codes": ["no_such_skill"]}}
    assert session.scalar(select(func.count()).select_from(Wish)) == before
