from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.config import Settings
from tests.fixtures.fake_sms import FakeTencentSms


@pytest.fixture(scope="session")
def fake_sms_server() -> Iterator[FakeTencentSms]:
    fake = FakeTencentSms(timeout_sleep=1.5).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_sms(fake_sms_server: FakeTencentSms) -> FakeTencentSms:
    fake_sms_server.reset()
    return fake_sms_server


def tencent_settings(settings: Settings, fake: FakeTencentSms, **changes: object) -> Settings:
    """The suite's settings with Tencent Cloud SMS pointed at the fake."""
    return settings.model_copy(
        update={
            "sms_provider": "tencent",
            "tencent_sms_endpoint": fake.url,
            "tencent_sms_secret_id": fake.secret_id,
            "tencent_sms_secret_key": fake.secret_key,
            "tencent_sms_sdk_app_id": fake.sdk_app_id,
            "tencent_sms_sign_name": fake.sign_name,
            "tencent_sms_template_id": fake.template_id,
            "sms_timeout_seconds": 1.0,
            **changes,
        }
    )
