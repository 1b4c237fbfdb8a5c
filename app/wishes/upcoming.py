"""What the dispatch ladder will do to a wish next by itself, and when: shown to the staff who
coordinate it (the console's countdown).

The ladder's rules live in `app.dispatch.timers`, which builds on the wish loop; it registers
its reader here at its module's bottom, as the transition hooks do, so the wish's views can
show the next step without the wish loop knowing the ladder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import OrgUnit, Wish


@dataclass(frozen=True)
class NextStep:
    action: str  # the ladder's action, e.g. "escalate"
    label: str  # in words, e.g. "超时未审核，上报上级单位"
    at: datetime  # when it is due (now, when it is due already: the scheduler runs it soon)


Reader = Callable[[Session, Wish, OrgUnit, datetime], NextStep | None]

_readers: list[Reader] = []


def reads_next_step(reader: Reader) -> Reader:
    """Register the ladder's reader (one: registering again replaces it)."""
    _readers[:] = [reader]
    return reader


def next_step(session: Session, wish: Wish, station: OrgUnit, now: datetime) -> NextStep | None:
    """The wish's next step, or None: a finished wish, or no ladder registered."""
    return _readers[0](session, wish, station, now) if _readers else None
