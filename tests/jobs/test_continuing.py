"""A continuing kind (long work a slice per step) runs its next slice in the same scheduler pass;
any other timer set due again by its own step waits for the next pass."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from app.jobs import registry, store
from app.jobs import scheduler as scheduler_module
from app.jobs.scheduler import Scheduler
from tests.conftest import BoundDatabase
from tests.dispatch.conftest import Clock


@pytest.mark.parametrize(("continuing", "per_pass"), [(True, [3]), (False, [1, 1, 1])])
def test_a_continuing_timer_runs_its_slices_in_one_pass(
    session: Session,
    engine: Engine,
    connection: Connection,
    frozen: Clock,
    monkeypatch: pytest.MonkeyPatch,
    continuing: bool,
    per_pass: list[int],
) -> None:
    kind = "test.slices"
    left = [3]

    def step(session: Session, subject_id: int, now: datetime) -> None:
        left[0] -= 1
        if left[0]:
            store.set_timer(session, kind=kind, subject_id=subject_id, run_at=now, now=now)

    monkeypatch.setitem(registry.HANDLERS, kind, step)
    if continuing:  # as `register(kind, step, continuing=True)` would mark it
        monkeypatch.setattr(scheduler_module, "CONTINUING", {kind})
    store.set_timer(session, kind=kind, subject_id=1, run_at=frozen.now, now=frozen.now)
    session.flush()
    scheduler = Scheduler(BoundDatabase(engine, connection))
    ran = [scheduler.run_due() for _ in per_pass]
    assert ran == per_pass
    assert left == [0]
    assert scheduler.run_due() == 0
