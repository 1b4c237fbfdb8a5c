from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CodeString, IdMixin, TimestampMixin
from app.models.enums import VolunteerStatus


class Volunteer(IdMixin, TimestampMixin, Base):
    """A user's volunteer profile: where they live, what they can do, when and how much."""

    __tablename__ = "volunteers"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lng BETWEEN -180 AND 180", name="lng_range"),
        CheckConstraint("service_radius_m > 0", name="radius_positive"),
        CheckConstraint("max_concurrent_tasks BETWEEN 1 AND 50", name="capacity_range"),
        # Proximity: a bounding box over these two columns, exact distance on the survivors.
        Index("ix_volunteers_lat_lng", "lat", "lng"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    home_station_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    service_radius_m: Mapped[int] = mapped_column(Integer, default=3000)
    # [{"weekday": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}, ...] in the city's time.
    weekly_availability: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    max_concurrent_tasks: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[VolunteerStatus] = mapped_column(String(16), default=VolunteerStatus.ACTIVE)
    birth_date: Mapped[date | None] = mapped_column(Date)
    suspended_reason: Mapped[str | None] = mapped_column(String(200))


class VolunteerSkill(Base):
    __tablename__ = "volunteer_skills"
    __table_args__ = (Index("ix_volunteer_skills_skill_code", "skill_code", "volunteer_id"),)

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("skills.code"), primary_key=True
    )
