"""`wenming reencrypt`: seal every stored value with the current key, and recompute the phone
lookup hashes with the current lookup key.

Rotation: add the new key to DATA_KEYS, point DATA_KEY_ID at it, restart (new values use it, old
ones still open), run this, then drop the old key. It walks each sealed column by id in batches,
each batch its own short transaction, and rewrites only values sealed under another key, with a
compare-and-set on the old value so that a concurrent change is never overwritten: running it
again does nothing. On SQLite it then checkpoints the WAL and VACUUMs, so that no old bytes
linger in free pages (connections also run with `secure_delete`); on PostgreSQL old row versions
are reclaimed by VACUUM as usual (`VACUUM FULL` rewrites the tables, under a lock).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Engine

from app.crypto.sealing import Keyring, keyring
from app.crypto.types import SealedType
from app.db import Database
from app.models import Base

BATCH = 500


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    context: str


def sealed_columns() -> list[SealedColumn]:
    """Every sealed column of the schema, found from the models."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, SealedType):
                found.append(SealedColumn(table.name, column.name, column.type.context))
    return found


@dataclass
class Report:
    resealed: dict[str, int] = field(default_factory=dict)
    hashes: int = 0
    vacuumed: bool = False


def reencrypt(
    database: Database,
    *,
    ring: Keyring | None = None,
    batch: int = BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> Report:
    ring = ring or keyring()
    report = Report()
    prefix = f"enc1:{ring.current}:"
    for sealed in sealed_columns():
        table = sa.table(
            sealed.table, sa.column("id", sa.Integer), sa.column(sealed.column, sa.Text)
        )
        value = table.c[sealed.column]
        done = last = 0
        while True:
            with database.session(write=True) as session, session.begin():
                rows = session.execute(
                    sa.select(table.c.id, value)
                    .where(
                        table.c.id > last,
                        value.is_not(None),
                        sa.func.substr(value, 1, len(prefix)) != prefix,
                    )
                    .order_by(table.c.id)
                    .limit(batch)
                ).all()
                for row_id, old in rows:
                    new = ring.encrypt(ring.decrypt(old, sealed.context), sealed.context)
                    result = session.execute(
                        sa.update(table)
                        .where(table.c.id == row_id, value == old)
                        .values({sealed.column: new})
                    )
                    done += result.rowcount  # type: ignore[attr-defined]
            if rows:
                last = rows[-1][0]
            if progress is not None:
                progress(f"{sealed.table}.{sealed.column}", done)
            if len(rows) < batch:
                break
        report.resealed[f"{sealed.table}.{sealed.column}"] = done
    report.resealed["idempotency_keys.response_body"] = _reseal_stored_responses(
        database, ring, batch
    )
    report.hashes = _rehash_phones(database, ring, batch)
    if database.engine.dialect.name == "sqlite":
        _vacuum(database.engine)
        report.vacuumed = True
    return report


def _reseal_stored_responses(database: Database, ring: Keyring, batch: int) -> int:
    """The responses kept for Idempotency-Key replays (bytes, sealed by app/idempotency.py)."""
    from app.idempotency import BODY_CONTEXT

    body = sa.column("response_body", sa.LargeBinary)
    keys = sa.table("idempotency_keys", sa.column("id", sa.Integer), body)
    done = last = 0
    while True:
        with database.session(write=True) as session, session.begin():
            rows = session.execute(
                sa.select(keys.c.id, body)
                .where(keys.c.id > last, body.is_not(None))
                .order_by(keys.c.id)
                .limit(batch)
            ).all()
            for row_id, old in rows:
                token = bytes(old).decode("ascii")
                if ring.is_current(token):
                    continue
                new = ring.encrypt_bytes(ring.decrypt_bytes(token, BODY_CONTEXT), BODY_CONTEXT)
                result = session.execute(
                    sa.update(keys)
                    .where(keys.c.id == row_id, body == old)
                    .values(response_body=new.encode("ascii"))
                )
                done += result.rowcount  # type: ignore[attr-defined]
        if rows:
            last = rows[-1][0]
        if len(rows) < batch:
            return done


def _rehash_phones(database: Database, ring: Keyring, batch: int) -> int:
    """Recompute `users.phone_hash` under the current LOOKUP_KEY (after rotating it)."""
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("phone", sa.Text),
                     sa.column("phone_hash", sa.String))  # fmt: skip
    changed = last = 0
    while True:
        with database.session(write=True) as session, session.begin():
            rows = session.execute(
                sa.select(users.c.id, users.c.phone, users.c.phone_hash)
                .where(users.c.id > last, users.c.phone.is_not(None))
                .order_by(users.c.id)
                .limit(batch)
            ).all()
            for row_id, sealed, digest in rows:
                fresh = ring.lookup_hash(ring.decrypt(sealed, "users.phone").strip())
                if fresh != digest:
                    session.execute(
                        sa.update(users)
                        .where(users.c.id == row_id, users.c.phone == sealed)
                        .values(phone_hash=fresh)
                    )
                    changed += 1
        if rows:
            last = rows[-1][0]
        if len(rows) < batch:
            return changed


def _vacuum(engine: Engine) -> None:
    """Outside any transaction: SQLite cannot VACUUM inside one."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
