"""The mini-program's push settings: reporting wx.requestSubscribeMessage answers, the remaining
quota and the hint of what to ask for, and notification preferences."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import API_PREFIX
from app.models import NotificationPreference, SubscriptionQuota
from app.models.enums import WishStatus
from app.push.topics import KNOWN_TOPICS
from tests.fixtures.builders import (
    auth,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    wish_body,
)
from tests.fixtures.state import everything
from tests.push.conftest import TEMPLATES

API = API_PREFIX
WISH = TEMPLATES["wish_update"].id
OFFER = TEMPLATES["offer"].id


def _quota(body: dict[str, Any]) -> dict[str, int]:
    return {item["kind"]: item["remaining"] for item in body["templates"]}


def test_each_accept_adds_one_and_the_hint_asks_for_what_is_short(
    client: TestClient, push_app: FastAPI, session: Session, push_settings: Settings
) -> None:
    resident = make_resident(session)
    headers = auth(resident, push_settings)
    r = client.get(f"{API}/me/subscriptions", headers=headers)
    assert r.status_code == 200, r.text
    assert _quota(r.json())["wish_update"] == 0
    assert r.json()["subscribe_hint"] == [WISH]

    answer = {"errMsg": "requestSubscribeMessage:ok", WISH: "accept", OFFER: "reject"}
    for expected in (1, 2, 3):
        r = client.post(f"{API}/me/subscriptions", json=answer, headers=headers)
        assert r.status_code == 200, r.text
        assert _quota(r.json())["wish_update"] == expected
        assert _quota(r.json())["offer"] == 0  # a reject adds nothing
    assert r.json()["subscribe_hint"] == []  # three wish updates are enough for a resident
    last = {item["kind"]: item["last_result"] for item in r.json()["templates"]}
    assert last["offer"] == "reject"

    # WeChat banned the template for this user: nothing of it can be sent any more.
    r = client.post(f"{API}/me/subscriptions", json={WISH: "ban"}, headers=headers)
    assert r.status_code == 200, r.text
    assert _quota(r.json())["wish_update"] == 0
    assert r.json()["subscribe_hint"] == []  # asking again for a banned template is pointless


def test_bad_answers_are_refused_and_change_nothing(
    client: TestClient, push_app: FastAPI, session: Session, push_settings: Settings
) -> None:
    resident = make_resident(session)
    headers = auth(resident, push_settings)
    before = everything(session)
    for body, code in [
        ({"not-our-template": "accept"}, "SUBSCRIPTION_TEMPLATE_UNKNOWN"),
        ({WISH: "maybe"}, "SUBSCRIPTION_ANSWERS_INVALID"),
        ({WISH: 1}, "SUBSCRIPTION_ANSWERS_INVALID"),
        ({"errMsg": "requestSubscribeMessage:ok"}, "SUBSCRIPTION_ANSWERS_INVALID"),
        ({"bad id with spaces": "accept"}, "SUBSCRIPTION_ANSWERS_INVALID"),
    ]:
        r = client.post(f"{API}/me/subscriptions", json=body, headers=headers)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["code"] == code
        assert r.json()["error"]["message"]
    assert everything(session) == before


def test_placing_a_wish_answers_which_templates_to_ask_for(
    client: TestClient, push_app: FastAPI, session: Session, push_settings: Settings
) -> None:
    station = make_tree(session).stations[0]
    resident = make_resident(session)
    assert station.lat is not None and station.lng is not None
    r = client.post(
        f"{API}/wishes",
        json=wish_body(station.lat, station.lng),
        headers=auth(resident, push_settings),
    )
    assert r.status_code == 201, r.text
    assert r.json()["subscribe_hint"] == [WISH]
    # Reading the wish carries no hint.
    wish_id = r.json()["id"]
    seen = client.get(f"{API}/wishes/{wish_id}", headers=auth(resident, push_settings)).json()
    assert seen["subscribe_hint"] == []


def test_accepting_a_task_answers_which_templates_to_ask_for(
    client: TestClient, push_app: FastAPI, session: Session, push_settings: Settings
) -> None:
    station = make_tree(session).stations[0]
    user, volunteer = make_volunteer(session, station, skills=("errands",))
    wish = make_wish(
        session,
        station=station,
        requester=make_resident(session),
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
    )
    session.add(SubscriptionQuota(user_id=user.id, template_id=OFFER, remaining=5))
    session.flush()
    r = client.post(f"{API}/wishes/{wish.id}/accept", headers=auth(user, push_settings))
    assert r.status_code == 200, r.text
    assert r.json()["subscribe_hint"] == [TEMPLATES["task"].id, TEMPLATES["record"].id]


def test_preferences_default_then_replaced(
    client: TestClient, push_app: FastAPI, session: Session, push_settings: Settings
) -> None:
    user = make_resident(session)
    headers = auth(user, push_settings)
    r = client.get(f"{API}/me/notification-preferences", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert {t["topic"] for t in body["topics"]} == set(KNOWN_TOPICS)
    assert all(t["enabled"] for t in body["topics"])
    assert body["quiet_hours"] == {
        "enabled": True,
        "start": "22:00",
        "end": "07:00",
        "custom": False,
    }

    wanted = {
        "opted_out": ["wish.rated", "wish.open_for_grab"],
        "quiet_hours": {"enabled": True, "start": "21:30", "end": "06:30"},
    }
    r = client.put(f"{API}/me/notification-preferences", json=wanted, headers=headers)
    assert r.status_code == 200, r.text
    off = {t["topic"] for t in r.json()["topics"] if not t["enabled"]}
    assert off == {"wish.rated", "wish.open_for_grab"}
    assert r.json()["quiet_hours"] == {
        "enabled": True,
        "start": "21:30",
        "end": "06:30",
        "custom": True,
    }
    assert client.get(f"{API}/me/notification-preferences", headers=headers).json() == r.json()

    r = client.put(
        f"{API}/me/notification-preferences",
        json={"quiet_hours": {"enabled": False}},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["quiet_hours"] == {
        "enabled": False,
        "start": "22:00",
        "end": "07:00",
        "custom": False,
    }
    assert all(t["enabled"] for t in r.json()["topics"])
    row = session.get(NotificationPreference, user.id, populate_existing=True)
    assert row is not None and row.opted_out == [] and row.quiet_hours_enabled is False


def test_bad_preferences_are_refused_in_chinese_and_change_nothing(
    client: TestClient, push_app: FastAPI, session: Session, push_settings: Settings
) -> None:
    user = make_resident(session)
    headers = auth(user, push_settings)
    before = everything(session)
    for body, status, code in [
        ({"opted_out": ["wish.nonsense"]}, 400, "NOTIFICATION_TOPIC_UNKNOWN"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, 400, "QUIET_HOURS_INVALID"),
        ({"quiet_hours": {"start": "22:00"}}, 400, "QUIET_HOURS_INVALID"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, 422, "VALIDATION_ERROR"),
        ({"opted_out": "wish.rated"}, 422, "VALIDATION_ERROR"),
        ({"quiet": {}}, 422, "VALIDATION_ERROR"),
    ]:
        r = client.put(f"{API}/me/notification-preferences", json=body, headers=headers)
        assert r.status_code == status, (body, r.text)
        error = r.json()["error"]
        assert error["code"] == code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert everything(session) == before


def test_preferences_need_a_signed_in_user(client: TestClient) -> None:
    for method, path in [
        ("GET", "/me/notification-preferences"),
        ("PUT", "/me/notification-preferences"),
        ("GET", "/me/subscriptions"),
        ("POST", "/me/subscriptions"),
    ]:
        r = client.request(method, f"{API}{path}", json={})
        assert r.status_code == 401, (method, path)


def test_deleting_the_account_drops_its_push_settings(
    client: TestClient, push_app: FastAPI, session: Session, push_settings: Settings
) -> None:
    user = make_resident(session)
    headers = auth(user, push_settings)
    r = client.post(f"{API}/me/subscriptions", json={WISH: "accept"}, headers=headers)
    assert r.status_code == 200, r.text
    wanted = {"opted_out": ["wish.rated"]}
    r = client.put(f"{API}/me/notification-preferences", json=wanted, headers=headers)
    assert r.status_code == 200, r.text
    r = client.request("DELETE", f"{API}/me", json={"confirm": "注销账号"}, headers=headers)
    assert r.status_code == 200, r.text
    session.expire_all()
    assert session.get(NotificationPreference, user.id) is None
    mine = select(SubscriptionQuota).where(SubscriptionQuota.user_id == user.id)
    assert session.scalars(mine).all() == []
