"""The in-app inbox (read marks on messages, the unread count's index) and the timer of service
records nobody confirms (reminder and escalation marks, per-unit hours)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_at", app.models.base.UTCDateTime(), nullable=True))
    op.create_index(
        "ix_outbox_unread",
        "outbox",
        ["recipient_id"],
        unique=False,
        sqlite_where=sa.text("read_at IS NULL"),
        postgresql_where=sa.text("read_at IS NULL"),
    )
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirm_reminded_at", app.models.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("confirm_escalated_at", app.models.base.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("confirm_escalations", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("record_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirm_remind_hours", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("confirm_escalate_hours", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record_rules", schema=None) as batch_op:
        batch_op.drop_column("confirm_escalate_hours")
        batch_op.drop_column("confirm_remind_hours")
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.drop_column("confirm_escalations")
        batch_op.drop_column("confirm_escalated_at")
        batch_op.drop_column("confirm_reminded_at")
    op.drop_index("ix_outbox_unread", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("read_at")
