from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.types import Point, SealedPoint, SealedText
from app.models.base import Base, CodeString, IdMixin, TimestampMixin
from app.models.enums import VolunteerStatus

MATCH_COLUMNS = (
    "h3_cell",
    "status",
    "lat",
    "lng",
    "service_radius_m",
    "skill_bits",
    *(f"avail_{day}" for day in range(7)),
    "id",
    "user_id",
    "max_concurrent_tasks",
    "birth_date",
    "insured_until",
    "preference_bits",
    "completed_count",
    "withdrawn_count",
    "released_count",
    "rating_sum",
    "rating_count",
)


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
        # Matching: the cells around a wish, with every column it reads, so that both engines
        # filter and read candidates from the index alone.
        Index("ix_volunteers_match", *MATCH_COLUMNS),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    home_station_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    # Home, rounded to about 100 m (HOME_DECIMALS): what matching, the covering index and
    # distances read. The exact point the volunteer gave is sealed in `home_point`; only they
    # see it (and coordinators through a logged reveal).
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    home_point: Mapped[Point | None] = mapped_column(SealedPoint("volunteers.home_point"))
    service_radius_m: Mapped[int] = mapped_column(Integer, default=3000)
    # Weekly availability, one 48-bit mask of half hours per weekday (Monday 0), in the city's
    # time (see app/volunteers/availability.py).
    avail_0: Mapped[int] = mapped_column(BigInteger, default=0)
    avail_1: Mapped[int] = mapped_column(BigInteger, default=0)
    avail_2: Mapped[int] = mapped_column(BigInteger, default=0)
    avail_3: Mapped[int] = mapped_column(BigInteger, default=0)
    avail_4: Mapped[int] = mapped_column(BigInteger, default=0)
    avail_5: Mapped[int] = mapped_column(BigInteger, default=0)
    avail_6: Mapped[int] = mapped_column(BigInteger, default=0)
    # The H3 cell (resolution 8, about 0.7 km²) of the home location: proximity queries read
    # the few cells around a wish through this index instead of a latitude band.
    h3_cell: Mapped[int] = mapped_column(BigInteger)
    # The volunteer's skills and preferred categories as masks of their catalogue bits. The
    # rows of `volunteer_skills` and `volunteer_preferences` are the record; the volunteers
    # service keeps these in step in the same transaction, so matching reads one row.
    skill_bits: Mapped[int] = mapped_column(BigInteger, default=0)
    preference_bits: Mapped[int] = mapped_column(BigInteger, default=0)
    max_concurrent_tasks: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[VolunteerStatus] = mapped_column(String(16), default=VolunteerStatus.ACTIVE)
    # Plain: matching filters on age (Art 15) over thousands of rows. Shown as an age band.
    birth_date: Mapped[date | None] = mapped_column(Date)
    # 居民身份证号码, given by the volunteer for the national record system's export; sealed.
    id_number: Mapped[str | None] = mapped_column(SealedText("volunteers.id_number"))
    # Accident insurance (Art 17): risky categories need it in force on the day of service.
    insured_until: Mapped[date | None] = mapped_column(Date)
    suspended_reason: Mapped[str | None] = mapped_column(String(200))
    # Counts kept with the events that change them (the event log is the record; these serve
    # matching, which reads thousands of volunteers at a time).
    completed_count: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn_count: Mapped[int] = mapped_column(Integer, default=0)
    released_count: Mapped[int] = mapped_column(Integer, default=0)
    # Ratings received from requesters (评单), kept with the rating event.
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def availability_masks(self) -> list[int]:
        return [getattr(self, f"avail_{day}") for day in range(7)]


class VolunteerSkill(Base):
    __tablename__ = "volunteer_skills"
    __table_args__ = (Index("ix_volunteer_skills_skill_code", "skill_code", "volunteer_id"),)

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("skills.code"), primary_key=True
    )
    # For skills that need a qualification (Art 16): the certificate's last valid day.
    qualified_until: Mapped[date | None] = mapped_column(Date)


class VolunteerPreference(Base):
    """A service category the volunteer would like to serve in."""

    __tablename__ = "volunteer_preferences"
    __table_args__ = (Index("ix_volunteer_preferences_category", "category_code", "volunteer_id"),)

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    category_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("categories.code"), primary_key=True
    )


class HomeMove(IdMixin, Base):
    """A volunteer's home location set or moved: who, when, and the coarse cells (the 0.01° grid
    points of `app.geo.coarse`) it moved from and to, never the exact points.

    Moving home changes what a volunteer can learn about wishes around them, so moves are
    counted against limits (`HOME_MOVES_PER_DAY`, `HOME_MOVES_PER_30_DAYS`) from these rows."""

    __tablename__ = "home_moves"
    __table_args__ = (
        Index("ix_home_moves_volunteer_moved", "volunteer_id", "moved_at"),
        CheckConstraint("(from_coarse_lat IS NULL) = (from_coarse_lng IS NULL)", name="from_pair"),
    )

    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    # Who made the change (the volunteer's own user, for every route that moves a home today).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moved_at: Mapped[datetime]
    # NULL: the first home (registration).
    from_coarse_lat: Mapped[float | None] = mapped_column(Float)
    from_coarse_lng: Mapped[float | None] = mapped_column(Float)
    to_coarse_lat: Mapped[float] = mapped_column(Float)
    to_coarse_lng: Mapped[float] = mapped_column(Float)
