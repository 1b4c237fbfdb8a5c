"""Delivery engine: outbox rows become messages with a stable uid, a channel, a fenced lease and
dead letters; timers get a fenced lease

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 12:00:00

Every existing outbox row gets a uid (`msg_` + 32 hex digits) and channel "user"; rows that had
`failed` become `dead` (an admin can re-drive them). `recipient_id` becomes nullable (webhook
messages have a subscriber instead).
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def new_uid() -> str:
    # As app.notifications.outbox.new_uid on the day of this migration.
    return "msg_" + uuid.uuid4().hex


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=16), server_default="user", nullable=False))  # fmt: skip
        batch_op.add_column(sa.Column("subscriber_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("locked_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("delivered_via", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("provider_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("dead_at", app.models.base.UTCDateTime(timezone=True), nullable=True))  # fmt: skip

    while True:
        ids = bind.execute(sa.text(f"SELECT id FROM outbox WHERE uid IS NULL LIMIT {BATCH}")).scalars().all()  # fmt: skip
        if not ids:
            break
        bind.execute(
            sa.text("UPDATE outbox SET uid = :uid WHERE id = :id"),
            [{"uid": new_uid(), "id": i} for i in ids],
        )
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as app.models.base.UTCDateTime stores it there
    bind.execute(
        sa.text("UPDATE outbox SET status = 'dead', dead_at = :now WHERE status = 'failed'"),
        {"now": now},
    )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(op.f("ck_outbox_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_status_known"), "status IN ('pending', 'sent', 'skipped', 'dead')")  # fmt: skip
        batch_op.create_index("uq_outbox_uid", ["uid"], unique=True)
        batch_op.create_index("ix_outbox_status_id", ["status", "id"], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    # Messages without a user recipient (webhooks) cannot exist before this revision.
    bind.execute(sa.text("DELETE FROM outbox WHERE recipient_id IS NULL"))
    bind.execute(sa.text("UPDATE outbox SET status = 'failed' WHERE status = 'dead'"))
    bind.execute(sa.text("UPDATE outbox SET status = 'sent' WHERE status = 'skipped'"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_id")
        batch_op.drop_index("uq_outbox_uid")
        batch_op.drop_constraint(op.f("ck_outbox_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_status_known"), "status IN ('pending', 'sent', 'failed')")  # fmt: skip
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=False)
        for name in ("dead_at", "provider_id", "delivered_via", "lease_token", "locked_by", "subscriber_id", "channel", "uid"):  # fmt: skip
            batch_op.drop_column(name)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("lease_token")
