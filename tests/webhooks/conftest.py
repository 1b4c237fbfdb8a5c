from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.db import Database
from app.delivery.channels import Outgoing, Result, handler_for
from app.models import OutboxMessage
from app.webhooks import delivery
from tests.conftest import BoundDatabase
from tests.fixtures.fake_webhook_receiver import FakeReceiver


@pytest.fixture(scope="session")
def receiver() -> Iterator[FakeReceiver]:
    fake = FakeReceiver().start()
    yield fake
    fake.stop()


@dataclass
class Context:
    """What the delivery engine hands a handler (app.delivery.channels.DeliveryContext)."""

    database: Database
    settings: Settings
    now: datetime


def outgoing(row: OutboxMessage) -> Outgoing:
    assert row.uid is not None
    return Outgoing(
        id=row.id,
        uid=row.uid,
        channel=row.channel,
        topic=row.topic,
        recipient_id=row.recipient_id,
        subscriber_id=row.subscriber_id,
        wish_id=row.wish_id,
        payload=row.payload,
        attempts=row.attempts,
        created_at=row.created_at,
    )


def webhook_rows(session: Session, subscriber_id: int | None = None) -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.channel == "webhook")
    if subscriber_id is not None:
        query = query.where(OutboxMessage.subscriber_id == subscriber_id)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


@dataclass
class Deliverer:
    """Calls the registered "webhook" handler the way the engine does (no transaction held)."""

    database: Database
    settings: Settings

    def __call__(self, message: Outgoing, **settings: Any) -> Result:
        handler = handler_for("webhook")
        assert handler is delivery.deliver
        context = Context(self.database, self.settings.model_copy(update=settings), clock.now())
        return handler(context, message)

    def with_settings(self, **settings: Any) -> Deliverer:
        return replace(self, settings=self.settings.model_copy(update=settings))


@pytest.fixture
def deliver(engine: Engine, connection: Connection, settings: Settings) -> Deliverer:
    return Deliverer(BoundDatabase(engine, connection), settings)
