"""Batch dispatch plans sent in the background: progress and each line's outcome

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0018"
# Follows 0017 once that lands; until then it follows 0016.
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "batch_applies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        # Sealed at rest (app.crypto.types.SealedJSON).
        sa.Column("options", sa.Text(), nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('applying', 'done')", name=op.f("ck_batch_applies_status_known")
        ),
        sa.CheckConstraint("done BETWEEN 0 AND total", name=op.f("ck_batch_applies_done_range")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_batch_applies_actor_id_users")
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_batch_applies_unit_id_org_units")
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_applies")),
    )
    with op.batch_alter_table("batch_applies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_applies_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            "ix_batch_applies_unit_id_created_at", ["unit_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("batch_applies", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_applies_unit_id_created_at")
        batch_op.drop_index(batch_op.f("ix_batch_applies_actor_id"))
    op.drop_table("batch_applies")
