"""Admins manage webhook subscribers: create (the secret shown once, sealed at rest), list,
show, change, rotate the secret, delete, and read each one's deliveries. Bad input is a 4xx
that changes nothing; nobody but an admin gets in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from app import clock
from app.config import Environment, Settings
from app.main import API_PREFIX
from app.models import OutboxMessage, User, WebhookSubscriber
from app.webhooks import service
from app.webhooks.errors import InvalidWebhookUrl
from app.webhooks.fanout import publish
from tests.fixtures.builders import (
    Tree,
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
)

API = f"{API_PREFIX}/admin/webhooks"
BODY = {
    "name": "县融媒体中心",
    "url": "https://media.example.cn/hooks/wenming",
    "events": ["wish.*"],
}


@pytest.fixture
def admin(session: Session) -> User:
    return make_admin(session)


@pytest.fixture
def tree(session: Session) -> Tree:
    return make_tree(session)


def h(user: User, settings: Settings) -> dict[str, str]:
    return auth(user, settings)


def create(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post(API, json={**BODY, **body}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(WebhookSubscriber)) or 0


def test_create_shows_the_secret_once_and_seals_it(
    client: TestClient, session: Session, settings: Settings, admin: User, tree: Tree
) -> None:
    headers = h(admin, settings)
    made = create(client, headers, unit_id=tree.townships[0].id, events=["wish.*", "wish.*", "*"])
    secret = made["secret"]
    assert secret.startswith("whsec_")
    Webhook(secret)  # a valid Standard Webhooks secret (base64 of 32 bytes after the prefix)
    assert made["events"] == ["wish.*", "*"]  # duplicates dropped, order kept
    assert made["unit_id"] == tree.townships[0].id and made["is_active"] is True
    shown = client.get(f"{API}/{made['id']}", headers=headers)
    assert shown.status_code == 200 and "secret" not in shown.json()
    assert secret not in shown.text
    listed = client.get(API, headers=headers).json()
    assert [s["id"] for s in listed["items"]] == [made["id"]] and secret not in str(listed)
    # At rest the secret is sealed (randomised, bound to its column), never the plain value.
    stored = session.execute(
        text("SELECT secret FROM webhook_subscribers WHERE id = :id"), {"id": made["id"]}
    ).scalar_one()
    assert stored.startswith("enc1:") and secret not in stored and secret[6:] not in stored


def test_event_types_are_listed(client: TestClient, settings: Settings, admin: User) -> None:
    r = client.get(f"{API_PREFIX}/admin/webhook-events", headers=h(admin, settings))
    assert r.status_code == 200
    types = {e["type"] for e in r.json()}
    assert {"wish.submitted", "wish.completed", "record.confirmed", "star.awarded"} <= types


BAD_BODIES: list[tuple[str, dict[str, Any], int, str]] = [
    ("ftp scheme", {"url": "ftp://media.example.cn/x"}, 400, "WEBHOOK_URL_INVALID"),
    ("no scheme", {"url": "media.example.cn/x"}, 400, "WEBHOOK_URL_INVALID"),
    ("no host", {"url": "https:///x"}, 400, "WEBHOOK_URL_INVALID"),
    ("credentials", {"url": "https://u:p@media.example.cn/x"}, 400, "WEBHOOK_URL_INVALID"),
    ("bad port", {"url": "https://media.example.cn:99999/x"}, 400, "WEBHOOK_URL_INVALID"),
    ("fragment", {"url": "https://media.example.cn/x#y"}, 400, "WEBHOOK_URL_INVALID"),
    ("space", {"url": "https://media.example.cn/a b"}, 400, "WEBHOOK_URL_INVALID"),
    ("empty url", {"url": ""}, 422, "VALIDATION_ERROR"),
    ("url too long", {"url": "https://a.cn/" + "x" * 2000}, 422, "VALIDATION_ERROR"),
    ("unknown topic", {"events": ["wish.exploded"]}, 400, "WEBHOOK_EVENT_UNKNOWN"),
    ("unknown group", {"events": ["volunteer.*"]}, 400, "WEBHOOK_EVENT_UNKNOWN"),
    ("malformed pattern", {"events": ["wish.**"]}, 422, "VALIDATION_ERROR"),
    ("bare group", {"events": ["wish"]}, 422, "VALIDATION_ERROR"),
    ("no events", {"events": []}, 422, "VALIDATION_ERROR"),
    ("unknown unit", {"unit_id": 2_000_000_000}, 400, "WEBHOOK_UNIT_NOT_FOUND"),
    ("unknown field", {"secret": "whsec_abc"}, 422, "VALIDATION_ERROR"),
    ("NUL in name", {"name": "媒体\x00中心"}, 422, "VALIDATION_ERROR"),
]


@pytest.mark.parametrize(
    ("body", "status", "code"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient,
    session: Session,
    settings: Settings,
    admin: User,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    headers = h(admin, settings)
    made = create(client, headers)
    before = count(session)
    r = client.post(API, json={**BODY, **body}, headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert count(session) == before
    if "secret" in body:
        return
    r = client.patch(f"{API}/{made['id']}", json=body, headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert client.get(f"{API}/{made['id']}", headers=headers).json()["url"] == BODY["url"]


def test_the_unknown_pattern_is_named(client: TestClient, settings: Settings, admin: User) -> None:
    r = client.post(
        API, json={**BODY, "events": ["wish.*", "wish.exploded"]}, headers=h(admin, settings)
    )
    assert r.json()["error"]["details"]["unknown"] == ["wish.exploded"]
    assert "wish.completed" in r.json()["error"]["details"]["known"]


def test_https_is_required_in_production(settings: Settings) -> None:
    production = settings.model_copy(update={"env": Environment.PRODUCTION})
    assert service.check_url("https://zwfw.example.gov.cn/hook", production)
    with pytest.raises(InvalidWebhookUrl) as refused:
        service.check_url("http://zwfw.example.gov.cn/hook", production)
    assert refused.value.message == "回调地址须以 https:// 开头"
    assert service.check_url("http://127.0.0.1:8080/hook", settings)  # allowed outside it


@pytest.mark.parametrize("who", ["coordinator", "volunteer", "resident"])
def test_only_admins_manage_subscribers(
    client: TestClient, session: Session, settings: Settings, admin: User, tree: Tree, who: str
) -> None:
    made = create(client, h(admin, settings))
    user = {
        "coordinator": lambda: make_coordinator(session, tree.county),
        "volunteer": lambda: make_volunteer(session, tree.stations[0])[0],
        "resident": lambda: make_resident(session),
    }[who]()
    headers = h(user, settings)
    sid = made["id"]
    calls = [
        ("GET", f"{API_PREFIX}/admin/webhook-events", None),
        ("POST", API, BODY),
        ("GET", API, None),
        ("GET", f"{API}/{sid}", None),
        ("PATCH", f"{API}/{sid}", {"is_active": False}),
        ("POST", f"{API}/{sid}/rotate-secret", None),
        ("DELETE", f"{API}/{sid}", None),
        ("GET", f"{API}/{sid}/deliveries", None),
    ]
    for method, path, body in calls:
        r = client.request(method, path, json=body, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "ADMIN_ONLY"), (method, path)
        anonymous = client.request(method, path, json=body)
        assert anonymous.status_code == 401
    assert count(session) == 1
    shown = client.get(f"{API}/{sid}", headers=h(admin, settings)).json()
    assert shown["is_active"] is True and shown["updated_at"] == made["updated_at"]


def test_update_filter_url_unit_and_active(
    client: TestClient, settings: Settings, admin: User, tree: Tree
) -> None:
    headers = h(admin, settings)
    sid = create(client, headers, unit_id=tree.county.id)["id"]
    r = client.patch(
        f"{API}/{sid}",
        headers=headers,
        json={
            "events": ["record.*", "star.awarded"],
            "url": "https://xxqg.example.cn/in",
            "name": "学习强国县级平台",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["events"] == ["record.*", "star.awarded"]
    assert r.json()["unit_id"] == tree.county.id  # not given: unchanged
    r = client.patch(f"{API}/{sid}", headers=headers, json={"unit_id": None, "is_active": False})
    assert r.json()["unit_id"] is None and r.json()["is_active"] is False
    assert r.json()["disabled_reason"] == "管理员停用" and r.json()["disabled_at"] is not None
    r = client.patch(f"{API}/{sid}", headers=headers, json={"is_active": True})
    assert r.json()["is_active"] is True and r.json()["disabled_reason"] is None


def test_rotation_keeps_the_old_secret_for_the_grace_period(
    client: TestClient, session: Session, settings: Settings, admin: User
) -> None:
    headers = h(admin, settings)
    made = create(client, headers)
    before = clock.now()
    r = client.post(f"{API}/{made['id']}/rotate-secret", headers=headers)
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
    grace = timedelta(hours=settings.webhook_secret_grace_hours)
    until = clock.now().fromisoformat(rotated["previous_secret_until"].replace("Z", "+00:00"))
    assert before + grace <= until <= clock.now() + grace
    shown = client.get(f"{API}/{made['id']}", headers=headers).json()
    assert shown["previous_secret_until"] is not None
    session.expire_all()
    row = session.get(WebhookSubscriber, made["id"])
    assert row is not None
    assert (row.secret, row.previous_secret) == (rotated["secret"], made["secret"])


def test_delete_hides_the_subscriber_erases_its_secrets_and_stops_fan_out(
    client: TestClient, session: Session, settings: Settings, admin: User, tree: Tree
) -> None:
    headers = h(admin, settings)
    sid = create(client, headers)["id"]
    r = client.delete(f"{API}/{sid}", headers=headers)
    assert r.status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        r = client.request(
            method, f"{API}/{sid}", json={} if method == "PATCH" else None, headers=headers
        )
        assert (r.status_code, r.json()["error"]["code"]) == (404, "WEBHOOK_NOT_FOUND")
    assert client.post(f"{API}/{sid}/rotate-secret", headers=headers).status_code == 404
    assert client.get(API, headers=headers).json()["items"] == []
    session.expire_all()
    row = session.get(WebhookSubscriber, sid)
    assert row is not None and row.deleted_at is not None
    assert (row.secret, row.previous_secret, row.is_active) == (None, None, False)
    queued = publish(
        session, topic="wish.submitted", unit=tree.stations[0], data={}, now=clock.now()
    )
    assert queued == 0


def test_unknown_ids_are_404(client: TestClient, settings: Settings, admin: User) -> None:
    headers = h(admin, settings)
    for method, path in [
        ("GET", "/999999"),
        ("PATCH", "/999999"),
        ("DELETE", "/999999"),
        ("POST", "/999999/rotate-secret"),
        ("GET", "/999999/deliveries"),
    ]:
        r = client.request(
            method, API + path, json={} if method == "PATCH" else None, headers=headers
        )
        assert (r.status_code, r.json()["error"]["code"]) == (404, "WEBHOOK_NOT_FOUND"), path


def test_deliveries_newest_first_by_page(
    client: TestClient, session: Session, settings: Settings, admin: User, tree: Tree
) -> None:
    headers = h(admin, settings)
    sid = create(client, headers, events=["*"])["id"]
    other = create(client, headers, events=["record.*"])["id"]
    for _ in range(3):
        publish(
            session, topic="wish.approved", unit=tree.stations[0], data={"n": 1}, now=clock.now()
        )
    session.flush()
    ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.subscriber_id == sid)
            .order_by(OutboxMessage.id.desc())
        )
    )
    assert len(ids) == 3
    first = client.get(f"{API}/{sid}/deliveries?limit=2", headers=headers).json()
    assert [d["id"] for d in first["items"]] == ids[:2]
    assert first["items"][0]["uid"].startswith("msg_")
    assert first["items"][0]["topic"] == "wish.approved"
    assert first["items"][0]["status"] == "pending" and "payload" not in first["items"][0]
    rest = client.get(
        f"{API}/{sid}/deliveries?limit=2&cursor={first['next_cursor']}", headers=headers
    ).json()
    assert [d["id"] for d in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    assert client.get(f"{API}/{other}/deliveries", headers=headers).json()["items"] == []
