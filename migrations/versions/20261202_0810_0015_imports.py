"""Bulk imports of volunteers and staff: progress, row errors and the sealed validated rows

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        # Sealed at rest (app.crypto.types.SealedJSON).
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint("kind IN ('volunteers', 'staff')", name=op.f("ck_imports_kind_known")),
        sa.CheckConstraint(
            "status IN ('validating', 'failed', 'applying', 'done')",
            name=op.f("ck_imports_status_known"),
        ),
        sa.CheckConstraint("done BETWEEN 0 AND total", name=op.f("ck_imports_done_range")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_imports_actor_id_users")),
        sa.ForeignKeyConstraint(["unit_id"], ["org_units.id"], name=op.f("fk_imports_unit_id_org_units")),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_imports_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index("ix_imports_unit_id_created_at", ["unit_id", "created_at"], unique=False)  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_index("ix_imports_unit_id_created_at")
        batch_op.drop_index(batch_op.f("ix_imports_actor_id"))
    op.drop_table("imports")
