"""Consent texts and the log of reveals of personal data. Both are append-only (triggers in
migration 0009): a published text is what people agreed to; a log that could be edited would
prove nothing."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CodeString, IdMixin


class ConsentText(IdMixin, Base):
    """One version of the text a person agrees to for a purpose (location, personal_info).

    The version in force on a day is the latest whose `effective_date` has come."""

    __tablename__ = "consent_texts"
    __table_args__ = (
        UniqueConstraint("purpose", "version"),
        Index("ix_consent_texts_purpose_effective", "purpose", "effective_date", "id"),
    )

    purpose: Mapped[str] = mapped_column(CodeString(32))
    version: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    effective_date: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class AccessLog(IdMixin, Base):
    """Who read whose personal data in full, which fields, for what, when.

    Written in the transaction of the reveal itself, so no reveal goes unlogged."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_subject", "subject_user_id", "id"),
        Index("ix_access_log_actor", "actor_id", "id"),
        Index("ix_access_log_wish", "wish_id", "id"),
    )

    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The capacity the reader acted in: volunteer, requester, coordinator, admin.
    actor_role: Mapped[str] = mapped_column(String(16))
    subject_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    # Comma-separated field names, e.g. "contact_phone,full_address,location".
    fields: Mapped[str] = mapped_column(String(200))
    # serve_wish | contact_volunteer | coordinate | record_export
    purpose: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
