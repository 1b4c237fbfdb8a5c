"""What the "user" delivery channel keeps: each user's remaining subscription-message quota per
template, their notification preferences, and SMS counts per number and day."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.models.base import Base, CodeString


class SubscriptionQuota(Base):
    """How many subscription messages of one template WeChat still lets us send one user: each
    "accept" of `wx.requestSubscribeMessage` adds one, each message sent takes one (a
    conditional UPDATE, never below zero), a refusal (43101) sets it to zero."""

    __tablename__ = "subscription_quotas"
    __table_args__ = (CheckConstraint("remaining >= 0", name="remaining_not_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    template_id: Mapped[str] = mapped_column(CodeString(128), primary_key=True)
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    # The last answer: accept, reject, ban, filter (wx.requestSubscribeMessage) or refused
    # (WeChat answered 43101 to a message).
    last_result: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class NotificationPreference(Base):
    """A user's push policy: the topics they opted out of and their quiet hours (NULL times:
    the service's QUIET_HOURS_START/END). No row: every topic, default quiet hours."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    opted_out: Mapped[list[Any]] = mapped_column(JSON, default=list)
    quiet_hours_enabled: Mapped[bool] = mapped_column(default=True)
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class SmsDailyCount(Base):
    """SMS sent to one number on one local day, keyed by the number's lookup hash (never the
    number itself): the per-number daily cap is a conditional UPDATE on this row."""

    __tablename__ = "sms_daily_counts"
    __table_args__ = (CheckConstraint("sent >= 0", name="sent_not_negative"),)

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    local_date: Mapped[date] = mapped_column(primary_key=True, index=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
