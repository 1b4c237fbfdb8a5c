"""Matching masks on the volunteer row, stable catalogue bits, and a covering index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:00:12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MATCH_COLUMNS = [
    "h3_cell", "status", "lat", "lng", "service_radius_m", "skill_bits",
    "avail_0", "avail_1", "avail_2", "avail_3", "avail_4", "avail_5", "avail_6",
    "id", "user_id", "max_concurrent_tasks", "birth_date", "insured_until", "preference_bits",
    "completed_count", "withdrawn_count", "released_count",
]  # fmt: skip


def _number(table: str) -> None:
    """Give each catalogue entry a permanent bit, in code order."""
    bind = op.get_bind()
    codes = bind.execute(sa.text(f"SELECT code FROM {table} ORDER BY code")).scalars().all()
    if len(codes) > 64:
        raise RuntimeError(f"{table}: matching keeps at most 64 entries in its masks")
    for bit, code in enumerate(codes):
        bind.execute(sa.text(f"UPDATE {table} SET bit = :bit WHERE code = :code"),
                     {"bit": bit, "code": code})  # fmt: skip


def _fill_masks() -> None:
    bind = op.get_bind()
    for mask, rows, table in (
        ("skill_bits", "volunteer_skills", "skills"),
        ("preference_bits", "volunteer_preferences", "categories"),
    ):
        column = "skill_code" if table == "skills" else "category_code"
        masks: dict[int, int] = {}
        for volunteer_id, bit in bind.execute(
            sa.text(f"SELECT r.volunteer_id, c.bit FROM {rows} r JOIN {table} c ON c.code = r.{column}")
        ):
            masks[volunteer_id] = masks.get(volunteer_id, 0) | (1 << bit)
        for volunteer_id, value in masks.items():
            bind.execute(sa.text(f"UPDATE volunteers SET {mask} = :m WHERE id = :id"),
                         {"m": value, "id": volunteer_id})  # fmt: skip


def upgrade() -> None:
    for table in ("categories", "skills"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("bit", sa.SmallInteger(), nullable=True))
        _number(table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("bit", existing_type=sa.SmallInteger(), nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f"uq_{table}_bit"), ["bit"])
            batch_op.create_check_constraint(op.f(f"ck_{table}_bit_range"), "bit BETWEEN 0 AND 63")

    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        for name in ("skill_bits", "preference_bits"):
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    _fill_masks()
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        for name in ("skill_bits", "preference_bits"):
            batch_op.alter_column(name, existing_type=sa.BigInteger(), server_default=None)
        batch_op.drop_index(batch_op.f("ix_volunteers_h3_cell"))
        batch_op.create_index("ix_volunteers_match", MATCH_COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.drop_index("ix_volunteers_match")
        batch_op.create_index(batch_op.f("ix_volunteers_h3_cell"), ["h3_cell"], unique=False)
        batch_op.drop_column("preference_bits")
        batch_op.drop_column("skill_bits")
    for table in ("skills", "categories"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_bit_range"), type_="check")
            batch_op.drop_constraint(batch_op.f(f"uq_{table}_bit"), type_="unique")
            batch_op.drop_column("bit")
