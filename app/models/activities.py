"""Activities a unit publishes (活动发布与报名): their sessions, required skills and sign-ups.

An activity is published by a centre, institute or station for a 四季红 season or a festival
campaign, held once or on a recurrence (one row per session in `activity_sessions`). Volunteers
sign up within the sign-up window; `admitted` counts the volunteers holding a place and is moved
by a compare-and-set against `headcount`, so concurrent sign-ups never exceed it. Everyone past
the headcount waits in `activity_signups` in order of sign-up. Attendance and hours are the
attendance domain's rows (`attendances.activity_session_id`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CodeString, IdMixin, TimestampMixin


class Activity(IdMixin, TimestampMixin, Base):
    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'published', 'cancelled', 'finished')", name="status_known"
        ),
        CheckConstraint("headcount BETWEEN 1 AND 10000", name="headcount_range"),
        CheckConstraint("admitted BETWEEN 0 AND headcount", name="admitted_within_headcount"),
        CheckConstraint("ends_at > starts_at", name="times_ordered"),
        CheckConstraint("signup_closes_at > signup_opens_at", name="signup_ordered"),
        CheckConstraint("min_age IS NULL OR min_age BETWEEN 0 AND 120", name="min_age_range"),
        CheckConstraint("max_age IS NULL OR max_age BETWEEN 0 AND 120", name="max_age_range"),
        CheckConstraint(
            "recurrence IN ('once', 'daily', 'weekly', 'monthly')", name="recurrence_known"
        ),
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        CheckConstraint("lng IS NULL OR (lng BETWEEN -180 AND 180)", name="lng_range"),
        Index("ix_activities_unit_starts", "unit_id", "starts_at"),
        Index("ix_activities_status_starts", "status", "starts_at"),
        Index("ix_activities_lat_lng", "lat", "lng"),
    )

    # The publishing unit (centre, institute or station); its subtree's coordinators run it.
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    category_code: Mapped[str | None] = mapped_column(CodeString(40), ForeignKey("categories.code"))
    programme_code: Mapped[str | None] = mapped_column(
        CodeString(40), ForeignKey("programmes.code")
    )
    # A 四季红 season theme, and/or a festival campaign (我们的节日) by its festival code.
    season_code: Mapped[str | None] = mapped_column(
        CodeString(40), ForeignKey("season_themes.code")
    )
    festival_code: Mapped[str | None] = mapped_column(CodeString(40))
    # A public place (a square, the station's hall): shown as given, not personal data.
    place: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    # The first session's times; the recurrence repeats them until `repeat_until` (sessions).
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    recurrence: Mapped[str] = mapped_column(String(16), default="once")
    repeat_until: Mapped[datetime | None]
    headcount: Mapped[int] = mapped_column(Integer)
    admitted: Mapped[int] = mapped_column(Integer, default=0)
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    # A risky kind of activity: volunteers need accident insurance in force (Art 17).
    needs_insurance: Mapped[bool] = mapped_column(default=False)
    signup_opens_at: Mapped[datetime]
    signup_closes_at: Mapped[datetime]
    # Residents may join as participants (they take no volunteer place and earn no hours).
    residents_may_join: Mapped[bool] = mapped_column(default=False)
    participant_limit: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ActivitySession(IdMixin, Base):
    """One occurrence of an activity: the times attendance is checked against."""

    __tablename__ = "activity_sessions"
    __table_args__ = (
        UniqueConstraint("activity_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="times_ordered"),
        # The statistics read sessions by start; on PostgreSQL from the index alone.
        Index(
            "ix_activity_sessions_starts_at",
            "starts_at",
            postgresql_include=["activity_id", "ends_at"],
        ),
    )

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class ActivitySkill(Base):
    __tablename__ = "activity_skills"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("skills.code"), primary_key=True
    )


class ActivitySignup(IdMixin, TimestampMixin, Base):
    """A volunteer's (or a participating resident's) sign-up.

    `status`: admitted (holds a place), waiting (on the wait-list, in `id` order), cancelled
    (by the person or the organiser), no_show (admitted, never attended: counts in reliability).
    A person has at most one row per activity; signing up again after cancelling reuses it at the
    end of the line."""

    __tablename__ = "activity_signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id"),
        CheckConstraint(
            "status IN ('admitted', 'waiting', 'cancelled', 'no_show')", name="status_known"
        ),
        CheckConstraint("role IN ('volunteer', 'participant')", name="role_known"),
        CheckConstraint(
            "(role = 'volunteer') = (volunteer_id IS NOT NULL)", name="volunteer_when_volunteer"
        ),
        Index("ix_activity_signups_activity_status", "activity_id", "status", "queued_at", "id"),
        Index("ix_activity_signups_volunteer", "volunteer_id", "id"),
    )

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    role: Mapped[str] = mapped_column(String(16), default="volunteer")
    status: Mapped[str] = mapped_column(String(16))
    # The place in line: the time of the (latest) sign-up; ties by id.
    queued_at: Mapped[datetime]
    # Signed up as a member of a team taking the activity together (its lead named them).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    admitted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
