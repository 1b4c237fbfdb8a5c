"""The "user" channel against the fake WeChat (subscribeMessage.send as documented) and the SMS
providers: quota counting, refusals, token refresh, quiet hours, opt-outs and SMS caps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.crypto.sealing import lookup_hash
from app.delivery.channels import Failed, Held, Retry, Sent, Skipped, handler_for
from app.main import API_PREFIX
from app.models import SmsDailyCount, SubscriptionQuota
from app.push import channel
from app.push.preferences import save
from tests.fixtures.builders import auth
from tests.fixtures.fake_sms import FakeTencentSms
from tests.fixtures.fake_wechat import FakeWechat
from tests.push.conftest import NIGHT, TEMPLATES, Push, rendered
from tests.sms.conftest import tencent_settings

OFFER = TEMPLATES["offer"].id


def test_the_app_registers_this_channel_for_user_messages(app: FastAPI) -> None:
    assert handler_for("user") is channel.handle


def test_one_accept_allows_one_message_then_inbox_or_sms(
    client: TestClient,
    push_app: FastAPI,
    push: Push,
    wechat: FakeWechat,
    push_settings: Settings,
) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    answer = {"errMsg": "requestSubscribeMessage:ok", OFFER: "accept"}
    r = client.post(
        f"{API_PREFIX}/me/subscriptions", json=answer, headers=auth(user, push_settings)
    )
    assert r.status_code == 200, r.text
    wechat.subscribe(user.wechat_openid, OFFER)  # what WeChat itself now allows
    assert push.remaining(user) == 1

    result = push.send(user)
    assert isinstance(result, Sent) and result.via == "wechat" and result.provider_id
    assert push.remaining(user) == 0
    [message] = wechat.received
    assert message["touser"] == user.wechat_openid
    assert message["template_id"] == OFFER
    assert message["page"] == "pages/wish/detail?id=12"
    assert (message["miniprogram_state"], message["lang"]) == ("formal", "zh_CN")
    assert message["data"]["thing1"] == {"value": "帮独居老人买菜"}
    assert set(message["data"]) == {"thing1", "time2", "thing3", "phrase4"}

    calls = wechat.calls["subscribe_send"]
    assert push.send(user) == Skipped("inbox only: no subscription left")
    assert wechat.calls["subscribe_send"] == calls  # nothing spent that is not there

    urgent = push.send(user, render=rendered(urgent=True))
    assert isinstance(urgent, Sent) and urgent.via == "sms"
    assert len(wechat.received) == 1


def test_a_refusal_43101_leaves_none_and_an_urgent_message_goes_by_sms(
    push: Push, wechat: FakeWechat
) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    wechat.known_openids.add(user.wechat_openid)
    push.grant(user, times=2)  # we counted two; the user turned the template off in WeChat
    assert push.send(user) == Skipped("inbox only: WeChat refused the user (43101)")
    assert push.remaining(user) == 0
    last = push.session.scalar(
        select(SubscriptionQuota.last_result).where(SubscriptionQuota.user_id == user.id)
    )
    assert last == "refused"

    push.grant(user, times=1)
    result = push.send(user, render=rendered(urgent=True))
    assert isinstance(result, Sent) and result.via == "sms"
    assert push.remaining(user) == 0
    assert wechat.received == []


def test_an_expired_token_is_refreshed_once_through_the_shared_cache(
    push: Push, wechat: FakeWechat
) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    push.grant(user, times=2)
    wechat.subscribe(user.wechat_openid, OFFER, times=2)
    assert isinstance(push.send(user), Sent)
    wechat.expire_tokens()  # WeChat now answers 42001 to the stored token
    result = push.send(user)
    assert isinstance(result, Sent) and result.via == "wechat"
    assert wechat.force_refreshes == 1
    assert len(wechat.received) == 2
    assert push.remaining(user) == 0


@pytest.mark.parametrize(
    ("failure", "error", "after"),
    [
        ({"errcode": -1}, "wechat errcode -1", None),
        ({"errcode": 45009}, "wechat errcode 45009", timedelta(hours=1)),
        ({"errcode": 45047}, "wechat errcode 45047", timedelta(hours=1)),
        ({"mode": "drop"}, "wechat: WECHAT_UNAVAILABLE", None),
        ({"mode": "http500"}, "wechat: WECHAT_UNAVAILABLE", None),
    ],
)
def test_passing_failures_retry_and_give_the_subscription_back(
    push: Push, wechat: FakeWechat, failure: dict[str, object], error: str, after: object
) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    push.grant(user)
    wechat.subscribe(user.wechat_openid, OFFER)
    wechat.fail_next("subscribe_send", **failure)  # type: ignore[arg-type]
    assert push.send(user) == Retry(error, after=after)  # type: ignore[arg-type]
    assert push.remaining(user) == 1
    assert wechat.received == []
    assert isinstance(push.send(user), Sent)  # the retry spends it
    assert push.remaining(user) == 0


def test_an_urgent_message_does_not_wait_out_a_wechat_limit(push: Push, wechat: FakeWechat) -> None:
    user = push.user()
    push.grant(user)
    wechat.fail_next("subscribe_send", errcode=45009)
    result = push.send(user, render=rendered(urgent=True))
    assert isinstance(result, Sent) and result.via == "sms"
    assert push.remaining(user) == 1


@pytest.mark.parametrize("errcode", [47003, 40037, 41030])
def test_a_message_wechat_cannot_take_is_a_dead_letter_or_an_sms(
    push: Push, wechat: FakeWechat, errcode: int
) -> None:
    user = push.user()
    push.grant(user)
    wechat.fail_next("subscribe_send", errcode=errcode)
    assert push.send(user) == Failed(f"wechat errcode {errcode}")
    assert push.remaining(user) == 1  # WeChat used nothing
    wechat.fail_next("subscribe_send", errcode=errcode)
    result = push.send(user, render=rendered(urgent=True))
    assert isinstance(result, Sent) and result.via == "sms"
    assert push.remaining(user) == 1


def test_a_page_the_mini_program_does_not_have_is_refused_41030(
    push: Push, wechat: FakeWechat
) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    push.grant(user)
    wechat.subscribe(user.wechat_openid, OFFER)
    bad = rendered()
    bad = type(bad)(**{**bad.__dict__, "page": "pages/nowhere/index"})
    assert push.send(user, render=bad) == Failed("wechat errcode 41030")


def test_values_are_cut_to_what_each_key_type_takes(push: Push, wechat: FakeWechat) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    push.grant(user)
    wechat.subscribe(user.wechat_openid, OFFER)
    long = "为行动不便的独居老人代购一周的米面粮油和常用药品并送到家中"
    value = rendered(
        subject=long + "\n",
        time="2026-12-02T10:30:00+08:00",
        place="余村 3 组 12 号旁边的小卖部门口往东五十米",
    )
    value = type(value)(**{**value.__dict__, "fields": {**value.fields, "status": "待接单ok"}})
    assert isinstance(push.send(user, render=value), Sent)  # the fake checks every limit
    data = {key: item["value"] for key, item in wechat.received[0]["data"].items()}
    assert data["thing1"] == long[:19] + "…"
    assert data["phrase4"] == "待接单"
    assert data["time2"] == "2026年12月2日 10:30"
    assert len(data["thing3"]) == 20 and data["thing3"].endswith("…")


def test_quiet_hours_hold_until_morning_but_not_urgent_messages(
    push: Push, wechat: FakeWechat
) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    push.grant(user, times=3)
    wechat.subscribe(user.wechat_openid, OFFER, times=3)
    # 23:30 local: held until 07:00 the next morning (23:00 UTC).
    assert push.send(user, at=NIGHT) == Held(
        until=datetime(2026, 12, 2, 23, 0, tzinfo=UTC), reason="quiet hours"
    )
    # 06:00 local: held until 07:00 the same morning.
    early = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    assert push.send(user, at=early) == Held(until=early + timedelta(hours=1), reason="quiet hours")
    assert push.remaining(user) == 3 and wechat.received == []
    # Urgent: sent at once.
    assert isinstance(push.send(user, at=NIGHT, render=rendered(urgent=True)), Sent)
    # At 07:00 exactly, quiet hours are over.
    assert isinstance(push.send(user, at=datetime(2026, 12, 2, 23, 0, tzinfo=UTC)), Sent)


def test_a_message_with_nothing_to_push_is_not_held_overnight(push: Push) -> None:
    user = push.user()  # signed in with WeChat, but no subscription left
    assert push.send(user, at=NIGHT) == Skipped("inbox only: no subscription left")
    stranger = push.user(openid=False)
    assert push.send(stranger, at=NIGHT) == Skipped("inbox only: no WeChat sign-in")


def test_own_quiet_hours_or_none(push: Push, wechat: FakeWechat) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    push.grant(user, times=3)
    wechat.subscribe(user.wechat_openid, OFFER, times=3)
    save(
        push.session,
        user_id=user.id,
        opted_out=[],
        quiet_hours_enabled=True,
        quiet_start=time(12, 0),
        quiet_end=time(14, 0),
    )
    noon = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # 13:00 local
    assert push.send(user, at=noon) == Held(
        until=datetime(2026, 12, 2, 6, 0, tzinfo=UTC), reason="quiet hours"
    )
    assert isinstance(push.send(user, at=NIGHT), Sent)  # 23:30 is not quiet for this user
    save(
        push.session,
        user_id=user.id,
        opted_out=[],
        quiet_hours_enabled=False,
        quiet_start=None,
        quiet_end=None,
    )
    assert isinstance(push.send(user, at=noon), Sent)


def test_an_opted_out_topic_is_never_pushed(push: Push, wechat: FakeWechat) -> None:
    user = push.user()
    assert user.wechat_openid is not None
    push.grant(user)
    wechat.subscribe(user.wechat_openid, OFFER)
    save(
        push.session,
        user_id=user.id,
        opted_out=["offer.received"],
        quiet_hours_enabled=True,
        quiet_start=None,
        quiet_end=None,
    )
    urgent = rendered(urgent=True)
    assert push.send(user, render=urgent) == Skipped("opted out of this topic")
    assert wechat.calls["subscribe_send"] == 0 and push.remaining(user) == 1
    assert isinstance(push.send(user, topic="wish.taken"), Sent)


def test_sms_is_capped_per_number_and_local_day(push: Push, push_settings: Settings) -> None:
    settings = push_settings.model_copy(update={"sms_daily_cap_per_number": 2})
    user = push.user(openid=False, phone="13700001234")
    urgent = rendered(urgent=True)
    for _ in range(2):
        result = push.send(user, render=urgent, settings=settings)
        assert isinstance(result, Sent) and result.via == "sms"
    assert push.send(user, render=urgent, settings=settings) == Skipped(
        "inbox only: no WeChat sign-in; SMS daily cap reached"
    )
    rows = push.session.execute(select(SmsDailyCount.phone_hash, SmsDailyCount.sent)).all()
    assert [tuple(row) for row in rows] == [(lookup_hash("13700001234"), 2)]
    # 00:30 the next local day (16:30 UTC): a new day.
    tomorrow = datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    result = push.send(user, render=urgent, settings=settings, at=tomorrow)
    assert isinstance(result, Sent) and result.via == "sms"


def test_without_wechat_or_a_phone_a_message_stays_in_the_inbox(push: Push) -> None:
    user = push.user(openid=False)
    assert push.send(user) == Skipped("inbox only: no WeChat sign-in")
    user.phone = None
    push.session.flush()
    assert push.send(user, render=rendered(urgent=True)) == Skipped(
        "inbox only: no WeChat sign-in; no mobile number"
    )
    user.is_active = False
    push.session.flush()
    assert push.send(user) == Skipped("recipient no longer has an account")


def test_no_template_for_a_kind_means_inbox_only(push: Push) -> None:
    user = push.user()
    settings = push.ctx.settings.model_copy(update={"wechat_templates": {}})
    assert push.send(user, settings=settings) == Skipped(
        "inbox only: no subscription template for offer"
    )


def test_urgent_sms_through_tencent_cloud(
    push: Push, push_settings: Settings, fake_sms: FakeTencentSms
) -> None:
    settings = tencent_settings(push_settings, fake_sms)
    user = push.user(openid=False, phone="13700005678")
    result = push.send(user, render=rendered(urgent=True), settings=settings)
    assert isinstance(result, Sent) and result.via == "sms"
    assert result.provider_id is not None and result.provider_id.startswith("2028:")
    [body] = fake_sms.received
    assert body["PhoneNumberSet"] == ["+8613700005678"]
    assert body["SessionContext"].startswith("msg_")

    fake_sms.fail_next(code="LimitExceeded.PhoneNumberThirtySecondLimit")
    result = push.send(user, render=rendered(urgent=True), settings=settings)
    assert result == Retry("sms LimitExceeded.PhoneNumberThirtySecondLimit")
    fake_sms.fail_next(code="FailedOperation.PhoneNumberInBlacklist")
    result = push.send(user, render=rendered(urgent=True), settings=settings)
    assert result == Failed("sms FailedOperation.PhoneNumberInBlacklist")
    sent = push.session.scalar(select(SmsDailyCount.sent))
    assert sent == 1  # the refused ones were given back
