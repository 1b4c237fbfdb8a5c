"""The pairing's table, health and due times, as data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.pairings.state import (
    TRANSITIONS,
    Health,
    PairingEvent,
    PairingStatus,
    Role,
    due_after,
    first_due,
    health_of,
)

S, E, R = PairingStatus, PairingEvent, Role
ALLOWED = {
    (S.ACTIVE, E.PAUSE): (S.PAUSED, {R.COORDINATOR}),
    (S.PAUSED, E.RESUME): (S.ACTIVE, {R.COORDINATOR}),
    (S.ACTIVE, E.END): (S.ENDED, {R.COORDINATOR, R.HELPER}),
    (S.PAUSED, E.END): (S.ENDED, {R.COORDINATOR, R.HELPER}),
    (S.ACTIVE, E.EXPIRE): (S.ENDED, {R.SYSTEM}),
    (S.PAUSED, E.EXPIRE): (S.ENDED, {R.SYSTEM}),
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("event", list(E))
@pytest.mark.parametrize("role", list(R))
def test_every_status_event_and_role(status: S, event: E, role: R) -> None:
    found = TRANSITIONS.get((status, event))
    expected = ALLOWED.get((status, event))
    if expected is None:
        assert found is None
        return
    assert found is not None and found.to == expected[0]
    assert (role in found.roles) == (role in expected[1])


NOW = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in the city


@pytest.mark.parametrize(
    ("status", "due", "reminded", "escalated", "health"),
    [
        ("active", NOW + timedelta(hours=1), None, None, Health.HEALTHY),
        ("active", NOW, None, None, Health.DUE),
        ("active", NOW - timedelta(days=2), NOW, None, Health.OVERDUE),
        ("active", NOW - timedelta(days=4), NOW, NOW, Health.LAPSING),
        ("paused", NOW - timedelta(days=4), NOW, NOW, Health.PAUSED),
        ("ended", NOW + timedelta(days=4), None, None, Health.ENDED),
    ],
)
def test_health(
    status: str,
    due: datetime,
    reminded: datetime | None,
    escalated: datetime | None,
    health: Health,
) -> None:
    assert (
        health_of(
            status=status, next_due_at=due, reminded_at=reminded, escalated_at=escalated, now=NOW
        )
        == health
    )


def test_due_times_are_the_end_of_a_day_in_the_city() -> None:
    # Started on Tuesday: the first weekly visit is due by Monday's end (midnight in the city).
    assert first_due(date(2027, 3, 2), 7) == datetime(2027, 3, 8, 16, 0, tzinfo=UTC)
    # A visit late on Tuesday evening in the city (UTC still says Tuesday 15:30): due by the
    # end of the next Tuesday.
    assert due_after(datetime(2027, 3, 2, 15, 30, tzinfo=UTC), 7) == datetime(
        2027, 3, 9, 16, 0, tzinfo=UTC
    )
    # ... and just after midnight in the city it is Wednesday's.
    assert due_after(datetime(2027, 3, 2, 16, 30, tzinfo=UTC), 7) == datetime(
        2027, 3, 10, 16, 0, tzinfo=UTC
    )
