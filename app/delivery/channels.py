"""The channels a message can go out through, and what a channel's handler answers.

The delivery engine calls the handler of a message's channel outside any database
transaction; a handler may open its own short transactions through `ctx.database` but never
holds one across a network call. Until a channel registers its handler, "user" messages are
left to the inbox (`Sent(via="inbox")`).
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
    via: str
    provider_id: str | None = None


class Retry(NamedTuple):
    error: str
    after: timedelta | None = None


class Failed(NamedTuple):
    error: str


class Skipped(NamedTuple):
    reason: str


class Held(NamedTuple):
    until: datetime
    reason: str


Result = Sent | Retry | Failed | Skipped | Held


class DeliveryContext(Protocol):
    database: Database
    settings: Settings
    now: datetime


Handler = Callable[[DeliveryContext, Outgoing], Result]

_handlers: dict[str, Handler] = {}


def register(channel: str, handler: Handler) -> None:
    _handlers[channel] = handler


def handler_for(channel: str) -> Handler | None:
    return _handlers.get(channel)


def _inbox_only(_ctx: DeliveryContext, _message: Outgoing) -> Result:
    return Sent(via="inbox")


register("user", _inbox_only)
