"""Admins list dead letters, re-drive them, and read delivery counts."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import API_PREFIX as API
from app.models import OutboxMessage
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_message,
    make_resident,
    make_subscriber,
)


def test_dead_letters_filter_paginate_and_redrive(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    admin = make_admin(session)
    resident = make_resident(session)
    h = auth(admin, settings)
    offered = [
        make_message(session, recipient=resident, topic="wish.offered", status="dead")
        for _ in range(3)
    ]
    hook = make_message(session, topic="wish.completed", channel="webhook",
                        subscriber_id=make_subscriber(session).id,
                        status="dead")  # fmt: skip
    make_message(session, recipient=resident, topic="wish.offered")  # pending: not listed
    make_message(session, recipient=resident, topic="wish.offered", status="sent")

    r = client.get(f"{API}/admin/deliveries/dead", headers=h, params={"limit": 2})
    assert r.status_code == 200, r.text
    first = r.json()
    assert [m["id"] for m in first["items"]] == [hook.id, offered[2].id]
    r = client.get(
        f"{API}/admin/deliveries/dead",
        headers=h,
        params={"limit": 2, "cursor": first["next_cursor"]},
    )
    assert [m["id"] for m in r.json()["items"]] == [offered[1].id, offered[0].id]
    assert r.json()["next_cursor"] is None
    assert "payload" not in r.json()["items"][0]

    by_channel = client.get(
        f"{API}/admin/deliveries/dead", headers=h, params={"channel": "webhook"}
    )
    assert [m["uid"] for m in by_channel.json()["items"]] == [hook.uid]
    by_topic = client.get(
        f"{API}/admin/deliveries/dead", headers=h, params={"topic": "wish.offered"}
    )
    assert len(by_topic.json()["items"]) == 3
    bad = client.get(f"{API}/admin/deliveries/dead", headers=h, params={"topic": "x y"})
    assert bad.status_code == 422

    stats = client.get(f"{API}/admin/deliveries/stats", headers=h).json()
    counts = {(c["channel"], c["status"]): c["count"] for c in stats["counts"]}
    assert counts == {("user", "dead"): 3, ("user", "pending"): 1, ("user", "sent"): 1,
                      ("webhook", "dead"): 1}  # fmt: skip
    assert stats["pending_due"] == 1

    frozen.advance(minutes=5)
    r = client.post(f"{API}/admin/deliveries/{offered[0].id}/redrive", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["attempts"], body["dead_at"]) == ("pending", 0, None)
    assert body["uid"] == offered[0].uid  # the same message: receivers still drop repeats
    session.expire_all()
    again = session.get(OutboxMessage, offered[0].id)
    assert again is not None and again.available_at == frozen.now

    r = client.post(f"{API}/admin/deliveries/{offered[0].id}/redrive", headers=h)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "MESSAGE_NOT_DEAD"
    assert r.json()["error"]["details"] == {"status": "pending"}
    r = client.post(f"{API}/admin/deliveries/999999/redrive", headers=h)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "MESSAGE_NOT_FOUND"


def test_only_admins_see_dead_letters(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    resident = make_resident(session)
    dead = make_message(session, recipient=resident, status="dead")
    h = auth(resident, settings)
    assert client.get(f"{API}/admin/deliveries/dead", headers=h).status_code == 403
    assert client.post(f"{API}/admin/deliveries/{dead.id}/redrive", headers=h).status_code == 403
    session.expire_all()
    again = session.get(OutboxMessage, dead.id)
    assert again is not None and again.status == "dead"
