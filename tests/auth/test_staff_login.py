"""Staff sign-in: username + password, throttled per account and per address with back-off,
first sign-in forces a password change, admins reset passwords, hashing never holds a lock."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.requests import Request

from app.accounts.service import create_staff_user
from app.auth import service as auth_service
from app.auth.errors import LoginThrottled
from app.auth.throttle import LoginThrottle, client_ip
from app.auth.users import ensure_role
from app.config import Environment, Settings
from app.db import Database, make_engine, writer
from app.main import create_app
from app.models.enums import AccountRole
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import auth, make_admin, make_coordinator, make_tree
from tests.fixtures.databases import fresh_database

API = "/api/v1"
PASSWORD = "right-password-1"


def staff(session: Session, username: str, *, role: AccountRole = AccountRole.ADMIN) -> int:
    user = create_staff_user(session=session, name="员工", username=username, password=PASSWORD)
    ensure_role(session=session, user_id=user.id, role=role)
    return user.id


def password_login(client: TestClient, username: str, password: str) -> Any:
    return client.post(f"{API}/auth/login", json={"username": username, "password": password})


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_staff_login_gives_a_staff_session(client: TestClient, session: Session) -> None:
    staff(session, "boss")
    r = password_login(client, "boss", PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["session_kind"] == "staff" and body["password_change_required"] is False
    assert [g["role"] for g in body["user"]["roles"]] == ["admin"]
    assert (
        client.get(f"{API}/admin/users/{body['user']['id']}", headers=bearer(body)).status_code
        == 200
    )
    r = password_login(client, "boss", "wrong-password")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "BAD_CREDENTIALS")
    r = password_login(client, "nobody", "wrong-password")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "BAD_CREDENTIALS")


def test_a_coordinators_phone_gives_no_staff_powers(client: TestClient, session: Session) -> None:
    """The development phone login (like WeChat) opens a consumer session: the coordinator's
    grant is not in it."""
    tree = make_tree(session)
    coordinator = make_coordinator(session, tree.stations[0], phone="13600000001")
    r = client.post(f"{API}/auth/dev-login", json={"phone": "13600000001"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["id"] == coordinator.id and body["session_kind"] == "consumer"
    assert {g["role"] for g in body["user"]["roles"]} == {"resident"}
    for path in ("/wishes/review-queue", "/volunteers"):
        denied = client.get(API + path, headers=bearer(body))
        assert (denied.status_code, denied.json()["error"]["code"]) == (403, "STAFF_ONLY")


def test_failed_passwords_lock_the_account_with_retry_after(
    client: TestClient, session: Session
) -> None:
    staff(session, "target")
    for _ in range(5):
        assert password_login(client, "target", "guess").status_code == 401
    r = password_login(client, "target", PASSWORD)  # even the right password waits
    assert (r.status_code, r.json()["error"]["code"]) == (429, "LOGIN_THROTTLED")
    assert 1 <= int(r.headers["Retry-After"]) <= 15 * 60
    assert r.json()["error"]["details"]["retry_after_seconds"] == int(r.headers["Retry-After"])
    # Other accounts are not locked by it.
    staff(session, "bystander")
    assert password_login(client, "bystander", PASSWORD).status_code == 200


def test_a_success_clears_the_accounts_failures(client: TestClient, session: Session) -> None:
    staff(session, "forgetful")
    for _ in range(4):
        assert password_login(client, "forgetful", "guess").status_code == 401
    assert password_login(client, "forgetful", PASSWORD).status_code == 200
    for _ in range(4):
        assert password_login(client, "forgetful", "guess").status_code == 401
    assert password_login(client, "forgetful", PASSWORD).status_code == 200


def test_a_guesser_on_one_address_does_not_lock_the_user_out_elsewhere(
    settings: Settings,
) -> None:
    """Failures count per account and address; the account-wide count is higher and bounds a
    guesser spread over many addresses, whom the real user's success does not reset."""
    throttle = LoginThrottle(
        settings.model_copy(
            update={
                "login_account_limits": "3 per hour",
                "login_account_total_limits": "7 per hour",
                "login_ip_limits": "1000 per hour",
            }
        ),
        namespace=uuid.uuid4().hex,
    )
    for _ in range(3):
        throttle.before_password(username="clerk", ip="203.0.113.9")
        throttle.password_failed(username="clerk", ip="203.0.113.9")
    with pytest.raises(LoginThrottled) as guesser:
        throttle.before_password(username="clerk", ip="203.0.113.9")
    assert guesser.value.details["retry_after_seconds"] > 0
    throttle.before_password(username="clerk", ip="10.1.1.1")  # the clerk at the office
    throttle.password_succeeded(username="clerk", ip="10.1.1.1")
    # Spread over more addresses, the guesser reaches the account-wide bound...
    for address in ("198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.2"):
        throttle.before_password(username="clerk", ip=address)
        throttle.password_failed(username="clerk", ip=address)
    # ...which holds on every address, the clerk's success before notwithstanding.
    for address in ("198.51.100.3", "10.1.1.1"):
        with pytest.raises(LoginThrottled):
            throttle.before_password(username="clerk", ip=address)


def test_attempts_per_address_are_limited(client: TestClient, settings: Settings) -> None:
    """20 attempts a minute from one address (default), whatever the usernames."""
    for i in range(20):
        assert password_login(client, f"user{i}", "guess").status_code == 401
    r = password_login(client, "user-next", "guess")
    assert (r.status_code, r.json()["error"]["code"]) == (429, "LOGIN_THROTTLED")
    assert 1 <= int(r.headers["Retry-After"]) <= 60


def test_a_refusal_is_answered_after_a_pause(client: TestClient, settings: Settings) -> None:
    app = client.app
    app.state.settings = settings.model_copy(update={"login_refusal_delay_seconds": 0.5})  # type: ignore[attr-defined]
    try:
        for i in range(20):
            password_login(client, f"pause{i}", "guess")
        started = time.monotonic()
        r = password_login(client, "pause-next", "guess")
        assert r.status_code == 429
        assert time.monotonic() - started >= 0.5
    finally:
        app.state.settings = settings  # type: ignore[attr-defined]


def test_lockouts_grow_with_repeated_failures(settings: Settings) -> None:
    """Back-off: a short tier locks briefly; failing again soon after hits the longer tier."""
    throttle = LoginThrottle(
        settings.model_copy(update={"login_account_limits": "2 per 1 second; 3 per 30 seconds"}),
        namespace=uuid.uuid4().hex,
    )
    for _ in range(2):
        throttle.before_password(username="u", ip="10.0.0.1")
        throttle.password_failed(username="u", ip="10.0.0.1")
    with pytest.raises(LoginThrottled) as first:
        throttle.before_password(username="u", ip="10.0.0.1")
    assert first.value.details["retry_after_seconds"] == 1
    time.sleep(1.1)
    throttle.before_password(username="u", ip="10.0.0.1")  # the short lockout is over
    throttle.password_failed(username="u", ip="10.0.0.1")
    with pytest.raises(LoginThrottled) as second:
        throttle.before_password(username="u", ip="10.0.0.1")
    assert second.value.details["retry_after_seconds"] >= 28


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_forwarded_for_is_believed_only_from_trusted_proxies(settings: Settings) -> None:
    plain = settings.model_copy(update={"trusted_proxies": ""})
    assert client_ip(_request("203.0.113.7", "198.51.100.1"), plain) == "203.0.113.7"
    behind = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8, 127.0.0.1"})
    # From the proxy: the nearest untrusted hop (a client cannot prepend its way in).
    assert client_ip(_request("10.1.2.3", "6.6.6.6, 198.51.100.1"), behind) == "198.51.100.1"
    assert client_ip(_request("10.1.2.3", "198.51.100.1, 10.9.9.9"), behind) == "198.51.100.1"
    # Not from a proxy: the header is ignored.
    assert client_ip(_request("203.0.113.7", "10.0.0.1"), behind) == "203.0.113.7"
    # Garbage in the header: stop at it.
    assert client_ip(_request("10.1.2.3", "not-an-ip"), behind) == "10.1.2.3"
    with pytest.raises(ValueError):
        Settings(env=Environment.TEST, secret_key=TEST_SECRET, trusted_proxies="10.0.0.0/33")


def test_redis_shares_counts_between_processes(settings: Settings) -> None:
    """Two throttles on one Redis (two processes) lock an account together."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Redis at {url} is not reachable: {exc} (CI requires it)")
        pytest.skip(f"Redis at {url} is not reachable: {exc}")
    shared = settings.model_copy(update={"redis_url": url})
    namespace = uuid.uuid4().hex
    one, two = (
        LoginThrottle(shared, namespace=namespace),
        LoginThrottle(shared, namespace=namespace),
    )
    assert one.shared and two.shared
    for throttle in (one, two, one, two, one):
        throttle.before_password(username="shared", ip="10.0.0.2")
        throttle.password_failed(username="shared", ip="10.0.0.2")
    with pytest.raises(LoginThrottled):
        two.before_password(username="shared", ip="10.0.0.2")
    with pytest.raises(LoginThrottled):
        one.before_password(username="shared", ip="10.0.0.2")
    # A process that cannot reach Redis still throttles, in memory.
    down = LoginThrottle(
        settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}), namespace=namespace
    )
    for _ in range(5):
        down.before_password(username="alone", ip="10.0.0.5")
        down.password_failed(username="alone", ip="10.0.0.5")
    with pytest.raises(LoginThrottled):
        down.before_password(username="alone", ip="10.0.0.5")


# ---------------------------------------------------------------- forced password change


def test_an_account_made_by_an_admin_must_change_its_password(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    admin = auth(make_admin(session), settings)
    made = client.post(
        f"{API}/admin/users",
        json={"name": "王协调", "username": "wang.coord", "password": "temporary-1"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    user_id = made.json()["id"]
    granted = client.post(
        f"{API}/admin/users/{user_id}/roles",
        json={"role": "coordinator", "org_unit_id": tree.stations[0].id},
        headers=admin,
    )
    assert granted.status_code == 200
    first = password_login(client, "wang.coord", "temporary-1").json()
    assert first["password_change_required"] is True
    for method, path in (("GET", "/wishes/review-queue"), ("GET", "/volunteers")):
        r = client.request(method, API + path, headers=bearer(first))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "PASSWORD_CHANGE_REQUIRED")
    assert client.get(f"{API}/me", headers=bearer(first)).json()["password_change_required"]

    def change(current: str, new: str) -> Any:
        body = {"current_password": current, "new_password": new}
        return client.post(f"{API}/auth/password", json=body, headers=bearer(first))

    assert change("wrong-one-1", "Better-pass-2024").json()["error"]["code"] == (
        "WRONG_CURRENT_PASSWORD"
    )
    for weak in ("short1", "onlyletterslong", "1234567890123", "wang.coord-2024", "temporary-1"):
        r = change("temporary-1", weak)
        assert (r.status_code, r.json()["error"]["code"]) == (400, "WEAK_PASSWORD"), weak
    r = change("temporary-1", "Better-pass-2024")
    assert r.status_code == 200, r.text
    assert r.json()["password_change_required"] is False
    # The same session may now work; the old password no longer signs in.
    assert client.get(f"{API}/wishes/review-queue", headers=bearer(first)).status_code == 200
    assert password_login(client, "wang.coord", "temporary-1").status_code == 401
    assert (
        password_login(client, "wang.coord", "Better-pass-2024").json()["password_change_required"]
        is False
    )


def test_an_admin_reset_ends_sessions_and_forces_a_change(
    client: TestClient, session: Session, settings: Settings
) -> None:
    staff(session, "reset.me", role=AccountRole.ADMIN)
    before = password_login(client, "reset.me", PASSWORD).json()
    admin = auth(make_admin(session), settings)
    r = client.post(f"{API}/admin/users/{before['user']['id']}/reset-password", headers=admin)
    assert r.status_code == 200, r.text
    temporary = r.json()["temporary_password"]
    assert len(temporary) == 12
    assert client.get(f"{API}/me", headers=bearer(before)).status_code == 401
    assert password_login(client, "reset.me", PASSWORD).status_code == 401
    after = password_login(client, "reset.me", temporary).json()
    assert after["password_change_required"] is True


def test_demo_style_staff_accounts_are_not_flagged(client: TestClient, session: Session) -> None:
    """Accounts made by scripts (the demo, `wenming create-admin`) chose their password."""
    staff(session, "scripted")
    assert password_login(client, "scripted", PASSWORD).json()["password_change_required"] is False


def test_only_staff_sessions_change_passwords(
    client: TestClient, session: Session, settings: Settings
) -> None:
    r = client.post(f"{API}/auth/dev-login", json={"phone": "13600000002"})
    body = {"current_password": "x", "new_password": "Better-pass-2024"}
    r = client.post(f"{API}/auth/password", json=body, headers=bearer(r.json()))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "STAFF_SESSION_REQUIRED")


# ---------------------------------------------------------------- no lock while hashing


@pytest.fixture
def real_database(engine_name: str, tmp_path: Path) -> Iterator[tuple[Database, Settings]]:
    with fresh_database(engine_name, tmp_path) as url:
        settings = Settings(
            env=Environment.TEST, database_url=url, secret_key=TEST_SECRET, scheduler_enabled=False
        )
        engine = make_engine(url, settings)
        try:
            yield Database(engine), settings
        finally:
            engine.dispose()


def test_hashing_runs_with_no_transaction_open(
    real_database: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, settings = real_database
    engine: Engine = database.engine
    with Session(writer(engine)) as session, session.begin():
        staff(session, "hasher")
    seen: list[int] = []
    real_verify = auth_service.verify_password

    def watched(password: str, password_hash: str | None) -> bool:
        seen.append(engine.pool.checkedout())  # type: ignore[attr-defined]
        return real_verify(password, password_hash)

    monkeypatch.setattr(auth_service, "verify_password", watched)
    app = create_app(settings, database=database)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert password_login(client, "hasher", PASSWORD).status_code == 200
        assert password_login(client, "hasher", "wrong").status_code == 401
        ok = password_login(client, "hasher", PASSWORD).json()
        r = client.post(
            f"{API}/auth/password",
            json={"current_password": PASSWORD, "new_password": "Another-pass-77"},
            headers=bearer(ok),
        )
        assert r.status_code == 200, r.text
    assert seen == [0, 0, 0, 0]  # no connection (so no transaction) held while hashing
