"""Dispatch policies per unit, and the timers that run the dispatch ladder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class DispatchPolicy(IdMixin, TimestampMixin, Base):
    """A unit's settings for the dispatch ladder. Unset fields inherit from the nearest
    ancestor that sets them, then from the service's defaults."""

    __tablename__ = "dispatch_policies"
    __table_args__ = (
        CheckConstraint("offer_k IS NULL OR offer_k BETWEEN 1 AND 20", name="offer_k_range"),
        CheckConstraint(
            "offer_rounds IS NULL OR offer_rounds BETWEEN 0 AND 10", name="offer_rounds_range"
        ),
        CheckConstraint(
            "radius_growth IS NULL OR radius_growth BETWEEN 1 AND 5", name="radius_growth_range"
        ),
    )

    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), unique=True)
    auto_dispatch: Mapped[bool | None]
    offer_k: Mapped[int | None] = mapped_column(Integer)
    offer_minutes: Mapped[int | None] = mapped_column(Integer)
    offer_rounds: Mapped[int | None] = mapped_column(Integer)
    radius_growth: Mapped[float | None] = mapped_column(Float)
    grab_minutes: Mapped[int | None] = mapped_column(Integer)
    escalation_minutes: Mapped[int | None] = mapped_column(Integer)
    review_minutes: Mapped[int | None] = mapped_column(Integer)
    checkin_grace_minutes: Mapped[int | None] = mapped_column(Integer)
    release_after_minutes: Mapped[int | None] = mapped_column(Integer)
    autoclose_days: Mapped[int | None] = mapped_column(Integer)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))


class Job(IdMixin, Base):
    """A timer: something to do for one subject at `run_at`.

    One pending job per (kind, subject): each change of the subject replaces its timer. Workers
    claim due jobs with a conditional update (and `FOR UPDATE SKIP LOCKED` on PostgreSQL) and a
    lease (`lease_token`, fresh at every claim); a worker that dies loses its lease and the job
    is claimed again. A handler's work commits only with the job row locked and the token still
    the claimant's, and handlers look at the subject's state now and do what is due, if anything.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running')", name="status_known"),
        Index("uq_jobs_kind_subject", "kind", "subject_id", unique=True),
        Index("ix_jobs_due", "status", "run_at"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    run_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    # Set afresh by every claim: the claimant's work commits only while it is still this.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
