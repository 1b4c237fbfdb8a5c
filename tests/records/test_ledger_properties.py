"""The ledgers' invariants, for any sequence of credits, corrections and redemptions.

Operations go through the services the API uses (confirmation, correction, redemption). After
every step: the volunteer's service hours equal the sum of the hours ledger and the model's
figure, and are never negative; the points balance equals the sum of the points ledger and is
never negative; each record is credited at most once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.errors import AppError
from app.models import Attendance, HoursEntry, PointsEntry
from app.models.enums import WishStatus
from app.records.hours import ledger
from app.records.hours import service as hours
from app.records.hours.schemas import ConfirmIn, CorrectionIn
from app.records.points import service as points
from app.rules.records import Rules
from tests.fixtures.builders import (
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    principal,
)

NOW = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)
RULES = Rules()  # 30-minute rounding, 8-hour cap, 60 % attendance, 10 points an hour

credit = st.tuples(st.just("credit"), st.integers(min_value=0, max_value=10 * 60))
correct = st.tuples(
    st.just("correct"),
    st.integers(min_value=0, max_value=20),
    st.one_of(st.none(), st.integers(min_value=0, max_value=16).map(lambda h: h / 2)),
)
redeem = st.tuples(st.just("redeem"), st.integers(min_value=1, max_value=120))
operations = st.lists(st.one_of(credit, correct, redeem), min_size=1, max_size=12)


def _sum(session: Session, model: type[HoursEntry] | type[PointsEntry], volunteer_id: int) -> int:
    column = HoursEntry.minutes if model is HoursEntry else PointsEntry.points
    condition = [model.volunteer_id == volunteer_id]
    if model is HoursEntry:
        condition.append(HoursEntry.category == "service")
    return int(session.scalar(select(func.coalesce(func.sum(column), 0)).where(*condition)) or 0)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_totals_are_ledger_sums_and_never_negative(
    session: Session, ops: list[tuple[object, ...]]
) -> None:
    clock.set_clock(lambda: NOW)
    savepoint = session.begin_nested()
    try:
        tree = make_tree(session)
        station = tree.stations[0]
        coordinator = principal(session, make_coordinator(session, station))
        requester = make_resident(session)
        _, volunteer = make_volunteer(session, station)
        expected_minutes = 0
        expected_points = 0
        live: list[HoursEntry] = []  # entries not yet reversed
        for op in ops:
            if op[0] == "credit":
                minutes = int(op[1])  # type: ignore[call-overload]
                wish = make_wish(session, station=station, requester=requester,
                                 status=WishStatus.COMPLETED, assignee=volunteer)  # fmt: skip
                wish.wanted_start_at, wish.wanted_end_at = NOW, NOW + timedelta(hours=2)
                row = Attendance(wish_id=wish.id, volunteer_id=volunteer.id, unit_id=station.id,
                                 is_lead=True, status="checked_out", checked_in_at=NOW,
                                 checked_out_at=NOW + timedelta(minutes=minutes))  # fmt: skip
                session.add(row)
                session.flush()
                _, entry = hours.confirm(session, attendance_id=row.id, actor=coordinator,
                                         body=ConfirmIn(), now=NOW)  # fmt: skip
                # The default rules, written out: nothing under 60 % of the planned 2 h,
                # at most 8 h, rounded down to the half hour.
                want = 0 if minutes * 100 < 60 * 120 else min(minutes, 480) // 30 * 30
                assert entry.minutes == want
                expected_minutes += want
                expected_points += want * RULES.points_per_hour // 60
                live.append(entry)
                # Confirming the same record again credits nothing.
                with pytest.raises(AppError, match="已确认") as again:
                    hours.confirm(session, attendance_id=row.id, actor=coordinator,
                                  body=ConfirmIn(), now=NOW)  # fmt: skip
                assert again.value.code == "RECORD_ALREADY_CONFIRMED"
            elif op[0] == "correct":
                if not live:
                    continue
                target = live.pop(int(op[1]) % len(live))  # type: ignore[call-overload]
                new_hours = op[2]
                balance = points.balance(session, volunteer.id)
                earned = target.minutes * RULES.points_per_hour // 60
                reversal, replacement = hours.correct(
                    session, entry_id=target.id, actor=coordinator,
                    body=CorrectionIn(reason="更正", hours=new_hours), now=NOW,  # type: ignore[arg-type]
                )  # fmt: skip
                assert reversal.minutes == -target.minutes
                expected_minutes -= target.minutes
                expected_points -= min(earned, balance)
                if replacement is not None:
                    expected_minutes += replacement.minutes
                    expected_points += replacement.minutes * RULES.points_per_hour // 60
                    live.append(replacement)
                # A reversed entry cannot be reversed again.
                with pytest.raises(AppError) as twice:
                    hours.correct(session, entry_id=target.id, actor=coordinator,
                                  body=CorrectionIn(reason="再冲"), now=NOW)  # fmt: skip
                assert twice.value.code == "ENTRY_ALREADY_REVERSED"
            else:
                amount = int(op[1])  # type: ignore[call-overload]
                balance = points.balance(session, volunteer.id)
                try:
                    points.redeem(session=session, volunteer_id=volunteer.id, unit_id=station.id,
                                  points=amount, item="大米", idempotency_key=None,
                                  actor_id=coordinator.user_id)  # fmt: skip
                    assert amount <= balance
                    expected_points -= amount
                except AppError:
                    assert amount > balance
            total = _sum(session, HoursEntry, volunteer.id)
            assert total == expected_minutes >= 0
            assert ledger.totals(session, volunteer.id).get("service", 0) == total
            balance = points.balance(session, volunteer.id)
            assert balance == _sum(session, PointsEntry, volunteer.id) == expected_points >= 0
            credited = session.scalar(
                select(func.count())
                .select_from(HoursEntry)
                .where(
                    HoursEntry.volunteer_id == volunteer.id, HoursEntry.attendance_id.is_not(None)
                )
            )
            attended = session.scalar(
                select(func.count())
                .select_from(Attendance)
                .where(Attendance.volunteer_id == volunteer.id)
            )
            assert credited == attended
    finally:
        savepoint.rollback()
        clock.set_clock(None)
