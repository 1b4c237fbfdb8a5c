"""The Tencent Cloud SMS provider against a fake that checks the TC3 signature and answers in
Tencent's format; the default provider logs a masked number and sends nothing."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from app.config import Settings
from app.sms.factory import make_provider
from app.sms.provider import LoggingSmsProvider, SmsFailed, SmsText
from app.sms.tencent import TencentSmsProvider
from tests.fixtures.fake_sms import FakeTencentSms
from tests.sms.conftest import tencent_settings

TEXT = SmsText(
    phone="13912345678",
    title="您收到一个派单邀请",
    body="帮独居老人买菜，30 分钟内接单",
    reference="msg_1",
)


def test_sends_a_signed_request_in_tencents_format(
    settings: Settings, fake_sms: FakeTencentSms
) -> None:
    provider = make_provider(tencent_settings(settings, fake_sms))
    assert isinstance(provider, TencentSmsProvider)
    try:
        serial = provider.send(TEXT)
    finally:
        provider.close()
    assert serial is not None and serial.startswith("2028:")
    [body] = fake_sms.received
    assert body["PhoneNumberSet"] == ["+8613912345678"]
    assert body["TemplateParamSet"] == [TEXT.title, TEXT.body]
    assert body["SessionContext"] == "msg_1"
    assert body["SmsSdkAppId"] == fake_sms.sdk_app_id
    assert body["SignName"] == fake_sms.sign_name


def test_a_wrong_secret_fails_the_signature_and_is_not_retried(
    settings: Settings, fake_sms: FakeTencentSms
) -> None:
    provider = make_provider(tencent_settings(settings, fake_sms, tencent_sms_secret_key="wrong"))
    with pytest.raises(SmsFailed) as failed:
        provider.send(TEXT)
    provider.close()
    assert failed.value.code == "AuthFailure.SignatureFailure"
    assert not failed.value.retryable
    assert fake_sms.received == []


@pytest.mark.parametrize(
    ("failure", "code", "retryable"),
    [
        (
            {"code": "LimitExceeded.PhoneNumberDailyLimit"},
            "LimitExceeded.PhoneNumberDailyLimit",
            False,
        ),
        (
            {"code": "LimitExceeded.PhoneNumberThirtySecondLimit"},
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            True,
        ),
        (
            {"code": "FailedOperation.PhoneNumberInBlacklist"},
            "FailedOperation.PhoneNumberInBlacklist",
            False,
        ),
        ({"code": "InternalError.Timeout", "whole_request": True}, "InternalError.Timeout", True),
        ({"code": "RequestLimitExceeded", "whole_request": True}, "RequestLimitExceeded", True),
        (
            {"code": "FailedOperation.InsufficientBalanceInSmsPackage", "whole_request": True},
            "FailedOperation.InsufficientBalanceInSmsPackage",
            False,
        ),
        ({"mode": "http500"}, "http_500", True),
        ({"mode": "timeout"}, "timeout", True),
    ],
)
def test_refusals_say_whether_to_try_again(
    settings: Settings,
    fake_sms: FakeTencentSms,
    failure: dict[str, object],
    code: str,
    retryable: bool,
) -> None:
    provider = make_provider(tencent_settings(settings, fake_sms))
    fake_sms.fail_next(**failure)  # type: ignore[arg-type]
    with pytest.raises(SmsFailed) as failed:
        provider.send(TEXT)
    provider.close()
    assert (failed.value.code, failed.value.retryable) == (code, retryable)


def test_a_number_tencent_does_not_take_is_refused_for_good(
    settings: Settings, fake_sms: FakeTencentSms
) -> None:
    provider = make_provider(tencent_settings(settings, fake_sms))
    with pytest.raises(SmsFailed) as failed:
        provider.send(SmsText(phone="1234", title="t", body="b", reference="msg_2"))
    provider.close()
    assert failed.value.code == "InvalidParameterValue.IncorrectPhoneNumber"
    assert not failed.value.retryable


def test_the_default_provider_logs_a_masked_number_and_no_text(settings: Settings) -> None:
    provider = make_provider(settings)
    assert isinstance(provider, LoggingSmsProvider)
    with capture_logs() as logs:
        assert provider.send(TEXT) == "log:msg_1"
    [line] = logs
    assert line["phone"] == "139****5678"
    assert "13912345678" not in repr(logs)
    assert TEXT.body not in repr(logs)


def test_tencent_needs_its_settings(settings: Settings) -> None:
    with pytest.raises(ValueError, match="TENCENT_SMS_SECRET_ID"):
        Settings(**{**settings.model_dump(), "sms_provider": "tencent"})
