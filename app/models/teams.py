"""Volunteer teams (志愿服务队) and organisations (enterprises, schools, departments, social
groups): one table, `kind` tells them apart.

A team is set up by a unit and in force at once; an organisation registers and is verified by a
centre before it acts. Members apply (or are invited) and join once the other side approves.
A team takes a wish or an activity as a team: its lead accepts for it and names members, and
each named member still accepts for themself (`team_callups`; no forced assignment, Art 25).
万企帮万户: an organisation adopts households or a village (`team_adoptions`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.types import SealedText
from app.models.base import Base, CodeString, IdMixin, TimestampMixin

TEAM_KINDS = ("team", "enterprise", "school", "department", "social_group")


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('team', 'enterprise', 'school', 'department', 'social_group')",
            name="kind_known",
        ),
        CheckConstraint(
            "status IN ('pending', 'verified', 'rejected', 'suspended')", name="status_known"
        ),
        Index("ix_teams_unit_kind", "unit_id", "kind", "id"),
    )

    # The unit it belongs to (a team) or that verifies it (an organisation: a centre).
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16))
    # An organisation's unified social credit code (统一社会信用代码), when it has one.
    credit_code: Mapped[str | None] = mapped_column(CodeString(18), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(SealedText("teams.contact_phone"))
    lead_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(200))


class TeamMember(IdMixin, TimestampMixin, Base):
    """A volunteer's membership: applied → active (approved) | refused; active → left."""

    __tablename__ = "team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "volunteer_id"),
        CheckConstraint("role IN ('lead', 'member')", name="role_known"),
        CheckConstraint("status IN ('applied', 'active', 'refused', 'left')", name="status_known"),
        Index("ix_team_members_volunteer", "volunteer_id", "status"),
    )

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    role: Mapped[str] = mapped_column(String(16), default="member")
    status: Mapped[str] = mapped_column(String(16))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(200))


class TeamCallup(IdMixin, TimestampMixin, Base):
    """A member named by the team's lead for a wish or an activity the team took; the member
    accepts or declines for themself."""

    __tablename__ = "team_callups"
    __table_args__ = (
        UniqueConstraint("team_id", "wish_id", "volunteer_id"),
        UniqueConstraint("team_id", "activity_id", "volunteer_id"),
        CheckConstraint(
            "status IN ('named', 'accepted', 'declined', 'withdrawn')", name="status_known"
        ),
        CheckConstraint("(wish_id IS NULL) <> (activity_id IS NULL)", name="one_subject"),
        Index("ix_team_callups_volunteer", "volunteer_id", "status"),
    )

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    status: Mapped[str] = mapped_column(String(16), default="named")
    named_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]


class TeamAdoption(IdMixin, TimestampMixin, Base):
    """万企帮万户: an organisation pairs with a household or a whole village (station)."""

    __tablename__ = "team_adoptions"
    __table_args__ = (
        CheckConstraint("(household_id IS NULL) <> (village_id IS NULL)", name="one_target"),
        CheckConstraint("status IN ('active', 'ended')", name="status_known"),
        Index("ix_team_adoptions_team", "team_id", "status"),
    )

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
