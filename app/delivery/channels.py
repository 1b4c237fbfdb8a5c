"""The plug-in point of delivery: a channel's handler gets one message and says what became of
it. Handlers run outside any database transaction (they may open short ones of their own
through `ctx.database`, never across a network call) and must bound their own network waits
(well below WORKER_LEASE_SECONDS; the engine's heartbeat renews the lease meanwhile).

    register("webhook", deliver_webhook)

A handler returns one of:
- `Sent(via, provider_id)`: delivered ("wechat", "sms", "webhook", "inbox");
- `Retry(error, after)`: a transient failure; tried again after `after`, or after the engine's
  exponential back-off with jitter; dead-lettered after DELIVERY_MAX_ATTEMPTS attempts;
- `Failed(error)`: a permanent failure; dead-lettered now;
- `Skipped(reason)`: nothing to push (opt-out, no channel): done, the inbox still lists it;
- `Held(until, reason)`: not now (quiet hours): tried again at `until`, not counted as an attempt.
A handler that raises is a `Retry` with the exception as its error.
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
    """What a handler gets: one message, as claimed."""

    id: int
    uid: str  # stable: receivers drop duplicates by it
    channel: str
    topic: str
    recipient_id: int | None
    subscriber_id: int | None
    wish_id: int | None
    payload: dict[str, Any]
    attempts: int  # attempts made before this one
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

_HANDLERS: dict[str, Handler] = {}


def register(channel: str, handler: Handler) -> None:
    """Make `handler` deliver the messages of `channel` (replacing any handler it had)."""
    _HANDLERS[channel] = handler


def handler_for(channel: str) -> Handler | None:
    return _HANDLERS.get(channel)


def inbox_only(_ctx: DeliveryContext, _message: Outgoing) -> Result:
    """The default "user" channel: the message is listed in the recipient's inbox, and nothing
    is pushed (until a push channel replaces this handler)."""
    return Sent(via="inbox")


register("user", inbox_only)
