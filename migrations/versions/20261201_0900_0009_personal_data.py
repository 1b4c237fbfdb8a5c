"""Personal data: sealed columns and the phone lookup hash, the exact place of wishes sealed,
volunteers' homes kept to 100 m, consent texts and versions, the access log, grid workers,
account deletion and retention marks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00

Existing rows are sealed in place with the data key in force (DATA_KEYS / DATA_KEY_ID, the
development key when unset), on both engines. On SQLite the old plaintext may linger in free
pages and the WAL: run `wenming reencrypt` afterwards (it checkpoints and VACUUMs).
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

import h3

import app.models.base

# The sealed-value format (enc1) and the keys come from app.crypto.sealing: values sealed here
# must open in the app. A later format would be a new version beside enc1, not a change to it.
from app.crypto.sealing import keyring

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
HOME_DECIMALS = 3  # volunteers' homes as matching reads them, about 100 m (app/privacy/places)


def cell_of(lat: float, lng: float) -> int:
    # As app.geo.cell_of on the day of this migration (H3 resolution 8).
    return h3.str_to_int(h3.latlng_to_cell(lat, lng, 8))
APPEND_ONLY = ("consent_texts", "access_log")

CONSENT_TEXTS = [
    (
        "location",
        "1",
        "签到签退位置信息授权",
        "为核实志愿服务的时间和地点，本平台仅在您签到和签退的两个时刻获取一次手机定位，"
        "不记录行动轨迹。位置信息属于敏感个人信息，加密保存，仅用于核验服务记录；"
        "服务记录保存期满或您撤回授权后，已保存的定位即被删除。您可随时在“我的-授权管理”中撤回，"
        "撤回后可请协调员人工确认签到签退。",
    ),
    (
        "personal_info",
        "1",
        "点单个人信息授权",
        "为完成您的心愿，本平台处理您的姓名、联系电话和详细地址：审核期间站点协调员可查看；"
        "志愿者接单后，接单志愿者可查看，以便上门服务和联系您；每次查看均留有记录。"
        "其他志愿者只能看到大致位置。心愿办结或取消满保存期限后，详细地址、联系电话和精确位置将被删除。"
        "由网格员或协调员代为点单的，代点单人须向您说明以上内容并取得您的同意。",
    ),
]
CONSENT_EFFECTIVE = date(2026, 1, 1)


def _now(bind: sa.Connection) -> datetime:
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now


def _append_only(tables: Sequence[str], *, create: bool) -> None:
    """Refuse UPDATE and DELETE, like the other ledgers (migrations 0002 and 0005)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
                if create
                else f"DROP TRIGGER {table}_append_only ON {table}"
            )
            continue
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                if create
                else f"DROP TRIGGER {table}_no_{action.lower()}"
            )


def _rows(bind: sa.Connection, table: str, columns: str) -> list[sa.Row]:
    """Every row's id and the named columns, read in id order and in batches."""
    rows: list[sa.Row] = []
    last = 0
    while True:
        batch = bind.execute(
            sa.text(f"SELECT id, {columns} FROM {table} WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        rows.extend(batch)
        if len(batch) < BATCH:
            return rows
        last = batch[-1].id


def _point(lat: float, lng: float) -> str:
    return f"{float(lat)!r},{float(lng)!r}"


def _seal_existing(bind: sa.Connection) -> None:
    ring = keyring()

    def seal(value: str | None, context: str) -> str | None:
        return None if value is None else ring.encrypt(value, context)

    for row in _rows(bind, "users", "phone"):
        if row.phone is not None:
            bind.execute(
                sa.text("UPDATE users SET phone = :p, phone_hash = :h WHERE id = :id"),
                {"p": seal(row.phone, "users.phone"), "h": ring.lookup_hash(row.phone),
                 "id": row.id},
            )  # fmt: skip
    for row in _rows(bind, "wishes", "full_address, contact_phone, lat, lng"):
        bind.execute(
            sa.text(
                "UPDATE wishes SET full_address = :a, contact_phone = :c, exact_point = :p "
                "WHERE id = :id"
            ),
            {
                "a": seal(row.full_address, "wishes.full_address"),
                "c": seal(row.contact_phone, "wishes.contact_phone"),
                "p": seal(_point(row.lat, row.lng), "wishes.exact_point"),
                "id": row.id,
            },
        )
    for row in _rows(bind, "volunteers", "lat, lng"):
        lat, lng = round(row.lat, HOME_DECIMALS), round(row.lng, HOME_DECIMALS)
        bind.execute(
            sa.text(
                "UPDATE volunteers SET home_point = :p, lat = :lat, lng = :lng, h3_cell = :cell "
                "WHERE id = :id"
            ),
            {"p": seal(_point(row.lat, row.lng), "volunteers.home_point"), "lat": lat,
             "lng": lng, "cell": cell_of(lat, lng), "id": row.id},
        )  # fmt: skip
    columns = "check_in_lat, check_in_lng, check_out_lat, check_out_lng"
    for row in _rows(bind, "attendances", columns):
        fixes = {
            "i": None if row.check_in_lat is None else _point(row.check_in_lat, row.check_in_lng),
            "o": None
            if row.check_out_lat is None
            else _point(row.check_out_lat, row.check_out_lng),
        }
        if fixes["i"] is None and fixes["o"] is None:
            continue
        bind.execute(
            sa.text("UPDATE attendances SET check_in_fix = :i, check_out_fix = :o WHERE id = :id"),
            {"i": seal(fixes["i"], "attendances.check_in_fix"),
             "o": seal(fixes["o"], "attendances.check_out_fix"), "id": row.id},
        )  # fmt: skip
    for row in _rows(bind, "outbox", "payload"):  # already TEXT here, on both engines
        bind.execute(
            sa.text("UPDATE outbox SET payload = :p WHERE id = :id"),
            {"p": seal(row.payload, "outbox.payload"), "id": row.id},
        )


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"

    # ---------------------------------------------------------------- new tables
    op.create_table(
        "consent_texts",
        sa.Column("purpose", sa.String(length=32).with_variant(sa.String(length=32, collation="C"), "postgresql"), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_consent_texts_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_texts")),
        sa.UniqueConstraint("purpose", "version", name=op.f("uq_consent_texts_purpose_version")),
    )  # fmt: skip
    with op.batch_alter_table("consent_texts", schema=None) as batch_op:
        batch_op.create_index("ix_consent_texts_purpose_effective", ["purpose", "effective_date", "id"], unique=False)  # fmt: skip
    op.create_table(
        "access_log",
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("subject_user_id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("fields", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_access_log_actor_id_users")),
        sa.ForeignKeyConstraint(["subject_user_id"], ["users.id"], name=op.f("fk_access_log_subject_user_id_users")),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteers.id"], name=op.f("fk_access_log_volunteer_id_volunteers")),
        sa.ForeignKeyConstraint(["wish_id"], ["wishes.id"], name=op.f("fk_access_log_wish_id_wishes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )  # fmt: skip
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index("ix_access_log_actor", ["actor_id", "id"], unique=False)
        batch_op.create_index("ix_access_log_subject", ["subject_user_id", "id"], unique=False)
        batch_op.create_index("ix_access_log_wish", ["wish_id", "id"], unique=False)
    _append_only(APPEND_ONLY, create=True)
    texts = sa.table(
        "consent_texts",
        sa.column("purpose", sa.String), sa.column("version", sa.String),
        sa.column("title", sa.String), sa.column("body", sa.Text),
        sa.column("effective_date", sa.Date), sa.column("created_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    op.bulk_insert(
        texts,
        [
            {"purpose": p, "version": v, "title": t, "body": b,
             "effective_date": CONSENT_EFFECTIVE, "created_at": _now(bind)}
            for p, v, t, b in CONSENT_TEXTS
        ],
    )  # fmt: skip

    # ---------------------------------------------------------------- accounts and roles
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=True))  # fmt: skip
        batch_op.drop_constraint(batch_op.f("uq_users_phone"), type_="unique")
        batch_op.alter_column("phone", existing_type=sa.String(length=20), type_=sa.Text(), existing_nullable=True)  # fmt: skip
        batch_op.create_unique_constraint(batch_op.f("uq_users_phone_hash"), ["phone_hash"])
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_role_grants_role_known"), type_="check")
        batch_op.drop_constraint(op.f("ck_role_grants_scope_iff_coordinator"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_role_grants_role_known"),
            "role IN ('resident', 'volunteer', 'coordinator', 'admin', 'grid_worker')",
        )
        batch_op.create_check_constraint(
            op.f("ck_role_grants_scope_iff_unit"),
            "(role IN ('coordinator', 'grid_worker')) = (org_unit_id IS NOT NULL)",
        )

    # ---------------------------------------------------------------- consent versions
    # The consents ledger is append-only; rebuilding a table on SQLite would drop its
    # triggers, so they are taken off around the change and put back (new rows only: no
    # existing row is touched, their new columns stay empty).
    if sqlite:
        _append_only(["consents"], create=False)
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("method", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_consents_recorded_by_id_users"), "users", ["recorded_by_id"], ["id"])  # fmt: skip
    if sqlite:
        _append_only(["consents"], create=True)

    # ---------------------------------------------------------------- sealed columns
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.alter_column("full_address", existing_type=sa.String(length=200), type_=sa.Text(), nullable=True)  # fmt: skip
        batch_op.alter_column("contact_phone", existing_type=sa.String(length=20), type_=sa.Text(), existing_nullable=True)  # fmt: skip
        batch_op.add_column(sa.Column("exact_point", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("personal_data_erased_at", app.models.base.UTCDateTime(timezone=True), nullable=True))  # fmt: skip
        batch_op.create_index("ix_wishes_unerased", ["personal_data_erased_at", "status", "id"], unique=False)  # fmt: skip
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_point", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("id_number", sa.Text(), nullable=True))
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("check_in_fix", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("check_out_fix", sa.Text(), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False, postgresql_using="payload::text")  # fmt: skip

    _seal_existing(bind)

    with op.batch_alter_table("attendances", schema=None) as batch_op:
        for name in ("check_in_lat", "check_in_lng", "check_out_lat", "check_out_lng"):
            batch_op.drop_column(name)
    # The exact place now lives sealed in exact_point; the plain coarse point (0007) stays.
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_wishes_lat_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_wishes_lng_range"), type_="check")
        batch_op.drop_column("lat")
        batch_op.drop_column("lng")


def _open_existing(bind: sa.Connection) -> None:
    """Downgrade: plaintext back (and the exact points back into lat/lng)."""
    ring = keyring()

    def unseal(value: str | None, context: str) -> str | None:
        return None if value is None else ring.decrypt(value, context)

    def point(value: str | None, context: str) -> tuple[float | None, float | None]:
        text = unseal(value, context)
        if text is None:
            return None, None
        lat, _, lng = text.partition(",")
        return float(lat), float(lng)

    for row in _rows(bind, "users", "phone"):
        if row.phone is not None:
            bind.execute(sa.text("UPDATE users SET phone = :p WHERE id = :id"),
                         {"p": unseal(row.phone, "users.phone"), "id": row.id})  # fmt: skip
    columns = "full_address, contact_phone, exact_point, coarse_lat, coarse_lng"
    for row in _rows(bind, "wishes", columns):
        lat, lng = point(row.exact_point, "wishes.exact_point")
        bind.execute(
            sa.text("UPDATE wishes SET full_address = :a, contact_phone = :c, lat = :lat, "
                    "lng = :lng WHERE id = :id"),
            {"a": unseal(row.full_address, "wishes.full_address") or "",
             "c": unseal(row.contact_phone, "wishes.contact_phone"),
             "lat": row.coarse_lat if lat is None else lat,
             "lng": row.coarse_lng if lng is None else lng,
             "id": row.id},
        )  # fmt: skip
    for row in _rows(bind, "volunteers", "home_point"):
        lat, lng = point(row.home_point, "volunteers.home_point")
        if lat is not None and lng is not None:
            bind.execute(
                sa.text("UPDATE volunteers SET lat = :lat, lng = :lng, h3_cell = :cell "
                        "WHERE id = :id"),
                {"lat": lat, "lng": lng, "cell": cell_of(lat, lng), "id": row.id},
            )  # fmt: skip
    for row in _rows(bind, "attendances", "check_in_fix, check_out_fix"):
        i_lat, i_lng = point(row.check_in_fix, "attendances.check_in_fix")
        o_lat, o_lng = point(row.check_out_fix, "attendances.check_out_fix")
        bind.execute(
            sa.text("UPDATE attendances SET check_in_lat = :a, check_in_lng = :b, "
                    "check_out_lat = :c, check_out_lng = :d WHERE id = :id"),
            {"a": i_lat, "b": i_lng, "c": o_lat, "d": o_lng, "id": row.id},
        )  # fmt: skip
    for row in _rows(bind, "outbox", "payload"):
        bind.execute(sa.text("UPDATE outbox SET payload = :p WHERE id = :id"),
                     {"p": unseal(row.payload, "outbox.payload"), "id": row.id})  # fmt: skip


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lng", sa.Float(), nullable=True))
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        for name in ("check_in_lat", "check_in_lng", "check_out_lat", "check_out_lng"):
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
    _open_existing(bind)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False, postgresql_using="payload::json")  # fmt: skip
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.drop_column("check_out_fix")
        batch_op.drop_column("check_in_fix")
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.drop_column("id_number")
        batch_op.drop_column("home_point")
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.alter_column("lat", existing_type=sa.Float(), nullable=False)
        batch_op.alter_column("lng", existing_type=sa.Float(), nullable=False)
        batch_op.create_check_constraint(op.f("ck_wishes_lat_range"), "lat BETWEEN -90 AND 90")
        batch_op.create_check_constraint(op.f("ck_wishes_lng_range"), "lng BETWEEN -180 AND 180")
        batch_op.drop_index("ix_wishes_unerased")
        batch_op.drop_column("personal_data_erased_at")
        batch_op.drop_column("exact_point")
        batch_op.alter_column("contact_phone", existing_type=sa.Text(), type_=sa.String(length=20), existing_nullable=True)  # fmt: skip
        batch_op.alter_column("full_address", existing_type=sa.Text(), type_=sa.String(length=200), nullable=False)  # fmt: skip
    if sqlite:
        _append_only(["consents"], create=False)
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_consents_recorded_by_id_users"), type_="foreignkey")
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_column("method")
        batch_op.drop_column("version")
    if sqlite:
        _append_only(["consents"], create=True)
    op.execute("DELETE FROM role_grants WHERE role = 'grid_worker'")
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_role_grants_scope_iff_unit"), type_="check")
        batch_op.drop_constraint(op.f("ck_role_grants_role_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_role_grants_role_known"),
            "role IN ('resident', 'volunteer', 'coordinator', 'admin')",
        )
        batch_op.create_check_constraint(
            op.f("ck_role_grants_scope_iff_coordinator"),
            "(role = 'coordinator') = (org_unit_id IS NOT NULL)",
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_phone_hash"), type_="unique")
        batch_op.alter_column("phone", existing_type=sa.Text(), type_=sa.String(length=20), existing_nullable=True)  # fmt: skip
        batch_op.create_unique_constraint(batch_op.f("uq_users_phone"), ["phone"])
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("phone_hash")
    _append_only(APPEND_ONLY, create=False)
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index("ix_access_log_wish")
        batch_op.drop_index("ix_access_log_subject")
        batch_op.drop_index("ix_access_log_actor")
    op.drop_table("access_log")
    with op.batch_alter_table("consent_texts", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_texts_purpose_effective")
    op.drop_table("consent_texts")
