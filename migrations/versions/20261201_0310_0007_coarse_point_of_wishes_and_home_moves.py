"""The coarse point of wishes (what volunteers who have not accepted are shown and judged by),
and the log of volunteers' home moves

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:10:00
"""

import math
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _coarse(degrees: float) -> float:
    # As app.geo.coarse on the day of this migration (a migration never imports app code that
    # may change later).
    return round(math.floor(degrees * 100 + 0.5) / 100, 2)


def upgrade() -> None:
    op.create_table(
        "home_moves",
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("moved_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_coarse_lat", sa.Float(), nullable=True),
        sa.Column("from_coarse_lng", sa.Float(), nullable=True),
        sa.Column("to_coarse_lat", sa.Float(), nullable=False),
        sa.Column("to_coarse_lng", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(from_coarse_lat IS NULL) = (from_coarse_lng IS NULL)",
            name=op.f("ck_home_moves_from_pair"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_home_moves_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_home_moves_volunteer_id_volunteers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_moves")),
    )
    with op.batch_alter_table("home_moves", schema=None) as batch_op:
        batch_op.create_index(
            "ix_home_moves_volunteer_moved", ["volunteer_id", "moved_at"], unique=False
        )

    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coarse_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("coarse_lng", sa.Float(), nullable=True))

    bind = op.get_bind()
    for wish_id, lat, lng in bind.execute(sa.text("SELECT id, lat, lng FROM wishes")).all():
        bind.execute(
            sa.text("UPDATE wishes SET coarse_lat = :lat, coarse_lng = :lng WHERE id = :id"),
            {"lat": _coarse(lat), "lng": _coarse(lng), "id": wish_id},
        )

    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.alter_column("coarse_lat", existing_type=sa.Float(), nullable=False)
        batch_op.alter_column("coarse_lng", existing_type=sa.Float(), nullable=False)
        batch_op.create_check_constraint(op.f("ck_wishes_coarse_lat_range"), "coarse_lat BETWEEN -90 AND 90")
        batch_op.create_check_constraint(op.f("ck_wishes_coarse_lng_range"), "coarse_lng BETWEEN -180 AND 180")
        batch_op.drop_index(batch_op.f("ix_wishes_grab_lat_lng"))
        batch_op.create_index(
            "ix_wishes_grab_coarse", ["grab_open", "coarse_lat", "coarse_lng"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.drop_index("ix_wishes_grab_coarse")
        batch_op.create_index(
            batch_op.f("ix_wishes_grab_lat_lng"), ["grab_open", "lat", "lng"], unique=False
        )
        batch_op.drop_constraint(op.f("ck_wishes_coarse_lng_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_wishes_coarse_lat_range"), type_="check")
        batch_op.drop_column("coarse_lng")
        batch_op.drop_column("coarse_lat")

    with op.batch_alter_table("home_moves", schema=None) as batch_op:
        batch_op.drop_index("ix_home_moves_volunteer_moved")

    op.drop_table("home_moves")
