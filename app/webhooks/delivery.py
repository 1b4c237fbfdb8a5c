"""The "webhook" delivery channel: one signed POST per message, per Standard Webhooks.

Headers: `webhook-id` (the message's stable uid: the same on every attempt, so the receiver
drops duplicates on it), `webhook-timestamp` (seconds since the epoch, of this attempt) and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, with the `standardwebhooks`
package; during a rotation's grace period a second `v1,…` signed with the previous secret
follows, space-separated). The timestamp is signed: receivers refuse one outside their
tolerance (5 minutes in the package) and so a captured message cannot be replayed later.

What an answer means:
- 2xx: delivered.
- 410 Gone: the receiver is gone; the message is dead-lettered and the subscriber disabled.
- 408, 429, 5xx, a timeout or a network error: tried again later (after `Retry-After`, when the
  receiver sends one, up to `WEBHOOK_RETRY_AFTER_MAX_SECONDS`; else the engine's back-off).
- any other status (other 4xx; 3xx, since redirects are not followed): dead letter now.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from math import floor

import httpx2
import structlog
from sqlalchemy import select, update
from standardwebhooks import Webhook

from app import clock
from app.config import Settings
from app.db import Database
from app.delivery.channels import (
    DeliveryContext,
    Failed,
    Outgoing,
    Result,
    Retry,
    Sent,
    Skipped,
    register,
)
from app.models import WebhookSubscriber

log = structlog.get_logger()

CHANNEL = "webhook"
RETRY_STATUSES = frozenset({408, 429})
GONE = 410


@dataclass(frozen=True)
class Target:
    url: str
    secrets: tuple[str, ...]  # the current secret first


def target_of(database: Database, subscriber_id: int, now: datetime) -> Target | None:
    """Where to send and what to sign with; None when the subscriber is disabled or deleted.
    Reads in a short transaction of its own, closed before any network call."""
    with database.session(write=False) as session:
        row = session.execute(
            select(
                WebhookSubscriber.url,
                WebhookSubscriber.is_active,
                WebhookSubscriber.deleted_at,
                WebhookSubscriber.secret,
                WebhookSubscriber.previous_secret,
                WebhookSubscriber.previous_secret_until,
            ).where(WebhookSubscriber.id == subscriber_id)
        ).one_or_none()
        session.rollback()
    if row is None or not row.is_active or row.deleted_at is not None or row.secret is None:
        return None
    secrets = [row.secret]
    if row.previous_secret and row.previous_secret_until and row.previous_secret_until > now:
        secrets.append(row.previous_secret)
    return Target(url=row.url, secrets=tuple(secrets))


def body_of(message: Outgoing) -> str:
    return json.dumps(message.payload, ensure_ascii=False, separators=(",", ":"))


def signed_headers(
    msg_id: str, timestamp: datetime, body: str, secrets: tuple[str, ...]
) -> dict[str, str]:
    signatures = " ".join(Webhook(s).sign(msg_id, timestamp, body) for s in secrets)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(floor(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


def retry_after(value: str | None, now: datetime, settings: Settings) -> timedelta | None:
    """`Retry-After` in seconds or as an HTTP date, bounded; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(int(value)) if value.isdigit() else None
    except ValueError:
        seconds = None
    if seconds is None:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    return timedelta(seconds=min(max(seconds, 0.0), settings.webhook_retry_after_max_seconds))


_clients: dict[tuple[float, float], httpx2.Client] = {}
_clients_lock = threading.Lock()


def client_for(settings: Settings) -> httpx2.Client:
    """One client (connection pool) per process and timeout settings; thread-safe."""
    key = (settings.webhook_timeout_seconds, settings.webhook_connect_timeout_seconds)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = httpx2.Client(
                timeout=httpx2.Timeout(key[0], connect=key[1]),
                follow_redirects=False,
                headers={"User-Agent": "wenming-dispatch-webhooks"},
            )
        return client


def disable_gone(database: Database, subscriber_id: int, now: datetime) -> None:
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(WebhookSubscriber)
            .where(WebhookSubscriber.id == subscriber_id, WebhookSubscriber.is_active.is_(True))
            .values(
                is_active=False,
                disabled_at=now,
                disabled_reason="接收方返回 410 Gone，已自动停用",
                updated_at=now,
            )
        )


def deliver(ctx: DeliveryContext, message: Outgoing) -> Result:
    if message.subscriber_id is None:
        return Failed("webhook message without a subscriber")
    target = target_of(ctx.database, message.subscriber_id, ctx.now)
    if target is None:
        return Skipped("subscriber disabled or deleted")
    body = body_of(message)
    headers = signed_headers(message.uid, clock.now(), body, target.secrets)
    try:
        response = client_for(ctx.settings).post(target.url, content=body.encode(), headers=headers)
    except httpx2.TimeoutException as exc:
        return Retry(f"timeout: {type(exc).__name__}")
    except httpx2.HTTPError as exc:
        return Retry(f"network: {type(exc).__name__}")
    status = response.status_code
    log.info(
        "webhook.delivered" if 200 <= status < 300 else "webhook.refused",
        subscriber_id=message.subscriber_id,
        message_uid=message.uid,
        topic=message.topic,
        http_status=status,
    )
    if 200 <= status < 300:
        return Sent(via=CHANNEL)
    if status == GONE:
        disable_gone(ctx.database, message.subscriber_id, ctx.now)
        return Failed("HTTP 410 Gone: subscriber disabled")
    if status in RETRY_STATUSES or status >= 500:
        after = retry_after(response.headers.get("retry-after"), clock.now(), ctx.settings)
        return Retry(f"HTTP {status}", after)
    return Failed(f"HTTP {status}")


register(CHANNEL, deliver)
