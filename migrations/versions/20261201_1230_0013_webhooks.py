"""Outgoing webhooks: subscribers, and outbox messages addressed to a subscriber

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 12:30:00

The outbox's uid, channel and subscriber_id columns come from 0010; this adds the subscribers,
the foreign key and index on outbox.subscriber_id and the check that a webhook message has a subscriber
and no user recipient.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("disabled_at", UTC_DATETIME, nullable=True),
        # Sealed at rest (app.crypto.types.SealedText).
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("previous_secret", sa.Text(), nullable=True),
        sa.Column("previous_secret_until", UTC_DATETIME, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_webhook_subscribers_created_by_id_users")),  # fmt: skip
        sa.ForeignKeyConstraint(["unit_id"], ["org_units.id"], name=op.f("fk_webhook_subscribers_unit_id_org_units")),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscribers")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f("fk_outbox_subscriber_id_webhook_subscribers"), "webhook_subscribers", ["subscriber_id"], ["id"])  # fmt: skip
        batch_op.create_index("ix_outbox_subscriber", ["subscriber_id", "id"], unique=False)
        batch_op.create_check_constraint(
            "webhook_has_subscriber",
            "channel <> 'webhook' OR (subscriber_id IS NOT NULL AND recipient_id IS NULL)",
        )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE channel = 'webhook'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("webhook_has_subscriber", type_="check")
        batch_op.drop_index("ix_outbox_subscriber")
        batch_op.drop_constraint(batch_op.f("fk_outbox_subscriber_id_webhook_subscribers"), type_="foreignkey")  # fmt: skip
    op.drop_table("webhook_subscribers")
