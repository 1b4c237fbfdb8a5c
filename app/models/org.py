from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CodeString, IdMixin, TimestampMixin
from app.models.enums import OrgLevel


class OrgUnit(IdMixin, TimestampMixin, Base):
    """A practice unit: city office, county centre, township institute or village station.

    `path` is the materialised path of administrative codes from the root, each followed by
    `/` (e.g. `330500000000/330523000000/`). A subtree is every unit whose path starts with the
    root's path: a range scan on one index, the same on SQLite and PostgreSQL.
    """

    __tablename__ = "org_units"
    __table_args__ = (
        CheckConstraint("level IN ('city', 'county', 'township', 'village')", name="level_known"),
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        CheckConstraint("lng IS NULL OR (lng BETWEEN -180 AND 180)", name="lng_range"),
        CheckConstraint("service_radius_m > 0", name="radius_positive"),
        Index("ix_org_units_lat_lng", "lat", "lng"),
    )

    code: Mapped[str] = mapped_column(CodeString(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[OrgLevel] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    path: Mapped[str] = mapped_column(CodeString(200), unique=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    # The unit's service area: wishes are taken in within it, and grab orders are shown to
    # volunteers within it.
    service_radius_m: Mapped[int] = mapped_column(Integer, default=5000)
    is_active: Mapped[bool] = mapped_column(default=True)
