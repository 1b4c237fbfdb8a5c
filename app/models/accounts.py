from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from app import clock
from app.crypto.sealing import lookup_hash
from app.crypto.types import SealedText
from app.models.base import Base, IdMixin, TimestampMixin
from app.models.enums import SCOPED_ROLES, AccountRole, SessionKind

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
    # WeChat identity (mini-program login): the openid of this mini-program, and the unionid
    # when the mini-program is bound to an open-platform account.
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    wechat_unionid: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Set when an admin creates the account or resets its password: the next staff session
    # may do nothing but choose a new password.
    password_change_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set when the person deleted their account (PIPL Art 47): the row stays, under a
    # pseudonym, so that ledgers and events that name it stay whole; it never signs in again.
    deleted_at: Mapped[datetime | None]

    @staticmethod
    def phone_key(phone: str) -> str:
        """The `phone_hash` a phone number is stored and found under."""
        return lookup_hash(phone.strip())

    @validates("phone")
    def _hash_phone(self, _key: str, value: str | None) -> str | None:
        self.phone_hash = User.phone_key(value) if value is not None else None
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


class AuthSession(IdMixin, Base):
    """One sign-in: its refresh tokens rotate inside it (a token family); revoking it ends
    every access token issued for it."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('consumer', 'staff')", name="kind_known"),
        Index("ix_auth_sessions_user_id_revoked_at", "user_id", "revoked_at"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[SessionKind] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The absolute end: refreshing never extends it.
    expires_at: Mapped[datetime]
    refreshed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(IdMixin, Base):
    """A refresh token, stored only as its SHA-256. `rotated_at` is set when it is exchanged;
    presenting it again revokes its session."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[int] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    rotated_at: Mapped[datetime | None]


class AuthRevocation(Base):
    """An append-only feed of "forget what you cached about this user (or session)", read by
    every process at most once a second: revocations reach every worker process quickly."""

    __tablename__ = "auth_revocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)


class WechatAccessToken(Base):
    """WeChat's server access token (stable-token API), one row per app id, shared by every
    process. `lease_until` lets one process at a time refresh it."""

    __tablename__ = "wechat_access_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(String(1024))
    expires_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
