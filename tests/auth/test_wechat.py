"""WeChat sign-in and phone binding, through the real client code against the fake WeChat
server (tests/fixtures/fake_wechat.py), which speaks the documented formats and fails the
documented ways."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
import structlog.testing
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.throttle import LoginThrottle
from app.config import Settings
from app.models import AuthSession, User, WechatAccessToken
from app.models.enums import AccountRole
from tests.fixtures.builders import (
    KM_LNG,
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_user,
    make_volunteer,
    wish_body,
)
from tests.fixtures.fake_wechat import FakeWechat

API = "/api/v1"
SESSION_KEY = "c2Vzc2lvbi1rZXktc2VjcmV0"  # what the fake returns as session_key


def login(client: TestClient, code: str) -> Any:
    return client.post(f"{API}/auth/wechat/login", json={"code": code})


def bearer(body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def users(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


# ---------------------------------------------------------------- login


def test_first_login_creates_a_resident_and_the_next_finds_it(
    client: TestClient, session: Session, fake_wechat: FakeWechat
) -> None:
    before = users(session)
    r = login(client, fake_wechat.login_code(openid="o-new-1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["is_new_account"] is True
    assert body["session_kind"] == "consumer"
    assert [g["role"] for g in body["user"]["roles"]] == ["resident"]
    assert body["user"]["wechat_bound"] is True and body["user"]["phone"] is None
    assert SESSION_KEY not in r.text
    assert users(session) == before + 1
    again = login(client, fake_wechat.login_code(openid="o-new-1"))
    assert again.status_code == 200
    assert again.json()["is_new_account"] is False
    assert again.json()["user"]["id"] == body["user"]["id"]
    assert users(session) == before + 1
    me = client.get(f"{API}/me", headers=bearer(again.json()))
    assert me.json()["id"] == body["user"]["id"] and me.json()["session_kind"] == "consumer"


def test_unionid_finds_the_account_before_openid(
    client: TestClient, session: Session, fake_wechat: FakeWechat
) -> None:
    first = login(client, fake_wechat.login_code(openid="o-app-a", unionid="u-person-1")).json()
    # The same person through another mini-program of the same open-platform account.
    other = login(client, fake_wechat.login_code(openid="o-app-b", unionid="u-person-1")).json()
    assert other["user"]["id"] == first["user"]["id"] and other["is_new_account"] is False
    # A unionid WeChat starts sending later is recorded on the openid's account.
    plain = login(client, fake_wechat.login_code(openid="o-plain")).json()
    later = login(client, fake_wechat.login_code(openid="o-plain", unionid="u-later")).json()
    assert later["user"]["id"] == plain["user"]["id"]
    session.expire_all()
    user = session.get(User, plain["user"]["id"])
    assert user is not None and user.wechat_unionid == "u-later"


@pytest.mark.parametrize(
    ("errcode", "mode", "status", "code"),
    [
        (40029, None, 400, "WECHAT_CODE_INVALID"),
        (40163, None, 400, "WECHAT_CODE_USED"),
        (45011, None, 429, "WECHAT_RATE_LIMITED"),
        (40226, None, 403, "WECHAT_USER_BLOCKED"),
        (-1, None, 503, "WECHAT_BUSY"),
        (40125, None, 503, "WECHAT_UNAVAILABLE"),  # our secret is wrong: not the user's fault
        (None, "timeout", 503, "WECHAT_UNAVAILABLE"),
        (None, "http500", 503, "WECHAT_UNAVAILABLE"),
        (None, "garbage", 503, "WECHAT_UNAVAILABLE"),
    ],
)
def test_each_documented_failure_is_a_clear_error_and_changes_nothing(
    client: TestClient,
    session: Session,
    fake_wechat: FakeWechat,
    errcode: int | None,
    mode: str | None,
    status: int,
    code: str,
) -> None:
    fake_wechat.fail_next("jscode2session", errcode=errcode, mode=mode)
    before = users(session)
    sessions = session.scalar(select(func.count()).select_from(AuthSession))
    r = login(client, fake_wechat.login_code(openid=f"o-fail-{status}"))
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    if status == 429:
        assert r.headers["Retry-After"] == "60"
    assert users(session) == before
    assert session.scalar(select(func.count()).select_from(AuthSession)) == sessions


def test_a_code_works_once(client: TestClient, fake_wechat: FakeWechat) -> None:
    code = fake_wechat.login_code(openid="o-once")
    assert login(client, code).status_code == 200
    r = login(client, code)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "WECHAT_CODE_USED")
    r = login(client, "never-issued-code")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "WECHAT_CODE_INVALID")


def test_session_key_never_reaches_the_logs(
    client: TestClient, fake_wechat: FakeWechat, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured = structlog.testing.CapturingLogger()
    for module in ("app.wechat.client", "app.auth.service", "app.errors", "app.middleware"):
        logger = structlog.wrap_logger(
            captured, processors=[structlog.processors.KeyValueRenderer()]
        )
        monkeypatch.setattr(f"{module}.log", logger)
    code = fake_wechat.login_code(openid="o-logs")
    assert login(client, code).status_code == 200
    fake_wechat.fail_next("jscode2session", errcode=-1)
    login(client, fake_wechat.login_code(openid="o-logs"))
    text = repr(captured.calls)
    assert "wechat.errcode" in text and "auth.login" in text  # logging did happen
    assert SESSION_KEY not in text
    assert code not in text
    assert fake_wechat.secret not in text


def test_wechat_login_is_throttled_per_address(
    client: TestClient, settings: Settings, fake_wechat: FakeWechat
) -> None:
    app = client.app
    saved = app.state.throttle  # type: ignore[attr-defined]
    tight = settings.model_copy(update={"wechat_login_ip_limits": "2 per minute"})
    app.state.throttle = LoginThrottle(tight)  # type: ignore[attr-defined]
    try:
        for _ in range(2):
            assert login(client, fake_wechat.login_code(openid="o-thr")).status_code == 200
        calls = fake_wechat.calls["jscode2session"]
        r = login(client, fake_wechat.login_code(openid="o-thr"))
        assert (r.status_code, r.json()["error"]["code"]) == (429, "LOGIN_THROTTLED")
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert fake_wechat.calls["jscode2session"] == calls  # refused before calling WeChat
    finally:
        app.state.throttle = saved  # type: ignore[attr-defined]


# ---------------------------------------------------------------- phone binding


def bind(client: TestClient, headers: dict[str, str], code: str) -> Any:
    return client.post(f"{API}/auth/wechat/phone", json={"code": code}, headers=headers)


def test_bind_a_new_phone_with_one_shared_access_token(
    client: TestClient, session: Session, fake_wechat: FakeWechat
) -> None:
    a = login(client, fake_wechat.login_code(openid="o-phone-a")).json()
    b = login(client, fake_wechat.login_code(openid="o-phone-b")).json()
    r = bind(client, bearer(a), fake_wechat.phone_code("13712340001"))
    assert r.status_code == 200, r.text
    assert r.json()["merged"] is False and r.json()["user"]["phone"] == "13712340001"
    assert bind(client, bearer(b), fake_wechat.phone_code("13712340002")).status_code == 200
    # One stable-token call served both, and the token is stored with its expiry.
    assert fake_wechat.calls["stable_token"] <= 1
    session.expire_all()
    row = session.get(WechatAccessToken, fake_wechat.app_id)
    assert row is not None and row.access_token == fake_wechat.current_token
    assert row.expires_at is not None and row.lease_until is None


def test_a_rejected_access_token_is_force_refreshed_once(
    client: TestClient, fake_wechat: FakeWechat
) -> None:
    a = login(client, fake_wechat.login_code(openid="o-expired")).json()
    assert bind(client, bearer(a), fake_wechat.phone_code("13712340011")).status_code == 200
    fake_wechat.expire_tokens()  # WeChat now answers 42001 to the stored token
    r = bind(client, bearer(a), fake_wechat.phone_code("13712340012"))
    assert r.status_code == 200, r.text
    assert r.json()["user"]["phone"] == "13712340012"
    assert fake_wechat.force_refreshes == 1


def test_a_token_near_its_expiry_is_renewed_without_force(
    client: TestClient, fake_wechat: FakeWechat, session: Session
) -> None:
    fake_wechat.token_expires_in = 120  # under the five-minute margin
    a = login(client, fake_wechat.login_code(openid="o-near")).json()
    assert bind(client, bearer(a), fake_wechat.phone_code("13712340021")).status_code == 200
    calls = fake_wechat.calls["stable_token"]
    assert bind(client, bearer(a), fake_wechat.phone_code("13712340022")).status_code == 200
    assert fake_wechat.calls["stable_token"] == calls + 1
    assert fake_wechat.force_refreshes == 0


@pytest.mark.parametrize(
    ("country", "mode", "status", "code"),
    [
        ("1", None, 400, "PHONE_NOT_MAINLAND"),
        ("86", "wrong_appid", 502, "WECHAT_BAD_RESPONSE"),
    ],
)
def test_phone_refusals(
    client: TestClient,
    session: Session,
    fake_wechat: FakeWechat,
    country: str,
    mode: str | None,
    status: int,
    code: str,
) -> None:
    a = login(client, fake_wechat.login_code(openid=f"o-refuse-{code}")).json()
    if mode:
        fake_wechat.fail_next("phone", mode=mode)
    r = bind(client, bearer(a), fake_wechat.phone_code("2025550123", country=country))
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    session.expire_all()
    user = session.get(User, a["user"]["id"])
    assert user is not None and user.phone is None


def test_phone_errors_from_wechat(client: TestClient, fake_wechat: FakeWechat) -> None:
    a = login(client, fake_wechat.login_code(openid="o-phone-err")).json()
    r = bind(client, bearer(a), "not-a-real-code")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "WECHAT_CODE_INVALID")
    fake_wechat.fail_next("phone", errcode=45011)
    r = bind(client, bearer(a), fake_wechat.phone_code("13712340031"))
    assert (r.status_code, r.json()["error"]["code"]) == (429, "WECHAT_RATE_LIMITED")
    fake_wechat.fail_next("phone", errcode=-1)
    r = bind(client, bearer(a), fake_wechat.phone_code("13712340031"))
    assert (r.status_code, r.json()["error"]["code"]) == (503, "WECHAT_BUSY")


def test_the_phone_of_a_proxy_made_account_takes_the_wechat_identity(
    client: TestClient, session: Session, settings: Settings, fake_wechat: FakeWechat
) -> None:
    """A grid worker ordered for 李奶奶 by phone; she now signs in with WeChat: her account
    (with its wishes) takes the WeChat identity, the empty one just made retires."""
    grandma = make_resident(session, name="李奶奶", phone="13712340041")
    fresh = login(client, fake_wechat.login_code(openid="o-grandma")).json()
    r = bind(client, bearer(fresh), fake_wechat.phone_code("13712340041"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["merged"] is True and body["user"]["id"] == grandma.id
    assert body["tokens"]["user"]["id"] == grandma.id
    assert body["tokens"]["session_kind"] == "consumer"
    # The empty account's session is over; the new tokens work.
    old = client.get(f"{API}/me", headers=bearer(fresh))
    assert (old.status_code, old.json()["error"]["code"]) == (401, "INVALID_TOKEN")
    assert client.get(f"{API}/me", headers=bearer(body["tokens"])).json()["id"] == grandma.id
    # Next time WeChat sign-in lands in her account.
    again = login(client, fake_wechat.login_code(openid="o-grandma")).json()
    assert again["user"]["id"] == grandma.id and again["user"]["phone"] == "13712340041"
    session.expire_all()
    retired = session.get(User, fresh["user"]["id"])
    assert retired is not None and not retired.is_active and retired.wechat_openid is None


def test_a_phone_bound_to_another_wechat_is_taken(
    client: TestClient, session: Session, fake_wechat: FakeWechat
) -> None:
    first = login(client, fake_wechat.login_code(openid="o-first")).json()
    assert bind(client, bearer(first), fake_wechat.phone_code("13712340051")).status_code == 200
    second = login(client, fake_wechat.login_code(openid="o-second")).json()
    r = bind(client, bearer(second), fake_wechat.phone_code("13712340051"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "PHONE_TAKEN")
    session.expire_all()
    assert session.get(User, second["user"]["id"]).phone is None  # type: ignore[union-attr]


def test_an_account_with_data_is_not_merged_away(
    client: TestClient, session: Session, settings: Settings, fake_wechat: FakeWechat
) -> None:
    tree = make_tree(session)
    make_resident(session, phone="13712340061")
    fresh = login(client, fake_wechat.login_code(openid="o-busy")).json()
    user = session.get(User, fresh["user"]["id"])
    assert user is not None
    make_volunteer(session, tree.stations[0], user=user)  # it holds a volunteer profile now
    r = bind(client, bearer(fresh), fake_wechat.phone_code("13712340061"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "PHONE_ACCOUNT_CONFLICT")


def test_a_coordinator_is_one_person_but_wechat_gives_no_staff_powers(
    client: TestClient, session: Session, fake_wechat: FakeWechat
) -> None:
    tree = make_tree(session)
    coordinator = make_coordinator(session, tree.stations[0], phone="13712340071")
    fresh = login(client, fake_wechat.login_code(openid="o-coord")).json()
    r = bind(client, bearer(fresh), fake_wechat.phone_code("13712340071"))
    assert r.status_code == 200 and r.json()["merged"] is True
    tokens = r.json()["tokens"]
    assert tokens["user"]["id"] == coordinator.id
    assert {g["role"] for g in tokens["user"]["roles"]} == {"resident"}
    r = client.get(f"{API}/wishes/review-queue", headers=bearer(tokens))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "STAFF_ONLY")


def test_only_consumer_sessions_bind_phones(
    client: TestClient, session: Session, settings: Settings, fake_wechat: FakeWechat
) -> None:
    staff = make_user(session, roles=[(AccountRole.ADMIN, None)])
    r = bind(client, auth(staff, settings), fake_wechat.phone_code("13712340081"))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "CONSUMER_SESSION_REQUIRED")


# ---------------------------------------------------------------- end to end


def refresh(client: TestClient, token: str) -> Any:
    return client.post(f"{API}/auth/refresh", json={"refresh_token": token})


def test_a_new_resident_end_to_end(
    client: TestClient, session: Session, fake_wechat: FakeWechat
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    signed_in = login(client, fake_wechat.login_code(openid="o-e2e-resident")).json()
    bound = bind(client, bearer(signed_in), fake_wechat.phone_code("13712340091"))
    assert bound.status_code == 200 and bound.json()["user"]["phone"] == "13712340091"
    wish = client.post(
        f"{API}/wishes", json=wish_body(station.lat, station.lng), headers=bearer(signed_in)
    )
    assert wish.status_code == 201, wish.text
    # Refresh rotates: a new pair, the old refresh token spent.
    renewed = refresh(client, signed_in["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    pair = renewed.json()
    assert pair["refresh_token"] != signed_in["refresh_token"]
    assert pair["refresh_expires_at"] == signed_in["refresh_expires_at"]  # never extended
    mine = client.get(f"{API}/me/wishes", headers=bearer(pair))
    assert [w["id"] for w in mine.json()["items"]] == [wish.json()["id"]]
    # Reuse of the spent token: the whole family is revoked.
    reused = refresh(client, signed_in["refresh_token"])
    assert (reused.status_code, reused.json()["error"]["code"]) == (401, "REFRESH_TOKEN_REUSED")
    for headers in (bearer(signed_in), bearer(pair)):
        r = client.get(f"{API}/me", headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "INVALID_TOKEN")
    r = refresh(client, pair["refresh_token"])
    assert (r.status_code, r.json()["error"]["code"]) == (401, "SESSION_ENDED")
    # Signing in again works; logout ends that session.
    again = login(client, fake_wechat.login_code(openid="o-e2e-resident")).json()
    assert again["user"]["phone"] == "13712340091"
    assert client.post(f"{API}/auth/logout", headers=bearer(again)).status_code == 204
    r = client.get(f"{API}/me", headers=bearer(again))
    assert r.status_code == 401
    r = refresh(client, again["refresh_token"])
    assert (r.status_code, r.json()["error"]["code"]) == (401, "SESSION_ENDED")


def test_a_new_volunteer_end_to_end(
    client: TestClient, session: Session, settings: Settings, fake_wechat: FakeWechat
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    signed_in = login(client, fake_wechat.login_code(openid="o-e2e-vol", unionid="u-e2e")).json()
    assert bind(client, bearer(signed_in), fake_wechat.phone_code("13712340101")).status_code == 200
    registered = client.post(
        f"{API}/me/volunteer",
        json={
            "home_station_id": station.id,
            "lat": station.lat,
            "lng": station.lng + 0.2 * KM_LNG,
            "skill_codes": ["errands"],
        },
        headers=bearer(signed_in),
    )
    assert registered.status_code == 201, registered.text
    # The same session now acts as a volunteer.
    assert client.get(f"{API}/me/offers", headers=bearer(signed_in)).status_code == 200
    pair = refresh(client, signed_in["refresh_token"]).json()
    assert {g["role"] for g in pair["user"]["roles"]} == {"resident", "volunteer"}
    assert pair["user"]["volunteer_id"] == registered.json()["id"]
    # A coordinator suspends the volunteer: every session of theirs ends.
    coordinator = make_coordinator(session, station)
    r = client.post(
        f"{API}/volunteers/{registered.json()['id']}/suspend",
        json={"reason": "多次爽约"},
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200, r.text
    r = client.get(f"{API}/me/offers", headers=bearer(pair))
    assert (r.status_code, r.json()["error"]["code"]) == (401, "INVALID_TOKEN")
    r = refresh(client, pair["refresh_token"])
    assert (r.status_code, r.json()["error"]["code"]) == (401, "SESSION_ENDED")
    # Signing in again works (suspension is about tasks, not the account) and logout ends it.
    back = login(client, fake_wechat.login_code(openid="o-e2e-vol", unionid="u-e2e")).json()
    assert back["user"]["id"] == signed_in["user"]["id"]
    assert client.post(f"{API}/auth/logout", headers=bearer(back)).status_code == 204
    assert client.get(f"{API}/me", headers=bearer(back)).status_code == 401
