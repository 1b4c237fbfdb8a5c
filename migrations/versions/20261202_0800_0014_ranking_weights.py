"""Ranking weights: per unit, the weight of each indicator its direct children are ranked by

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ranking_weights",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "indicator",
            sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "weight BETWEEN 0 AND 100", name=op.f("ck_ranking_weights_weight_range")
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["users.id"], name=op.f("fk_ranking_weights_set_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_ranking_weights_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranking_weights")),
        sa.UniqueConstraint(
            "unit_id", "indicator", name=op.f("uq_ranking_weights_unit_id_indicator")
        ),
    )


def downgrade() -> None:
    op.drop_table("ranking_weights")
