"""What each event does beyond moving the status.

Each event has one typed spec (`context.EventSpec`): the body its endpoint takes; `prepare`,
run before the compare-and-set, checks the event's own rules, raises the error that fits, says
which columns change and returns the event's plan (a typed value, or None); `after`, run once the
wish has moved, acts on that plan: offers, and the notifications to write to the outbox. Both
run in the request's transaction.
"""

from __future__ import annotations

from typing import Any

from app.wishes.handlers import acceptance, closing, dispatch, ladder, review
from app.wishes.handlers.context import EventSpec
from app.wishes.state import WishEvent

# Each event's spec, by the module that holds its rules. Check-in and check-out are attendance's
# (`app.attendance.events` registers them), so the wish loop never imports attendance.
SPECS: dict[WishEvent, EventSpec[Any]] = {
    **review.SPECS,
    **dispatch.SPECS,
    **acceptance.SPECS,
    **closing.SPECS,
    **ladder.SPECS,
}


def register(event: WishEvent, spec: EventSpec[Any]) -> None:
    """Another domain's spec for an event of the table."""
    assert event not in SPECS or SPECS[event] == spec, f"{event} is registered already"
    SPECS[event] = spec
