from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.types import SealedText
from app.models.base import Base, IdMixin, TimestampMixin


class WebhookSubscriber(IdMixin, TimestampMixin, Base):
    """A receiver of the service's public events (媒体中心, 学习强国, 政务服务中心).

    `events` holds topics ("wish.completed") and patterns ("wish.*", "*"); `unit_id`, when
    set, keeps the subscriber to the events of that unit's subtree. Messages to it are outbox
    rows with channel "webhook", signed per Standard Webhooks with `secret` (and, until
    `previous_secret_until`, also with the secret it replaced). A deleted subscriber keeps its
    row (its deliveries refer to it) without secrets.
    """

    __tablename__ = "webhook_subscribers"

    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None]
    secret: Mapped[str | None] = mapped_column(SealedText("webhook_subscribers.secret"))
    previous_secret: Mapped[str | None] = mapped_column(
        SealedText("webhook_subscribers.previous_secret")
    )
    previous_secret_until: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None]
