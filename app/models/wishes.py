from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.types import Point, SealedJSON, SealedPoint, SealedText
from app.geo import coarse
from app.models.base import Base, CodeString, IdMixin, TimestampMixin
from app.models.enums import OfferStatus, OutboxStatus, Urgency, WishStatus

_STATUSES = ", ".join(f"'{s.value}'" for s in WishStatus)
_OFFER_STATUSES = ", ".join(f"'{s.value}'" for s in OfferStatus)
_OUTBOX_STATUSES = ", ".join(f"'{s.value}'" for s in OutboxStatus)


class Wish(IdMixin, TimestampMixin, Base):
    """心愿: what a resident asks for, and where it stands in the loop."""

    __tablename__ = "wishes"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status_known"),
        CheckConstraint("urgency IN ('normal', 'high', 'urgent')", name="urgency_known"),
        CheckConstraint("coarse_lat BETWEEN -90 AND 90", name="coarse_lat_range"),
        CheckConstraint("coarse_lng BETWEEN -180 AND 180", name="coarse_lng_range"),
        CheckConstraint("wanted_end_at > wanted_start_at", name="window_ordered"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint(
            "(status IN ('accepted', 'in_service', 'completed', 'rated', 'closed'))"
            " OR assignee_id IS NULL",
            name="assignee_only_when_taken",
        ),
        Index("ix_wishes_station_status", "station_id", "status", "id"),
        Index("ix_wishes_status_id", "status", "id"),
        Index("ix_wishes_grab_coarse", "grab_open", "coarse_lat", "coarse_lng"),
        Index("ix_wishes_assignee_status", "assignee_id", "status"),
        Index("ix_wishes_requester", "requester_id", "id"),
        Index("ix_wishes_proxy", "proxy_id", "id"),
        Index("ix_wishes_assignee_accepted", "assignee_id", "accepted_at"),
        # Retention: finished wishes whose personal data is still kept.
        Index("ix_wishes_unerased", "personal_data_erased_at", "status", "id"),
    )

    station_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    category_code: Mapped[str] = mapped_column(CodeString(40), ForeignKey("categories.code"))
    programme_code: Mapped[str | None] = mapped_column(
        CodeString(40), ForeignKey("programmes.code")
    )
    season_code: Mapped[str | None] = mapped_column(
        CodeString(40), ForeignKey("season_themes.code")
    )
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # The coarse address and point are what volunteers see before they accept. The full
    # address, the contact phone and the exact point are sealed at rest, shown in full to the
    # requester, and revealed (and logged) to the volunteer who accepted and to coordinators.
    # Retention and account deletion erase them (`personal_data_erased_at`).
    coarse_address: Mapped[str] = mapped_column(String(100))
    full_address: Mapped[str | None] = mapped_column(SealedText("wishes.full_address"))
    contact_phone: Mapped[str | None] = mapped_column(SealedText("wishes.contact_phone"))
    # The place, in GCJ-02. In the clear only its coarse point: the centre of the 0.01° cell
    # that holds it (`app.geo.coarse`, about 1 km), what volunteers who have not accepted are
    # shown and judged by, and what the indexes read. The exact point is sealed: where the
    # service happens (the check-in fence, the distances shown to coordinators, the requester's
    # own view); `lat` and `lng` below read and set it. Erased ones (retention, account
    # deletion) fall back to the coarse point.
    coarse_lat: Mapped[float] = mapped_column(Float)
    coarse_lng: Mapped[float] = mapped_column(Float)
    exact_point: Mapped[Point | None] = mapped_column(SealedPoint("wishes.exact_point"))
    personal_data_erased_at: Mapped[datetime | None]
    wanted_start_at: Mapped[datetime]
    wanted_end_at: Mapped[datetime]
    urgency: Mapped[Urgency] = mapped_column(String(16), default=Urgency.NORMAL)

    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Set when a coordinator or grid worker ordered on the requester's behalf.
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    status: Mapped[WishStatus] = mapped_column(String(16), default=WishStatus.SUBMITTED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    grab_open: Mapped[bool] = mapped_column(default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    # Taken by a team or organisation: its lead (the assignee) accepted for it.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # The dispatch ladder: how many rounds of offers this dispatch has had, and the unit the
    # wish has been escalated to (None: its own station).
    dispatch_round: Mapped[int] = mapped_column(Integer, default=0)
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    grab_opened_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]

    reject_reason: Mapped[str | None] = mapped_column(String(500))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(String(500))

    # When the wish last entered each status (the event log holds the full history).
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]
    dispatching_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    in_service_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    rated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    @property
    def point(self) -> Point:
        """Where the service happens: the exact point when kept, else the coarse one."""
        if self.exact_point is not None:
            return self.exact_point
        return (self.coarse_lat, self.coarse_lng)

    @property
    def lat(self) -> float:
        return self.point[0]

    @lat.setter
    def lat(self, value: float) -> None:
        self._place(0, value)

    @property
    def lng(self) -> float:
        return self.point[1]

    @lng.setter
    def lng(self, value: float) -> None:
        self._place(1, value)

    def _place(self, axis: int, value: float) -> None:
        """Set one coordinate of the exact point: sealed once both are known; the coarse point
        follows each at once."""
        parts: list[float | None] = list(
            self.exact_point or self.__dict__.get("_exact_parts", (None, None))
        )
        parts[axis] = value
        if axis == 0:
            self.coarse_lat = coarse(value)
        else:
            self.coarse_lng = coarse(value)
        lat, lng = parts
        if lat is None or lng is None:
            self.__dict__["_exact_parts"] = (lat, lng)
        else:
            self.exact_point = (lat, lng)
            self.__dict__.pop("_exact_parts", None)


class WishSkill(Base):
    __tablename__ = "wish_skills"

    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(
        CodeString(40), ForeignKey("skills.code"), primary_key=True
    )


class Offer(IdMixin, Base):
    """派单: a wish offered to one volunteer. Only the volunteer's accept makes it theirs."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(f"status IN ({_OFFER_STATUSES})", name="status_known"),
        CheckConstraint("expires_at > created_at", name="expiry_after_creation"),
        # At most one open offer of a wish to a volunteer.
        Index(
            "uq_offers_pending",
            "wish_id",
            "volunteer_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_offers_volunteer_status", "volunteer_id", "status", "id"),
        Index("ix_offers_wish_status", "wish_id", "status"),
        Index("ix_offers_status_expires", "status", "expires_at"),
    )

    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"))
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[OfferStatus] = mapped_column(String(16), default=OfferStatus.PENDING)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    response_reason: Mapped[str | None] = mapped_column(String(500))


class WishEventRecord(IdMixin, Base):
    """One transition of one wish. Append-only: database triggers refuse updates and deletes."""

    __tablename__ = "wish_events"
    __table_args__ = (
        Index("ix_wish_events_wish_id", "wish_id", "id"),
        # The statistics' windows: the events of a kind (or reaching a status) in a period,
        # and one wish's first event of a kind.
        Index("ix_wish_events_event_created", "event", "created_at", "wish_id"),
        Index("ix_wish_events_to_status_created", "to_status", "created_at", "wish_id"),
        Index("ix_wish_events_wish_event_created", "wish_id", "event", "created_at"),
    )

    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"))
    event: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class OutboxMessage(IdMixin, Base):
    """A message: something one recipient should be told, written in the same transaction as
    its cause (`app.notifications.outbox`).

    `channel` says who receives it: "user" (a user: pushed by WeChat or SMS, always listed in
    the inbox) or "webhook" (a webhook subscriber). Delivery workers (`app.delivery`) claim due
    rows with a lease (`lease_token`, `locked_by`, `locked_until`), call the channel's handler
    outside any transaction and record the result only if the lease is still theirs. `uid` is
    the message's stable id: receivers drop the duplicates at-least-once delivery may bring.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(f"status IN ({_OUTBOX_STATUSES})", name="status_known"),
        Index("ix_outbox_status_available", "status", "available_at"),
        Index("ix_outbox_recipient", "recipient_id", "id"),
        # The inbox's unread count per recipient.
        Index(
            "ix_outbox_unread",
            "recipient_id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
        Index("ix_outbox_status_id", "status", "id"),
        Index("uq_outbox_uid", "uid", unique=True),
        # Webhook messages (app/webhooks) go to a subscriber, not to a user. Other channels
        # are whatever a handler is registered for (app/delivery/channels.py).
        CheckConstraint(
            "channel <> 'webhook' OR (subscriber_id IS NOT NULL AND recipient_id IS NULL)",
            name="webhook_has_subscriber",
        ),
        Index("ix_outbox_subscriber", "subscriber_id", "id"),
    )

    uid: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16), default="user", server_default="user")
    topic: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A webhook subscriber (channel "webhook"; app/webhooks).
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_subscribers.id"))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    wish_event_id: Mapped[int | None] = mapped_column(ForeignKey("wish_events.id"))
    # Names and free text addressed to a person: sealed at rest.
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON("outbox.payload"), default=dict)
    status: Mapped[OutboxStatus] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    lease_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None]
    # How it was delivered ("wechat", "sms", "webhook", "inbox") and the provider's id for it.
    delivered_via: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(128))
    dead_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # When the recipient read it in the in-app inbox (app/notifications/inbox.py).
    read_at: Mapped[datetime | None]


class WishMilestones(Base):
    """The first instant of each step of one wish, as its event log says, and the wish's
    columns the statistics group by: one row per wish, the statistics' fact table.

    The database keeps it, not the application: a trigger on `wish_events` (migration 0017)
    upserts the row in the same statement that appends an event, keeping for each step the
    earliest instant its events carry, whoever writes the log (the services, the demo's and the
    tests' builders, a bulk load). So each figure still counts what the event log holds
    (`app.stats.milestones` says which events make which step) but reads one row per wish,
    by the station and the instant, instead of joining the log.
    """

    __tablename__ = "wish_milestones"
    __table_args__ = (
        # Each step by station and instant; on PostgreSQL with what the figures read of the row.
        Index(
            "ix_wish_milestones_station_placed",
            "station_id",
            "placed_at",
            postgresql_include=[
                *("category_code", "programme_code", "season_code", "channel"),
                *("offered_at", "accepted_at", "completed_at", "cancelled_at", "escalated_at"),
            ],
        ),
        *(
            Index(
                f"ix_wish_milestones_station_{step}",
                "station_id",
                f"{step}_at",
                postgresql_include=[f"{measure}_seconds"],
            )
            for step, measure in (
                ("reviewed", "review"),
                ("offered", "offer"),
                ("accepted", "accept"),
                ("completed", "complete"),
            )
        ),
        Index(
            "ix_wish_milestones_station_rated",
            "station_id",
            "rated_at",
            postgresql_include=["rating"],
        ),
        # The wishes of a programme (the festival campaigns' hours).
        Index("ix_wish_milestones_programme", "programme_code", "wish_id"),
    )

    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), primary_key=True)
    station_id: Mapped[int] = mapped_column(Integer)
    category_code: Mapped[str] = mapped_column(CodeString(40))
    programme_code: Mapped[str | None] = mapped_column(CodeString(40))
    season_code: Mapped[str | None] = mapped_column(CodeString(40))
    # self | grid_worker | staff: how the first submit came in (None before it).
    channel: Mapped[str | None] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    placed_at: Mapped[datetime | None]  # the first `submit`
    reviewed_at: Mapped[datetime | None]  # the first `approve` or `reject`
    offered_at: Mapped[datetime | None]  # the first `offer` or `open_grab`
    accepted_at: Mapped[datetime | None]  # the first `accept`
    completed_at: Mapped[datetime | None]  # the first event reaching `completed` (check-out)
    cancelled_at: Mapped[datetime | None]  # the first `cancel`
    escalated_at: Mapped[datetime | None]  # the first `escalate`
    rated_at: Mapped[datetime | None]  # the first `rate`
    # Whole seconds from placing to the step, both instants cut to the second
    # (`app.stats.queries`); None until both happened.
    review_seconds: Mapped[int | None] = mapped_column(BigInteger)
    offer_seconds: Mapped[int | None] = mapped_column(BigInteger)
    accept_seconds: Mapped[int | None] = mapped_column(BigInteger)
    complete_seconds: Mapped[int | None] = mapped_column(BigInteger)


class SystemWishEvent(Base):
    """The events the system's timers applied (`wish_events` rows with actor role `system`),
    with the station of their wish: the dispatch ladder's breaches by station and instant.
    Kept by the same trigger as `WishMilestones` (migration 0017)."""

    __tablename__ = "wish_system_events"
    __table_args__ = (
        Index(
            "ix_wish_system_events_station_created",
            "station_id",
            "created_at",
            postgresql_include=["event", "from_status", "wish_id"],
        ),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("wish_events.id"), primary_key=True)
    wish_id: Mapped[int] = mapped_column(Integer)
    station_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
