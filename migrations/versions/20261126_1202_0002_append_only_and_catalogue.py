"""Append-only wish events, and the default catalogue named by the city

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:02:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_TABLES = ("wish_events",)

CATEGORIES = [
    # code, name, description, risky, min_age, max_age
    ("poverty_relief", "扶贫济困", "帮助困难群众解决生活难题", False, None, None),
    ("elderly_orphan_care", "扶老救孤", "关爱空巢、独居老人和孤困儿童", False, None, None),
    ("disability_medical", "助残助医", "助残服务、陪诊、健康义诊", False, 18, None),
    ("disaster_study", "救灾助学", "防灾救灾、助学支教", True, 18, 65),
    ("policy_talks", "理论宣讲", "政策理论宣讲、百姓宣讲", False, None, None),
    ("culture", "文化惠民", "文艺演出、阅读推广、文化活动", False, None, None),
    ("neighbourly_watch", "邻里守望", "邻里互助、平安巡防", False, None, None),
    ("civil_customs", "移风易俗", "婚事新办、丧事简办、文明新风", False, None, None),
    ("environment", "生态文明", "环境整治、垃圾分类、植树护绿", False, None, None),
    ("rural_revival", "乡村振兴", "助农增收、技能培训、产业帮扶", False, None, None),
]
SKILLS = [
    # code, name, needs_qualification
    ("companionship", "陪伴聊天", False),
    ("housework", "家政保洁", False),
    ("errands", "代购代办", False),
    ("repair", "家电水电维修", True),
    ("medical", "医疗护理", True),
    ("first_aid", "急救", True),
    ("tutoring", "课业辅导", False),
    ("haircut", "理发", False),
    ("legal", "法律咨询", True),
    ("psychology", "心理疏导", True),
    ("performance", "文艺表演", False),
    ("lecturing", "宣讲", False),
    ("driving", "驾驶接送", True),
    ("photography", "摄影摄像", False),
    ("agriculture", "农技指导", False),
    ("e_commerce", "电商带货", False),
    ("sign_language", "手语", True),
    ("computer", "电脑手机教学", False),
]
PROGRAMMES = [
    ("micro_wish", "认领微心愿", "群众的小而具体的需求，多为物资或简单服务"),
    ("household_pairs", "户帮户亲帮亲", "邻里、亲友结对帮扶"),
    ("enterprises_households", "万企帮万户", "企业结对帮扶困难家庭"),
    ("home_for_all", "我想有个家", "为困难群众安居助力"),
    ("our_festivals", "我们的节日", "春节、元宵、清明、端午、七夕、中秋、重阳主题活动"),
]
SEASONS = [
    ("family", "亲情季", "春节前后：孝老爱亲、关爱留守"),
    ("growth", "成长季", "六一至暑期：关爱未成年人成长"),
    ("harvest", "丰收季", "中国农民丰收节前后：助农增收"),
    ("integrity", "诚信季", "年末：诚信建设、志愿服务总结"),
]


def _catalogue_tables() -> dict[str, sa.Table]:
    meta = sa.MetaData()

    def table(name: str, *extra: sa.Column) -> sa.Table:
        return sa.Table(
            name,
            meta,
            sa.Column("code", sa.String(40)),
            sa.Column("name", sa.String(50)),
            sa.Column("sort_order", sa.Integer),
            sa.Column("is_active", sa.Boolean),
            sa.Column("created_at", sa.DateTime(timezone=True)),
            sa.Column("updated_at", sa.DateTime(timezone=True)),
            *extra,
        )

    return {
        "categories": table(
            "categories",
            sa.Column("description", sa.String(500)),
            sa.Column("risky", sa.Boolean),
            sa.Column("min_age", sa.Integer),
            sa.Column("max_age", sa.Integer),
        ),
        "skills": table("skills", sa.Column("needs_qualification", sa.Boolean)),
        "programmes": table("programmes", sa.Column("description", sa.String(500))),
        "season_themes": table("season_themes", sa.Column("description", sa.String(500))),
    }


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END
            $$
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
            )
    else:
        for table in APPEND_ONLY_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )

    # SQLite stores UTC timestamps as naive text; PostgreSQL takes them with their zone.
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    stamp = {"created_at": now, "updated_at": now, "is_active": True}
    tables = _catalogue_tables()
    op.bulk_insert(
        tables["categories"],
        [
            {
                "code": c, "name": n, "description": d, "risky": r, "min_age": lo,
                "max_age": hi, "sort_order": i, **stamp,
            }
            for i, (c, n, d, r, lo, hi) in enumerate(CATEGORIES)
        ],
    )
    op.bulk_insert(
        tables["skills"],
        [
            {"code": c, "name": n, "needs_qualification": q, "sort_order": i, **stamp}
            for i, (c, n, q) in enumerate(SKILLS)
        ],
    )
    for key, rows in (("programmes", PROGRAMMES), ("season_themes", SEASONS)):
        op.bulk_insert(
            tables[key],
            [
                {"code": c, "name": n, "description": d, "sort_order": i, **stamp}
                for i, (c, n, d) in enumerate(rows)
            ],
        )


def downgrade() -> None:
    for table, rows in (
        ("season_themes", SEASONS),
        ("programmes", PROGRAMMES),
        ("skills", SKILLS),
        ("categories", CATEGORIES),
    ):
        codes = ", ".join(f"'{row[0]}'" for row in rows)
        op.execute(f"DELETE FROM {table} WHERE code IN ({codes})")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION refuse_change()")
    else:
        for table in APPEND_ONLY_TABLES:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{action}")
