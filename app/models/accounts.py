from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin
from app.models.enums import AccountRole


class User(IdMixin, TimestampMixin, Base):
    """A person. What they may do comes from their role grants."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    # Coordinators and admins log in with a username and password.
    username: Mapped[str | None] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)


class RoleGrant(IdMixin, TimestampMixin, Base):
    """One role held by one user; coordinator grants are scoped to an org unit and its subtree."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint(
            "role IN ('resident', 'volunteer', 'coordinator', 'admin')", name="role_known"
        ),
        CheckConstraint(
            "(role = 'coordinator') = (org_unit_id IS NOT NULL)", name="scope_iff_coordinator"
        ),
        UniqueConstraint("user_id", "role", "org_unit_id"),
        Index(
            "uq_role_grants_unscoped",
            "user_id",
            "role",
            unique=True,
            sqlite_where=text("org_unit_id IS NULL"),
            postgresql_where=text("org_unit_id IS NULL"),
        ),
        Index("ix_role_grants_org_unit_role", "org_unit_id", "role"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[AccountRole] = mapped_column(String(16))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
