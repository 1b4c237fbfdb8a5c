"""The statistics' fact table (`wish_milestones`) is what the event log says: for any history,
every wish has a row, holding the earliest instant of every step, the whole seconds from placing
to each, and the channel of its first submit, whatever order the events are written in; and the
migration that creates it fills it from a log written before it, equal to what the triggers
keep."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import migrate
from app.config import Settings
from app.db import make_engine
from app.models import Wish, WishEventRecord, WishMilestones
from app.wishes.state import ActorRole, WishEvent
from tests.fixtures.builders import make_tree
from tests.fixtures.databases import fresh_database
from tests.stats.history import (
    WishPlan,
    at,
    build,
    histories,
    people,
    served_in_turn,
    whole_seconds,
    wish_with,
)

W = WishEvent
R = ActorRole

# The definitions, written out again: the events whose earliest instant makes each milestone.
STEP_EVENTS: dict[str, tuple[str, ...]] = {
    "placed_at": ("submit",),
    "reviewed_at": ("approve", "reject"),
    "offered_at": ("offer", "open_grab"),
    "accepted_at": ("accept",),
    "cancelled_at": ("cancel",),
    "escalated_at": ("escalate",),
    "rated_at": ("rate",),
}
TIMED = {
    "review_seconds": "reviewed_at",
    "offer_seconds": "offered_at",
    "accept_seconds": "accepted_at",
    "complete_seconds": "completed_at",
}


def expected(session: Session) -> dict[int, dict[str, Any]]:
    """Every wish: its milestones computed in Python from its log."""
    session.expire_all()
    wishes = {w.id: w for w in session.scalars(select(Wish))}
    events: dict[int, list[WishEventRecord]] = {}
    for e in session.scalars(select(WishEventRecord).order_by(WishEventRecord.id)):
        events.setdefault(e.wish_id, []).append(e)
    out: dict[int, dict[str, Any]] = {}
    for wish_id, wish in wishes.items():
        log = events.get(wish_id, [])
        row: dict[str, Any] = {
            "station_id": wish.station_id,
            "category_code": wish.category_code,
            "programme_code": wish.programme_code,
            "season_code": wish.season_code,
            "rating": wish.rating,
        }
        for column, kinds in STEP_EVENTS.items():
            row[column] = min((e.created_at for e in log if e.event in kinds), default=None)
        row["completed_at"] = min(
            (e.created_at for e in log if e.to_status == "completed"), default=None
        )
        for seconds, step in TIMED.items():
            placed, reached = row["placed_at"], row[step]
            row[seconds] = (
                None if placed is None or reached is None else whole_seconds(placed, reached)
            )
        submits = sorted(
            (e for e in log if e.event == "submit"), key=lambda e: (e.created_at, e.id)
        )
        if not submits:
            row["channel"] = None
        elif wish.proxy_id is None:
            row["channel"] = "self"
        elif submits[0].actor_role in ("coordinator", "admin"):
            row["channel"] = "staff"
        else:
            row["channel"] = "grid_worker"
        out[wish_id] = row
    return out


def stored(session: Session) -> dict[int, dict[str, Any]]:
    session.expire_all()
    columns = [c.key for c in WishMilestones.__table__.columns if c.key != "wish_id"]
    return {
        m.wish_id: {c: getattr(m, c) for c in columns}
        for m in session.scalars(select(WishMilestones))
    }


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_milestones_are_the_first_instants_of_the_log(
    session: Session, history: list[WishPlan]
) -> None:
    savepoint = session.begin_nested()
    try:
        build(session, history)
        assert stored(session) == expected(session)
    finally:
        savepoint.rollback()
        session.expunge_all()


def test_events_written_out_of_order_keep_the_earliest(session: Session) -> None:
    tree = make_tree(session)
    who = people(session, tree)
    wish = wish_with(
        session,
        tree,
        who,
        placed_at=at(10),
        log=[(W.APPROVE, R.COORDINATOR, at(20)), (W.OFFER, R.COORDINATOR, at(30))],
        channel="grid_worker",
    )
    row = session.get(WishMilestones, wish.id)
    assert row is not None
    assert (row.placed_at, row.reviewed_at, row.offered_at) == (at(10), at(20), at(30))
    assert row.channel == "grid_worker" and row.accepted_at is None

    def append(event: WishEvent, moment: datetime, role: ActorRole = R.COORDINATOR) -> None:
        session.add(
            WishEventRecord(
                wish_id=wish.id,
                event=event,
                from_status="approved",
                to_status="dispatching",
                actor_id=None,
                actor_role=role,
                data={},
                created_at=moment,
            )
        )
        session.flush()

    append(W.OFFER, at(25))  # earlier than the stored offer: it wins
    append(W.OFFER, at(40))  # later: nothing changes
    append(W.APPROVE, at(5))  # before the submit even: still the earliest review
    append(W.SUBMIT, at(12), R.COORDINATOR)  # a later submit leaves placing and channel
    append(W.SUBMIT, at(8), R.COORDINATOR)  # an earlier one moves both
    session.expire_all()
    row = session.get(WishMilestones, wish.id)
    assert row is not None
    assert (row.placed_at, row.reviewed_at, row.offered_at) == (at(8), at(5), at(25))
    assert row.channel == "staff"
    assert stored(session) == expected(session)


def test_the_migration_fills_the_table_from_an_existing_log(
    engine_name: str, tmp_path: Path, settings: Settings
) -> None:
    """Milestones kept by the trigger, the table dropped (downgrade), the log alone left, then
    the migration again: the same rows."""
    with fresh_database(engine_name, tmp_path) as url:
        engine = make_engine(url, settings)
        try:
            with Session(engine, expire_on_commit=False) as session:
                tree = make_tree(session)
                who = people(session, tree)
                served_in_turn(session, tree, who, ("self", "grid_worker", "staff") * 2)
                session.commit()
                kept = stored(session)
                assert kept == expected(session)
                assert {row["channel"] for row in kept.values()} == {"self", "grid_worker", "staff"}
            engine.dispose()
            migrate.downgrade(url, "0016")
            migrate.upgrade(url)
            with Session(engine) as session:
                assert stored(session) == kept
        finally:
            engine.dispose()


def test_the_row_follows_the_wish_columns(session: Session) -> None:
    tree = make_tree(session)
    who = people(session, tree)
    wish = wish_with(session, tree, who, placed_at=at(10), log=[], station=1)
    wish.programme_code = "our_festivals"
    wish.station_id = tree.stations[2].id
    session.flush()
    row = session.get(WishMilestones, wish.id)
    assert row is not None
    session.refresh(row)
    assert (row.programme_code, row.station_id) == ("our_festivals", tree.stations[2].id)
    assert stored(session) == expected(session)
