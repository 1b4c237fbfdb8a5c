"""Managing webhook subscribers (admins only): create, change, rotate the secret, delete, and
read what was delivered to each.

A secret is shown once, when made; it is sealed at rest. Rotating keeps the old secret signing
beside the new one for `WEBHOOK_SECRET_GRACE_HOURS`, so a receiver can switch without losing a
message (Standard Webhooks puts several signatures in one `webhook-signature` header).
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.models import OrgUnit, OutboxMessage, WebhookSubscriber
from app.pagination import PageParams
from app.webhooks import events
from app.webhooks.errors import (
    InvalidWebhookUrl,
    UnknownWebhookEvent,
    WebhookNotFound,
    WebhookUnitNotFound,
)
from app.webhooks.schemas import WebhookCreate, WebhookUpdate

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_url(url: str, settings: Settings) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        raise InvalidWebhookUrl("回调地址无效：无法解析") from None
    schemes = ("https",) if settings.is_production else ("https", "http")
    if parts.scheme not in schemes:
        raise InvalidWebhookUrl(
            "回调地址须以 https:// 开头" if settings.is_production else "回调地址须为 http(s)://",
            details={"schemes": list(schemes)},
        )
    if not parts.hostname or any(c.isspace() for c in url):
        raise InvalidWebhookUrl("回调地址缺少主机名或含有空白")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("回调地址不能包含用户名或密码")
    if parts.fragment:
        raise InvalidWebhookUrl("回调地址不能包含 # 片段")
    if port == 0:
        raise InvalidWebhookUrl("回调地址的端口无效")
    return url


def check_events(patterns: list[str]) -> list[str]:
    unknown = events.unknown_patterns(patterns)
    if unknown:
        raise UnknownWebhookEvent(details={"unknown": unknown, "known": sorted(events.TOPICS)})
    return list(dict.fromkeys(patterns))


def _check_unit(session: Session, unit_id: int | None) -> int | None:
    if unit_id is not None and session.get(OrgUnit, unit_id) is None:
        raise WebhookUnitNotFound(details={"unit_id": unit_id})
    return unit_id


def get(session: Session, subscriber_id: int, *, for_update: bool = False) -> WebhookSubscriber:
    query = select(WebhookSubscriber).where(
        WebhookSubscriber.id == subscriber_id, WebhookSubscriber.deleted_at.is_(None)
    )
    if for_update:  # PostgreSQL; SQLite's write transactions are serialised already
        query = query.with_for_update()
    subscriber = session.scalars(query).one_or_none()
    if subscriber is None:
        raise WebhookNotFound()
    return subscriber


def create(
    *, session: Session, body: WebhookCreate, actor: Principal, settings: Settings, now: datetime
) -> tuple[WebhookSubscriber, str]:
    """A new subscriber and its secret (shown to the admin once)."""
    secret = new_secret()
    subscriber = WebhookSubscriber(
        name=body.name,
        url=check_url(body.url, settings),
        events=check_events(body.events),
        unit_id=_check_unit(session, body.unit_id),
        is_active=True,
        secret=secret,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(subscriber)
    session.flush()
    return subscriber, secret


def listed(*, session: Session, page: PageParams) -> list[WebhookSubscriber]:
    query = select(WebhookSubscriber).where(WebhookSubscriber.deleted_at.is_(None))
    if page.after_id is not None:
        query = query.where(WebhookSubscriber.id > page.after_id)
    return list(session.scalars(query.order_by(WebhookSubscriber.id).limit(page.limit + 1)))


def update(
    *,
    session: Session,
    subscriber_id: int,
    body: WebhookUpdate,
    settings: Settings,
    now: datetime,
) -> WebhookSubscriber:
    subscriber = get(session, subscriber_id, for_update=True)
    given = body.model_fields_set
    if body.name is not None:
        subscriber.name = body.name
    if body.url is not None:
        subscriber.url = check_url(body.url, settings)
    if body.events is not None:
        subscriber.events = check_events(body.events)
    if "unit_id" in given:
        subscriber.unit_id = _check_unit(session, body.unit_id)
    if body.is_active is not None and body.is_active != subscriber.is_active:
        subscriber.is_active = body.is_active
        subscriber.disabled_at = None if body.is_active else now
        subscriber.disabled_reason = None if body.is_active else "管理员停用"
    subscriber.updated_at = now
    session.flush()
    return subscriber


def rotate_secret(
    *, session: Session, subscriber_id: int, settings: Settings, now: datetime
) -> tuple[WebhookSubscriber, str]:
    """A new secret; the current one keeps signing beside it for the grace period (a second
    rotation within it replaces the older one: two secrets at most)."""
    subscriber = get(session, subscriber_id, for_update=True)
    secret = new_secret()
    grace = timedelta(hours=settings.webhook_secret_grace_hours)
    if grace > timedelta(0):
        subscriber.previous_secret = subscriber.secret
        subscriber.previous_secret_until = now + grace
    else:
        subscriber.previous_secret = None
        subscriber.previous_secret_until = None
    subscriber.secret = secret
    subscriber.updated_at = now
    session.flush()
    return subscriber, secret


def delete(*, session: Session, subscriber_id: int, now: datetime) -> None:
    """Gone from lists and from fan-out; its secrets are erased; its deliveries stay listed
    in the outbox (messages still pending are skipped by delivery)."""
    subscriber = get(session, subscriber_id, for_update=True)
    subscriber.deleted_at = now
    subscriber.is_active = False
    subscriber.disabled_at = subscriber.disabled_at or now
    subscriber.disabled_reason = subscriber.disabled_reason or "已删除"
    subscriber.secret = None
    subscriber.previous_secret = None
    subscriber.previous_secret_until = None
    subscriber.updated_at = now
    session.flush()


def deliveries(*, session: Session, subscriber_id: int, page: PageParams) -> list[Any]:
    """The subscriber's messages, newest first (without their payloads)."""
    get(session, subscriber_id)
    m = OutboxMessage
    query = select(
        m.id, m.uid, m.topic, m.status, m.attempts, m.created_at, m.available_at, m.sent_at,
        m.last_error,
    ).where(m.subscriber_id == subscriber_id)  # fmt: skip
    if page.after_id is not None:
        query = query.where(OutboxMessage.id < page.after_id)
    return list(session.execute(query.order_by(m.id.desc()).limit(page.limit + 1)).all())


def previous_until(subscriber: WebhookSubscriber, now: datetime) -> datetime | None:
    until = subscriber.previous_secret_until
    return until if until is not None and until > now else None
