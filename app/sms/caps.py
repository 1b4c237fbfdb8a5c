"""Per-number daily caps: a row per (number's lookup hash, local date) counts what was sent.

`take` adds one only while the count is below the cap (one conditional UPDATE, so two workers
cannot both take the last one) and drops earlier days; `give_back` returns it
when the provider did not send. Each
is its own short transaction: no transaction is open while a provider is called.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite

from app.db import Database
from app.models import SmsDailyCount

_TABLE = SmsDailyCount.metadata.tables["sms_daily_counts"]


def take(database: Database, *, phone_hash: str, local_date: date, cap: int) -> bool:
    with database.session(write=True) as session, session.begin():
        # Earlier days are done with: no count outlives its day by more than one (the
        # hashes of numbers are personal data too).
        session.execute(delete(SmsDailyCount).where(SmsDailyCount.local_date < local_date))
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(_TABLE).values(phone_hash=phone_hash, local_date=local_date, sent=0)
        session.execute(statement.on_conflict_do_nothing())
        taken = session.execute(
            update(SmsDailyCount)
            .where(
                SmsDailyCount.phone_hash == phone_hash,
                SmsDailyCount.local_date == local_date,
                SmsDailyCount.sent < cap,
            )
            .values(sent=SmsDailyCount.sent + 1)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def give_back(database: Database, *, phone_hash: str, local_date: date) -> None:
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(SmsDailyCount)
            .where(
                SmsDailyCount.phone_hash == phone_hash,
                SmsDailyCount.local_date == local_date,
                SmsDailyCount.sent > 0,
            )
            .values(sent=SmsDailyCount.sent - 1)
        )
