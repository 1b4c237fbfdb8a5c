"""The SMS provider interface and the default provider (it logs); factory.py chooses one.

A provider sends one text to one mainland number and answers the provider's id for it, or
raises `SmsFailed` saying whether trying again later may help. Numbers never reach a log line
whole (`mask_phone`), and neither does the text: it may name people and places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import structlog

from app.privacy.masking import mask_phone

log = structlog.get_logger()


@dataclass(frozen=True)
class SmsText:
    phone: str  # mainland mobile number, 11 digits
    title: str
    body: str
    reference: str  # the message's stable id, echoed back by providers that can


class SmsFailed(Exception):
    def __init__(self, code: str, *, retryable: bool) -> None:
        self.code = code
        self.retryable = retryable
        super().__init__(code)


class SmsProvider(Protocol):
    name: str

    def send(self, text: SmsText) -> str | None: ...

    def close(self) -> None: ...


class LoggingSmsProvider:
    """The default: writes one line (masked number, the title, the text's length) and sends
    nothing. Counted against the daily cap like a real one."""

    name = "log"

    def send(self, text: SmsText) -> str | None:
        log.info(
            "sms.logged_not_sent",
            phone=mask_phone(text.phone),
            title=text.title,
            length=len(text.body),
            reference=text.reference,
        )
        return f"log:{text.reference}"

    def close(self) -> None:
        pass
