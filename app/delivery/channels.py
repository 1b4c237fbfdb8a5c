"""The plug-in point of delivery: one handler per channel ("user", "webhook").

The delivery engine claims a due outbox message, calls its channel's handler outside any
database transaction, and records the result. A handler may open its own short transactions
through `ctx.database` (e.g. to count a quota) but never holds one across a network call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from app.config import Settings
from app.db import Database


@dataclass(frozen=True)
class Outgoing:
    """What a handler gets: one outbox message."""

    id: int
    uid: str
    channel: str
    topic: str
    recipient_id: int | None
    subscriber_id: int | None
    wish_id: int | None
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


class Sent(NamedTuple):
    """Delivered (via: "wechat", "sms", "webhook", "inbox")."""

    via: str
    provider_id: str | None = None


class Retry(NamedTuple):
    """Transient: back off (the engine's exponential back-off with jitter unless `after`)."""

    error: str
    after: timedelta | None = None


class Failed(NamedTuple):
    """Permanent: dead letter now."""

    error: str


class Skipped(NamedTuple):
    """Nothing to push (opt-out, no channel): done, the inbox still shows it."""

    reason: str


class Held(NamedTuple):
    """Quiet hours: try again at `until`; not an attempt."""

    until: datetime
    reason: str


Result = Sent | Retry | Failed | Skipped | Held


class DeliveryContext(Protocol):
    database: Database
    settings: Settings
    now: datetime


Handler = Callable[[DeliveryContext, Outgoing], Result]

_HANDLERS: dict[str, Handler] = {}


def register(channel: str, handler: Handler) -> None:
    _HANDLERS[channel] = handler


def handler_for(channel: str) -> Handler | None:
    return _HANDLERS.get(channel)
