"""Indexes for the statistics' windows over the event log

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wish_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_wish_events_event_created", ["event", "created_at", "wish_id"], unique=False
        )
        batch_op.create_index(
            "ix_wish_events_to_status_created", ["to_status", "created_at", "wish_id"], unique=False
        )
        batch_op.create_index(
            "ix_wish_events_wish_event_created", ["wish_id", "event", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wish_events", schema=None) as batch_op:
        batch_op.drop_index("ix_wish_events_wish_event_created")
        batch_op.drop_index("ix_wish_events_to_status_created")
        batch_op.drop_index("ix_wish_events_event_created")
