"""The demo city: every user the loop told something finds it in their inbox, rendered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.demo.seed import seed_demo
from app.models import OutboxMessage, User
from app.notifications.templates import TEMPLATES
from tests.demo.test_seed import _FAST_HASHER
from tests.fixtures.builders import auth

API = "/api/v1"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.accounts.service.hash_password", _FAST_HASHER.hash)


def test_every_demo_inbox_shows_its_messages(
    client: TestClient, session: Session, settings: Settings
) -> None:
    summary = seed_demo(session=session)
    per_user = dict(
        session.execute(
            select(OutboxMessage.recipient_id, func.count())
            .where(OutboxMessage.recipient_id.is_not(None))
            .group_by(OutboxMessage.recipient_id)
        ).all()
    )
    total = sum(per_user.values())
    assert f"消息 {total} 条，发给 {len(per_user)} 人" in summary
    topics = set(session.scalars(select(OutboxMessage.topic).distinct()))
    assert topics <= set(TEMPLATES), topics - set(TEMPLATES)
    assert {"wish.submitted", "offer.received", "wish.accepted", "record.to_confirm"} <= topics
    kinds: set[str] = set()
    for user_id, count in per_user.items():
        user = session.get(User, user_id)
        assert user is not None
        r = client.get(
            f"{API}/me/notifications", params={"limit": 100}, headers=auth(user, settings)
        )
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["unread_count"] == count
        assert len(page["items"]) == min(count, 100)
        ids = [item["id"] for item in page["items"]]
        assert ids == sorted(ids, reverse=True)
        for item in page["items"]:
            assert item["title"] != "消息通知" and item["body"], item
            kinds.add(item["kind"])
    assert {"offer", "wish_update", "todo"} <= kinds
