"""Workers that push at the same moment cannot spend one subscription, or one SMS of a
number's daily cap, twice: real threads on a real database, each with its own connections."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database, make_engine, writer
from app.models import SmsDailyCount, SubscriptionQuota
from app.push import quota
from app.sms import caps
from tests.fixtures.builders import make_user
from tests.fixtures.databases import fresh_database

THREADS = 8


@pytest.fixture
def shared(engine_name: str, tmp_path: Path, settings: Settings) -> Iterator[Database]:
    with fresh_database(engine_name, tmp_path) as url:
        engine = make_engine(url, settings)
        try:
            yield Database(engine)
        finally:
            engine.dispose()


def _all_at_once(call: Callable[[], bool]) -> list[bool]:
    barrier = threading.Barrier(THREADS)
    results: list[bool] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_three_subscriptions_are_spent_by_three_workers(shared: Database) -> None:
    with Session(writer(shared.engine)) as session, session.begin():
        user_id = make_user(session).id
        session.add(SubscriptionQuota(user_id=user_id, template_id="tpl", remaining=3))
    taken = _all_at_once(lambda: quota.take(shared, user_id=user_id, template_id="tpl"))
    assert sorted(taken) == [False] * (THREADS - 3) + [True] * 3
    with Session(shared.engine) as session:
        left = session.scalar(select(SubscriptionQuota.remaining))
    assert left == 0


def test_a_daily_cap_holds_under_concurrent_sends(shared: Database) -> None:
    day = date(2026, 12, 2)
    taken = _all_at_once(lambda: caps.take(shared, phone_hash="h" * 64, local_date=day, cap=3))
    assert taken.count(True) == 3
    with Session(shared.engine) as session:
        assert session.scalar(select(SmsDailyCount.sent)) == 3
    # The next day starts again, and drops the old day's row.
    assert caps.take(shared, phone_hash="h" * 64, local_date=date(2026, 12, 3), cap=3)
    with Session(shared.engine) as session:
        rows = session.execute(select(SmsDailyCount.local_date, SmsDailyCount.sent)).all()
    assert [tuple(row) for row in rows] == [(date(2026, 12, 3), 1)]
