"""The choice of SMS provider (SMS_PROVIDER): the interface in provider.py knows no
implementation; this module knows them all."""

from __future__ import annotations

from app.config import Settings
from app.sms.provider import LoggingSmsProvider, SmsProvider
from app.sms.tencent import TencentSmsProvider


def make_provider(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "tencent":
        return TencentSmsProvider(settings)
    return LoggingSmsProvider()
