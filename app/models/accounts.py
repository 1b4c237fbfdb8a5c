from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.models.base import Base, IdMixin, TimestampMixin
from app.models.enums import SCOPED_ROLES, AccountRole
from app.privacy.crypto import lookup_hash
from app.privacy.types import SealedText

_SCOPED = ", ".join(f"'{role.value}'" for role in sorted(SCOPED_ROLES))
_ROLES = ", ".join(f"'{role.value}'" for role in AccountRole)


class User(IdMixin, TimestampMixin, Base):
    """A person. What they may do comes from their role grants."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(50))
    # Sealed at rest; `phone_hash` (HMAC under LOOKUP_KEY) finds the account by its number and
    # keeps numbers unique. Setting `phone` sets both.
    phone: Mapped[str | None] = mapped_column(SealedText("users.phone"))
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Coordinators and admins log in with a username and password.
    username: Mapped[str | None] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Set when the person deleted their account (PIPL Art 47): the row stays, under a
    # pseudonym, so that ledgers and events that name it stay whole; it never signs in again.
    deleted_at: Mapped[datetime | None]

    @validates("phone")
    def _hash_phone(self, _key: str, value: str | None) -> str | None:
        self.phone_hash = lookup_hash(value.strip()) if value is not None else None
        return value


class RoleGrant(IdMixin, TimestampMixin, Base):
    """One role held by one user. Coordinator grants are scoped to an org unit and its subtree;
    grid worker (网格员) grants to one village station."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLES})", name="role_known"),
        # Coordinators and grid workers act for a unit; other roles for no unit.
        CheckConstraint(
            f"(role IN ({_SCOPED})) = (org_unit_id IS NOT NULL)", name="scope_iff_unit"
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
