from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from tests.fixtures.builders import auth, make_resident, make_tree


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_me(client: TestClient, session: Session, settings: Settings) -> None:
    make_tree(session)
    user = make_resident(session)
    r = client.get("/api/v1/me", headers=auth(user, settings))
    assert r.status_code == 200, r.text
    assert r.json()["roles"][0]["role"] == "resident"
