from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.types import SealedJSON
from app.models.base import Base, IdMixin, TimestampMixin


class BatchApply(IdMixin, TimestampMixin, Base):
    """A reviewed batch dispatch plan too large to send within the request: its lines, checked
    when it was submitted, are sent by the `dispatch.batch_apply` timer a slice per
    transaction, so `done` grows while the coordinator watches.

    `items` holds each line's ids, the wish version it was checked at, and once sent its outcome
    (the wish's status or the error code and message); `options` (the offers' note and expiry)
    is sealed like any text addressed to a person and cleared when the last line is sent."""

    __tablename__ = "batch_applies"
    __table_args__ = (
        CheckConstraint("status IN ('applying', 'done')", name="status_known"),
        CheckConstraint("done BETWEEN 0 AND total", name="done_range"),
        Index("ix_batch_applies_unit_id_created_at", "unit_id", "created_at"),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("batch_applies.options"))
    finished_at: Mapped[datetime | None]
