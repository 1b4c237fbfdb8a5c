"""Signing in: staff with a username and password, residents through the development sign-in."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.users import user_by_phone

API = "/api/v1"


def error_code(response: object) -> str:
    return response.json()["error"]["code"]  # type: ignore[attr-defined, no-any-return]


def test_login(client: TestClient, session: Session) -> None:
    from app.accounts.service import create_staff_user

    create_staff_user(session=session, name="站长", username="zhanzhang", password="right-pass")
    r = client.post(f"{API}/auth/login", json={"username": "zhanzhang", "password": "wrong-pass"})
    assert r.status_code == 401 and error_code(r) == "BAD_CREDENTIALS"
    r = client.post(f"{API}/auth/login", json={"username": "nobody", "password": "wrong-pass"})
    assert r.status_code == 401 and error_code(r) == "BAD_CREDENTIALS"
    r = client.post(f"{API}/auth/login", json={"username": "zhanzhang", "password": "right-pass"})
    assert r.status_code == 200
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["name"] == "站长"


def test_dev_login_creates_a_resident(client: TestClient, session: Session) -> None:
    r = client.post(f"{API}/auth/dev-login", json={"phone": "13700001111", "name": "李阿姨"})
    assert r.status_code == 200
    assert [g["role"] for g in r.json()["user"]["roles"]] == ["resident"]
    user = user_by_phone(session, "13700001111")
    assert user is not None
    assert user.name == "李阿姨"
    again = client.post(f"{API}/auth/dev-login", json={"phone": "13700001111"})
    assert again.json()["user"]["id"] == user.id
