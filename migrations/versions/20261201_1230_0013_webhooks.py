"""Outgoing webhooks: subscribers, and outbox messages addressed to a subscriber

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-01 12:30:00

The outbox columns in the block marked SHARED WITH 0010 (uid, channel, subscriber_id, a nullable
recipient_id) are also added by the delivery engine's migration 0010: when both are chained,
keep 0010's and drop that block from here (this migration then only adds the subscribers table,
the foreign key and index on outbox.subscriber_id and the two channel checks).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0013"
down_revision: str | None = "0009"
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
        # Sealed at rest (app.privacy.types.SealedText).
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
        # ---- SHARED WITH 0010 (drop this block at merge; 0010 adds the same columns)
        batch_op.add_column(sa.Column("uid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=16), server_default="user", nullable=False))  # fmt: skip
        batch_op.add_column(sa.Column("subscriber_id", sa.Integer(), nullable=True))
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_outbox_uid"), ["uid"])
        # ---- end of the shared block
        batch_op.create_foreign_key(batch_op.f("fk_outbox_subscriber_id_webhook_subscribers"), "webhook_subscribers", ["subscriber_id"], ["id"])  # fmt: skip
        batch_op.create_index("ix_outbox_subscriber", ["subscriber_id", "id"], unique=False)
        batch_op.create_check_constraint("channel_known", "channel IN ('user', 'webhook')")
        batch_op.create_check_constraint(
            "webhook_has_subscriber",
            "channel <> 'webhook' OR (subscriber_id IS NOT NULL AND recipient_id IS NULL)",
        )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE channel = 'webhook'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("webhook_has_subscriber", type_="check")
        batch_op.drop_constraint("channel_known", type_="check")
        batch_op.drop_index("ix_outbox_subscriber")
        batch_op.drop_constraint(batch_op.f("fk_outbox_subscriber_id_webhook_subscribers"), type_="foreignkey")  # fmt: skip
        # ---- SHARED WITH 0010
        batch_op.drop_constraint(batch_op.f("uq_outbox_uid"), type_="unique")
        batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("subscriber_id")
        batch_op.drop_column("channel")
        batch_op.drop_column("uid")
        # ---- end of the shared block
    op.drop_table("webhook_subscribers")
