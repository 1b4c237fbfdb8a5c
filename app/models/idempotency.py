"""Idempotency keys: the first response to a request sent with an `Idempotency-Key` header."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CodeString, IdMixin


class IdempotencyKey(IdMixin, Base):
    """One user's key, the request it was first sent with, and the response that request got.

    The row is inserted when the request starts and filled in with the response in the same
    transaction as the request's own changes: a committed row always holds a response, and a
    request that fails leaves no row (see app/idempotency.py). Rows expire after 24 hours.
    `response_body` can hold personal data: it is written and read only through
    `app.idempotency.seal` and `unseal`."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        Index("uq_idempotency_keys_user_key", "user_id", "key", unique=True),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
        CheckConstraint(
            "status_code IS NULL OR status_code BETWEEN 100 AND 599", name="status_code_range"
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(CodeString(255))
    # SHA-256 of the method, path, query and body (JSON compared by value): what "the same
    # request" means.
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    content_type: Mapped[str | None] = mapped_column(String(100))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
