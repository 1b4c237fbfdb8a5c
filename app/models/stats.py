"""Statistics settings held as data: the weights units are ranked by."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CodeString, IdMixin, TimestampMixin


class RankingWeight(IdMixin, TimestampMixin, Base):
    """The weight (0–100) of one indicator when a unit ranks its direct children.

    A unit that sets weights has a row for every indicator; a unit without rows uses those of
    its nearest ancestor that has them, and the defaults of `app.stats.ranking` above that."""

    __tablename__ = "ranking_weights"
    __table_args__ = (
        UniqueConstraint("unit_id", "indicator"),
        CheckConstraint("weight BETWEEN 0 AND 100", name="weight_range"),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    indicator: Mapped[str] = mapped_column(CodeString(40))
    weight: Mapped[int] = mapped_column(Integer)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
