"""Standing pairings (户帮户亲帮亲): households in need, their helpers, and the visits.

A household in need belongs to a station and carries categories (elderly living alone,
left-behind children, people with disabilities… held as data in `household_categories`); its
personal data is sealed at rest, shown masked and revealed with a log like a resident's. A
pairing links it with a helper (a volunteer, another household, or a team) at an agreed rhythm;
each visit is a service record (`attendances.visit_id`) credited by the station's rules. The
visit timer reminds the helper when a visit is due and missed, then tells the station.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.types import Point, SealedPoint, SealedText
from app.models.base import Base, CodeString, IdMixin, TimestampMixin


class HouseholdCategory(TimestampMixin, Base):
    """困难家庭类别, e.g. 独居老人, 留守儿童, 残疾人家庭."""

    __tablename__ = "household_categories"

    code: Mapped[str] = mapped_column(CodeString(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    # The service category a visit to such a household is recorded under (扶老救孤 for the
    # elderly living alone, 助残助医 for people with disabilities); None: uncategorised.
    service_category_code: Mapped[str | None] = mapped_column(
        CodeString(40), ForeignKey("categories.code")
    )


class Household(IdMixin, TimestampMixin, Base):
    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'closed')", name="status_known"),
        Index("ix_households_station", "station_id", "id"),
    )

    station_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    # The household's registered resident account, when it has one.
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Sealed at rest; lists show the masked name and the coarse address.
    head_name: Mapped[str] = mapped_column(SealedText("households.head_name"))
    phone: Mapped[str | None] = mapped_column(SealedText("households.phone"))
    full_address: Mapped[str | None] = mapped_column(SealedText("households.full_address"))
    exact_point: Mapped[Point | None] = mapped_column(SealedPoint("households.exact_point"))
    coarse_address: Mapped[str] = mapped_column(String(200))
    # Who recorded the household's consent to be registered, and how (PIPL Art 13/14).
    consent_method: Mapped[str] = mapped_column(String(20))
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class HouseholdCategoryLink(Base):
    __tablename__ = "household_category_links"

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    category_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("household_categories.code"), primary_key=True
    )


class Pairing(IdMixin, TimestampMixin, Base):
    """A standing pairing: `helper_kind` names which helper column is set."""

    __tablename__ = "pairings"
    __table_args__ = (
        CheckConstraint(
            "helper_kind IN ('volunteer', 'household', 'team')", name="helper_kind_known"
        ),
        CheckConstraint(
            "(helper_kind = 'volunteer') = (helper_volunteer_id IS NOT NULL)"
            " AND (helper_kind = 'household') = (helper_household_id IS NOT NULL)"
            " AND (helper_kind = 'team') = (helper_team_id IS NOT NULL)",
            name="one_helper",
        ),
        CheckConstraint("status IN ('active', 'paused', 'ended')", name="status_known"),
        CheckConstraint("rhythm_days BETWEEN 1 AND 366", name="rhythm_range"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        CheckConstraint("visit_minutes BETWEEN 15 AND 480", name="visit_minutes_range"),
        Index("ix_pairings_station_status", "station_id", "status"),
        Index("ix_pairings_due", "status", "next_due_at"),
        Index("ix_pairings_household", "household_id"),
    )

    station_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    helper_kind: Mapped[str] = mapped_column(String(16))
    helper_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    helper_household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    helper_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # The agreed rhythm: a visit every `rhythm_days` days (7 weekly, 30 monthly).
    rhythm_days: Mapped[int] = mapped_column(Integer)
    # The agreed length of a visit: a visit's planned window, by which the unit's hours rule
    # (minimum share attended) and check-out deadline are judged.
    visit_minutes: Mapped[int] = mapped_column(Integer, default=60)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    note: Mapped[str | None] = mapped_column(String(500))
    # The visit timer: when the next visit is due, when the helper was reminded of a missed one,
    # when the station was told; a visit moves `next_due_at` on and clears the other two.
    next_due_at: Mapped[datetime]
    last_visit_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    missed_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)


class PairingVisit(IdMixin, TimestampMixin, Base):
    """One visit: the visiting volunteer's service record is the attendance row pointing here.

    A visit by a helper household without a volunteer profile is logged by a coordinator with
    no service record (`volunteer_id` None): it keeps the pairing alive but credits no hours.
    `needs` (what the household said it needs, sealed) may become a wish in one step (`wish_id`).
    """

    __tablename__ = "pairing_visits"
    __table_args__ = (
        CheckConstraint("method IN ('gps', 'manual')", name="method_known"),
        CheckConstraint("planned_end_at > started_at", name="window_ordered"),
        Index("ix_pairing_visits_pairing", "pairing_id", "id"),
    )

    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id"))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    # gps (checked in at the household with its consent) | manual (recorded with a reason)
    method: Mapped[str] = mapped_column(String(16))
    # The visit's planned window: from its start for the pairing's agreed visit length.
    started_at: Mapped[datetime]
    planned_end_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(200))
    needs: Mapped[str | None] = mapped_column(SealedText("pairing_visits.needs"))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
