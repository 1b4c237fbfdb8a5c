"""The catalogue: service categories, skills, programmes and season themes, held as data."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CodeString, IdMixin, TimestampMixin


class Category(TimestampMixin, Base):
    """服务类别, e.g. 扶老救孤. `risky` categories need insured volunteers."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("bit BETWEEN 0 AND 63", name="bit_range"),
        CheckConstraint("min_age IS NULL OR min_age BETWEEN 0 AND 120", name="min_age_range"),
        CheckConstraint("max_age IS NULL OR max_age BETWEEN 0 AND 120", name="max_age_range"),
    )

    code: Mapped[str] = mapped_column(CodeString(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    # The category's permanent bit in volunteers' preference masks (0–63).
    bit: Mapped[int] = mapped_column(SmallInteger, unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    risky: Mapped[bool] = mapped_column(default=False)
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class CategorySkill(Base):
    """Skills that suit a category (matching's skill fit), beyond what a wish requires."""

    __tablename__ = "category_skills"

    category_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("categories.code"), primary_key=True
    )
    skill_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("skills.code"), primary_key=True
    )


class Skill(TimestampMixin, Base):
    """志愿者技能. `needs_qualification` skills need training or a certificate."""

    __tablename__ = "skills"
    __table_args__ = (CheckConstraint("bit BETWEEN 0 AND 63", name="bit_range"),)

    code: Mapped[str] = mapped_column(CodeString(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    # The skill's permanent bit in volunteers' skill masks (0–63).
    bit: Mapped[int] = mapped_column(SmallInteger, unique=True)
    needs_qualification: Mapped[bool] = mapped_column(default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class Programme(TimestampMixin, Base):
    """品牌项目, e.g. 认领微心愿, 我们的节日."""

    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(CodeString(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class SeasonTheme(TimestampMixin, Base):
    """四季红 season themes: 亲情季, 成长季, 丰收季, 诚信季."""

    __tablename__ = "season_themes"

    code: Mapped[str] = mapped_column(CodeString(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class SeasonPeriod(IdMixin, Base):
    """Which days of every year belong to a 四季红 season: month-day to month-day, inclusive.

    A period may wrap the year's end (12-01 to 01-31).
    """

    __tablename__ = "season_periods"
    __table_args__ = (
        CheckConstraint("length(start_md) = 5 AND length(end_md) = 5", name="md_format"),
    )

    season_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("season_themes.code"), index=True
    )
    start_md: Mapped[str] = mapped_column(String(5))
    end_md: Mapped[str] = mapped_column(String(5))


class SeasonAffinity(Base):
    """How well a category fits a season's theme, 0 to 1 (matching's season factor)."""

    __tablename__ = "season_affinities"
    __table_args__ = (CheckConstraint("weight >= 0 AND weight <= 1", name="weight_range"),)

    season_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("season_themes.code"), primary_key=True
    )
    category_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("categories.code"), primary_key=True
    )
    weight: Mapped[float] = mapped_column(Float)
