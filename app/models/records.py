"""Service records (志愿服务记录): attendance, the hours ledger, consent, points, stars,
certificates and the per-unit rules that govern them.

The ledgers (`hours_entries`, `points_entries`, `consents`) are append-only: the database refuses
UPDATE and DELETE on them (triggers, see migration 0005). A correction is a new entry that
reverses an earlier one. A volunteer's totals are always sums over these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.types import Point, SealedPoint
from app.models.base import Base, CodeString, IdMixin, TimestampMixin
from app.models.enums import AttendanceStatus

_STATUSES = ", ".join(f"'{s.value}'" for s in AttendanceStatus)


class Consent(IdMixin, Base):
    """A user's consent to a purpose of processing (PIPL Art 14/28), granted or withdrawn.

    The latest row per (user, purpose) is in force; the rows are the record of when, to which
    version of the text (`consent_texts`), how it was obtained, and who recorded it when that
    was not the person (a grid worker ordering for a resident)."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_user_purpose", "user_id", "purpose", "id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(CodeString(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    # The text version agreed (None: recorded before texts were versioned, or a withdrawal).
    version: Mapped[str | None] = mapped_column(String(20))
    # app (the person, in the mini-program) | verbal | written | in_person (told to whoever
    # recorded it) | account_deletion (withdrawn by deleting the account).
    method: Mapped[str | None] = mapped_column(String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Attendance(IdMixin, TimestampMixin, Base):
    """One volunteer's service on one occasion: a wish, an activity's session or a pairing's
    visit (exactly one is set): check-in, check-out, confirmation.

    Location is kept only as the two fixes taken at check-in and check-out, and only with the
    volunteer's consent in force at that moment."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("wish_id", "volunteer_id"),
        UniqueConstraint("activity_session_id", "volunteer_id"),
        UniqueConstraint("visit_id"),
        CheckConstraint(
            "(CASE WHEN wish_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN activity_session_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN visit_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_occasion",
        ),
        UniqueConstraint("volunteer_id", "check_in_nonce"),
        UniqueConstraint("volunteer_id", "check_out_nonce"),
        CheckConstraint(
            f"status IN ({_STATUSES})",
            name="status_known",
        ),
        CheckConstraint(
            "checked_out_at IS NULL OR checked_out_at >= checked_in_at", name="times_ordered"
        ),
        Index("ix_attendances_unit_status", "unit_id", "status"),
        Index("ix_attendances_volunteer", "volunteer_id", "id"),
        Index("ix_attendances_checked_in_at", "checked_in_at"),
    )

    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    activity_session_id: Mapped[int | None] = mapped_column(ForeignKey("activity_sessions.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("pairing_visits.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    # The unit that records (and so certifies) this service: the wish's station, the unit that
    # published the activity, the pairing's station.
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=AttendanceStatus.ASSIGNED.value)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # The two fixes (sealed at rest). Withdrawing location consent, retention and account
    # deletion erase them; the times and methods stay.
    checked_in_at: Mapped[datetime | None]
    check_in_received_at: Mapped[datetime | None]
    check_in_fix: Mapped[Point | None] = mapped_column(SealedPoint("attendances.check_in_fix"))
    check_in_method: Mapped[str | None] = mapped_column(String(16))  # gps | manual
    check_in_nonce: Mapped[str | None] = mapped_column(String(64))
    checked_out_at: Mapped[datetime | None]
    check_out_received_at: Mapped[datetime | None]
    check_out_fix: Mapped[Point | None] = mapped_column(SealedPoint("attendances.check_out_fix"))
    check_out_method: Mapped[str | None] = mapped_column(String(16))
    check_out_nonce: Mapped[str | None] = mapped_column(String(64))
    # Why the record needs a second look: manual confirmation, late upload.
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    late_sync: Mapped[bool] = mapped_column(Boolean, default=False)
    manual_reason: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(500))

    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    # The confirmation timer (app/records/reminders.py): when the confirmer was reminded, and
    # when and how many times the record was last escalated up the chain.
    confirm_reminded_at: Mapped[datetime | None]
    confirm_escalated_at: Mapped[datetime | None]
    confirm_escalations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # The volunteer's rating of the experience (评单 back), once.
    feedback_score: Mapped[int | None] = mapped_column(SmallInteger)
    feedback_comment: Mapped[str | None] = mapped_column(String(500))
    feedback_at: Mapped[datetime | None]


class HoursEntry(IdMixin, Base):
    """An entry of the volunteer service record (志愿服务记录), append-only.

    `category` is one of the regulation's record kinds: service, training, award, evaluation
    (basic information is the volunteer's profile). Service and training entries carry minutes;
    a correction reverses an entry (`reverses_id`) with an approver and a reason, and may be
    followed by a replacing entry."""

    __tablename__ = "hours_entries"
    __table_args__ = (
        CheckConstraint(
            "category IN ('service', 'training', 'award', 'evaluation')", name="category_known"
        ),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="times_ordered"),
        Index("ix_hours_entries_volunteer", "volunteer_id", "id"),
        # The statistics read the ledger by unit and start; on PostgreSQL from the index alone.
        Index(
            "ix_hours_entries_unit_started",
            "unit_id",
            "started_at",
            postgresql_include=["category", "volunteer_id", "minutes", "wish_id"],
        ),
        Index("ix_hours_entries_started", "started_at"),
    )

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    category: Mapped[str] = mapped_column(String(16))
    # The unit that recorded the entry; it certifies it (谁记录谁证明).
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    # The attendance this entry credits: at most one credit per attendance, ever.
    attendance_id: Mapped[int | None] = mapped_column(ForeignKey("attendances.id"), unique=True)
    category_code: Mapped[str | None] = mapped_column(CodeString(40))
    content: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    verification: Mapped[str] = mapped_column(String(16))  # gps | manual | late_sync | record
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("hours_entries.id"), unique=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("hours_entries.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class PointsEntry(IdMixin, Base):
    """An entry of the points ledger (积分), append-only and separate from hours.

    `kind`: earn (per credited hours entry, at most once), redeem (negative), reverse (negative,
    when the hours that earned points are reversed), adjust."""

    __tablename__ = "points_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('earn', 'redeem', 'reverse', 'adjust')", name="kind_known"),
        Index("ix_points_entries_volunteer", "volunteer_id", "id"),
        # A redemption retried with the same key is the same redemption.
        UniqueConstraint("volunteer_id", "idempotency_key"),
    )

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    hours_entry_id: Mapped[int | None] = mapped_column(ForeignKey("hours_entries.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    item: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class RecordRules(IdMixin, TimestampMixin, Base):
    """A unit's rules for records, hours, stars and points. Unset fields inherit from the
    nearest ancestor that sets them, then from the service's defaults."""

    __tablename__ = "record_rules"

    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), unique=True)
    fence_m: Mapped[int | None] = mapped_column(Integer)
    checkin_early_minutes: Mapped[int | None] = mapped_column(Integer)
    checkin_late_minutes: Mapped[int | None] = mapped_column(Integer)
    late_sync_hours: Mapped[int | None] = mapped_column(Integer)
    confirm_by: Mapped[str | None] = mapped_column(String(16))
    rounding_minutes: Mapped[int | None] = mapped_column(Integer)
    cap_minutes: Mapped[int | None] = mapped_column(Integer)
    min_attendance_pct: Mapped[int | None] = mapped_column(Integer)
    points_per_hour: Mapped[int | None] = mapped_column(Integer)
    star_ladder: Mapped[str | None] = mapped_column(CodeString(32))
    notice_days: Mapped[int | None] = mapped_column(Integer)
    confirm_remind_hours: Mapped[int | None] = mapped_column(Integer)
    confirm_escalate_hours: Mapped[int | None] = mapped_column(Integer)


class StarLadder(TimestampMixin, Base):
    """A jurisdiction's star table: cumulative hours for 1★…5★ and who certifies each star."""

    __tablename__ = "star_ladders"

    code: Mapped[str] = mapped_column(CodeString(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    # Comma-separated hours thresholds, ascending (e.g. "100,300,600,1000,1500").
    thresholds: Mapped[str] = mapped_column(String(100))
    # Comma-separated org levels certifying each star (e.g. "township,township,county,…").
    certifying_levels: Mapped[str] = mapped_column(String(200))


class StarAward(IdMixin, TimestampMixin, Base):
    """A star reached: publicly noticed (公示) for a period; an objection holds it."""

    __tablename__ = "star_awards"
    __table_args__ = (
        UniqueConstraint("volunteer_id", "star"),
        CheckConstraint("star BETWEEN 1 AND 10", name="star_range"),
        CheckConstraint("status IN ('notice', 'held', 'revoked')", name="status_known"),
        Index("ix_star_awards_unit", "certifying_unit_id", "id"),
    )

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    star: Mapped[int] = mapped_column(SmallInteger)
    ladder_code: Mapped[str] = mapped_column(CodeString(32))
    minutes_at_award: Mapped[int] = mapped_column(Integer)
    certifying_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    notice_starts_at: Mapped[datetime]
    notice_ends_at: Mapped[datetime]
    # notice: in notice, effective once it ends; held: an objection awaits a decision;
    # revoked: the objection was upheld.
    status: Mapped[str] = mapped_column(String(16), default="notice")
    objection: Mapped[str | None] = mapped_column(String(500))
    objection_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    objection_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(500))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]


class Certificate(IdMixin, Base):
    """A record certificate (记录证明) issued by the unit that recorded the service.

    The figures are a snapshot taken at issue; the public verification reads them back."""

    __tablename__ = "certificates"

    number: Mapped[str] = mapped_column(CodeString(40), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    volunteer_name: Mapped[str] = mapped_column(String(50))
    minutes: Mapped[int] = mapped_column(Integer)
    entry_count: Mapped[int] = mapped_column(Integer)
    first_service_at: Mapped[datetime | None]
    last_service_at: Mapped[datetime | None]
    content: Mapped[str] = mapped_column(String(1000))
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
