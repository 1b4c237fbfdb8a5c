"""Nothing personal is readable at rest: not in the SQLite file (with its WAL and shared memory),
not in a PostgreSQL dump; the migration seals rows that existed before; keys rotate.

These tests use databases of their own (committed data, not the rolled-back test transaction).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlalchemy.orm import Session

from app import migrate
from app.auth.users import user_by_phone
from app.crypto import sealing
from app.crypto.sealing import Keyring, development_keyring
from app.db import Database, make_engine
from app.demo.seed import seed_demo
from app.demo.stories import STORIES
from app.idempotency import seal, unseal
from app.models import Attendance, IdempotencyKey, OutboxMessage, User, Volunteer, Wish
from app.privacy.reencrypt import reencrypt, sealed_columns
from tests.fixtures.builders import make_resident, make_tree, make_wish
from tests.fixtures.databases import fresh_database

_FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.accounts.service.hash_password", _FAST_HASHER.hash)


@pytest.fixture
def database(engine_name: str, tmp_path: Path) -> Iterator[tuple[str, Database]]:
    with fresh_database(engine_name, tmp_path) as url:
        db = Database(make_engine(url))
        try:
            yield url, db
        finally:
            db.engine.dispose()


# ---------------------------------------------------------------- the demo, byte for byte


def _needles(session: Session) -> dict[str, bytes]:
    """Every phone number and full address of the demo, as stored text would hold them."""
    phones = {u.phone for u in session.scalars(select(User)) if u.phone}
    phones |= {w.contact_phone for w in session.scalars(select(Wish)) if w.contact_phone}
    addresses = {story.full_address for story in STORIES}
    assert len(phones) >= 59 and len(addresses) >= 10
    return {value: value.encode("utf-8") for value in phones | addresses}


def _sqlite_bytes(path: Path) -> dict[str, bytes]:
    return {
        name: file.read_bytes()
        for name in (path.name, f"{path.name}-wal", f"{path.name}-shm")
        if (file := path.with_name(name)).exists()
    }


def test_the_demo_leaves_no_phone_or_address_readable(
    engine_name: str, database: tuple[str, Database]
) -> None:
    url, db = database
    with db.session(write=True) as session, session.begin():
        seed_demo(session=session)
    with db.session(write=False) as session:
        needles = _needles(session)
        station_name = "余村".encode()

    if engine_name == "sqlite":
        path = Path(make_url(url).database or "")
        # As the server leaves it (WAL not yet checkpointed), then checkpointed.
        before = _sqlite_bytes(path)
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        after = _sqlite_bytes(path)
        assert f"{path.name}-wal" in before
        assert any(station_name in blob for blob in after.values())  # the scan does see text
        for stage, files in (("before checkpoint", before), ("after checkpoint", after)):
            for name, blob in files.items():
                found = [value for value, raw in needles.items() if raw in blob]
                assert found == [], f"{name} {stage}: {found}"
        return

    dump = subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "--dbname",
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    assert station_name in dump and b"COPY public.wishes" in dump
    found = [value for value, raw in needles.items() if raw in dump]
    assert found == []


# ---------------------------------------------------------------- key rotation


def test_reencrypt_moves_every_value_to_the_current_key(database: tuple[str, Database]) -> None:
    _url, db = database
    old = development_keyring()
    with sealing.using(old), db.session(write=True) as session, session.begin():
        tree = make_tree(session)
        resident = make_resident(session, phone="13877776666")
        wish = make_wish(session, station=tree.stations[0], requester=resident)
        wish.exact_point = (30.1234567, 119.7654321)
        now = datetime.now(UTC)
        session.add(
            IdempotencyKey(
                user_id=resident.id,
                key="k-1",
                request_hash="0" * 64,
                method="POST",
                path="/api/v1/wishes",
                status_code=201,
                content_type="application/json",
                response_body=seal(b'{"phone":"13877776666"}'),
                created_at=now,
                expires_at=now,
            )
        )
    new = Keyring(
        keys={**old.keys, "k2027": os.urandom(32)}, current="k2027", lookup_key=os.urandom(32)
    )
    with sealing.using(new):
        report = reencrypt(db, ring=new, batch=2)
        assert {k: v for k, v in report.resealed.items() if v} == {
            "users.phone": 1,
            "wishes.full_address": 1,
            "wishes.contact_phone": 1,
            "wishes.exact_point": 1,
            "idempotency_keys.response_body": 1,
        }
        assert report.hashes == 1  # the lookup key changed too
        again = reencrypt(db, ring=new, batch=2)
        assert set(again.resealed.values()) == {0} and again.hashes == 0
    assert report.vacuumed == (db.engine.dialect.name == "sqlite")

    with db.session(write=False) as session:
        for column in sealed_columns():
            values = session.execute(
                text(
                    f"SELECT {column.column} FROM {column.table} WHERE {column.column} IS NOT NULL"
                )
            ).scalars()
            assert all(str(v).startswith("enc1:k2027:") for v in values), column
    retired = Keyring(keys={"k2027": new.keys["k2027"]}, current="k2027", lookup_key=new.lookup_key)
    with sealing.using(retired), db.session(write=False) as session:
        found = user_by_phone(session, "13877776666")
        assert found is not None and found.phone == "13877776666"
        assert session.get(Wish, wish.id).exact_point == (30.1234567, 119.7654321)  # type: ignore[union-attr]
        kept = session.scalars(select(IdempotencyKey.response_body)).one()
        assert kept is not None and kept.startswith(b"enc1:k2027:")
        assert unseal(kept) == b'{"phone":"13877776666"}'


# ---------------------------------------------------------------- rows from before 0009


def _insert(connection: sa.Connection, table: str, **values: Any) -> int:
    reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
    now = (
        datetime.now(UTC).replace(tzinfo=None)
        if connection.dialect.name == "sqlite"
        else (datetime.now(UTC))
    )
    defaults = {c.name: now for c in reflected.columns if c.name in ("created_at", "updated_at")}
    result = connection.execute(reflected.insert().values(**{**defaults, **values}))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def test_the_migration_seals_rows_that_were_there(engine_name: str, tmp_path: Path) -> None:
    with fresh_database(engine_name, tmp_path, migrated=False) as url:
        migrate.upgrade(url, "0005")
        engine = make_engine(url)
        try:
            with engine.begin() as c:
                station = _insert(
                    c,
                    "org_units",
                    code="330523108204",
                    name="余村",
                    level="village",
                    path="330523108204/",
                    service_radius_m=5000,
                    is_active=True,
                    lat=30.5,
                    lng=119.6,
                )
                user = _insert(c, "users", name="王奶奶", phone="13866665555", is_active=True)
                volunteer = _insert(
                    c,
                    "volunteers",
                    user_id=user,
                    home_station_id=station,
                    lat=30.5012345,
                    lng=119.6012345,
                    service_radius_m=3000,
                    max_concurrent_tasks=2,
                    status="active",
                    h3_cell=0,
                    skill_bits=0,
                    preference_bits=0,
                    completed_count=0,
                    withdrawn_count=0,
                    released_count=0,
                    rating_sum=0,
                    rating_count=0,
                    **{f"avail_{d}": 0 for d in range(7)},
                )
                start = datetime(2027, 3, 2, 2, tzinfo=UTC)
                if engine_name == "sqlite":
                    start = start.replace(tzinfo=None)
                wish = _insert(
                    c,
                    "wishes",
                    station_id=station,
                    category_code="elderly_orphan_care",
                    title="买菜",
                    description="",
                    coarse_address="余村附近",
                    full_address="余村 2 组 18 号",
                    contact_phone="13866664444",
                    lat=30.5054321,
                    lng=119.6054321,
                    wanted_start_at=start,
                    wanted_end_at=start.replace(hour=4),
                    urgency="normal",
                    requester_id=user,
                    status="submitted",
                    version=1,
                    grab_open=False,
                    dispatch_round=0,
                )
                _insert(
                    c,
                    "attendances",
                    wish_id=wish,
                    volunteer_id=volunteer,
                    unit_id=station,
                    is_lead=True,
                    status="in_service",
                    manual=False,
                    late_sync=False,
                    check_in_lat=30.5054,
                    check_in_lng=119.6054,
                )
                _insert(
                    c,
                    "outbox",
                    topic="wish.submitted",
                    recipient_id=user,
                    payload={"title": "买菜", "by": "王奶奶"},
                    status="pending",
                    attempts=0,
                    available_at=start,
                )
                _insert(c, "consents", user_id=user, purpose="location", granted=True)

            migrate.upgrade(url)
            with engine.connect() as c:
                row = c.execute(text("SELECT phone, phone_hash FROM users")).one()
                assert str(row.phone).startswith("enc1:") and len(row.phone_hash) == 64
                w = c.execute(
                    text(
                        "SELECT full_address, contact_phone, coarse_lat, coarse_lng, exact_point "
                        "FROM wishes"
                    )
                ).one()
                assert (w.coarse_lat, w.coarse_lng) == (30.51, 119.61)
                assert all(
                    str(v).startswith("enc1:")
                    for v in (w.full_address, w.contact_phone, w.exact_point)
                )
                v = c.execute(text("SELECT lat, lng, home_point FROM volunteers")).one()
                assert (v.lat, v.lng) == (30.501, 119.601) and str(v.home_point).startswith("enc1:")
                fix = c.execute(text("SELECT check_in_fix, check_out_fix FROM attendances")).one()
                assert str(fix.check_in_fix).startswith("enc1:") and fix.check_out_fix is None
                payload = c.execute(text("SELECT payload FROM outbox")).scalar_one()
                assert str(payload).startswith("enc1:") and "王奶奶" not in str(payload)
            with Session(engine) as session:
                found = user_by_phone(session, "13866665555")
                assert found is not None and found.phone == "13866665555"
                stored = session.scalars(select(Wish)).one()
                assert (stored.full_address, stored.contact_phone, stored.exact_point) == (
                    "余村 2 组 18 号",
                    "13866664444",
                    (30.5054321, 119.6054321),
                )
                home = session.scalars(select(Volunteer)).one()
                assert home.home_point == (30.5012345, 119.6012345)
                assert session.scalars(select(Attendance)).one().check_in_fix == (30.5054, 119.6054)
                message = session.scalars(select(OutboxMessage)).one()
                assert message.payload == {"title": "买菜", "by": "王奶奶"}
            # The consent ledger is still append-only after its table changed.
            with engine.connect() as c, pytest.raises((DatabaseError, IntegrityError)) as raised:
                c.execute(text("UPDATE consents SET granted = false"))
            assert "append-only" in str(raised.value)

            # And back down: the plaintext returns.
            migrate.downgrade(url, "0005")
            with engine.connect() as c:
                assert c.execute(text("SELECT phone FROM users")).scalar_one() == "13866665555"
                w = c.execute(text("SELECT full_address, lat, lng FROM wishes")).one()
                assert tuple(w) == ("余村 2 组 18 号", 30.5054321, 119.6054321)
        finally:
            engine.dispose()


# ---------------------------------------------------------------- the commands


def test_the_reencrypt_command_runs_on_the_configured_database(
    database: tuple[str, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.config import get_settings

    url, db = database
    with db.session(write=True) as session, session.begin():
        make_resident(session, phone="13855554444")
    new_data, new_lookup = sealing.new_key(), sealing.new_key()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv(
        "DATA_KEYS", f'{{"dev": "{_b64(sealing.DEVELOPMENT_DATA_KEY)}", "k2": "{new_data}"}}'
    )
    monkeypatch.setenv("DATA_KEY_ID", "k2")
    monkeypatch.setenv("LOOKUP_KEY", new_lookup)
    get_settings.cache_clear()
    previous = sealing.keyring()
    try:
        result = CliRunner().invoke(cli, ["reencrypt", "--batch", "10"])
        assert result.exit_code == 0, result.output
        assert "users.phone" in result.output and "当前密钥 k2" in result.output
        with db.session(write=False) as session:
            stored = session.execute(text("SELECT phone FROM users")).scalar_one()
            assert str(stored).startswith("enc1:k2:")
            assert user_by_phone(session, "13855554444") is not None  # under the new lookup key
        printed = CliRunner().invoke(cli, ["new-key"]).output.strip()
        assert len(sealing.decode_key(printed, name="new-key")) == 32
    finally:
        get_settings.cache_clear()
        sealing.configure(previous)


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()
