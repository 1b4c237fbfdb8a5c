"""Which handler runs each kind of timer, and the timers that reschedule themselves forever.

Each domain registers its kinds at the bottom of the module that runs them (`register(...)`);
app/wiring.py imports those modules, so every handler is known before a scheduler starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

# A handler gets the session of the job's transaction, the job's subject id and the time.
Handler = Callable[[Session, int, datetime], object]

HANDLERS: dict[str, Handler] = {}
# Timers that reschedule themselves forever: (kind, subject). Created when a scheduler starts.
PERIODIC: list[tuple[str, int]] = []
# Kinds whose steps do long work a slice per transaction and set their timer again for now
# while work remains: a scheduler pass that ran one looks for due timers again at once,
# rather than after its interval.
CONTINUING: set[str] = set()


def register(
    kind: str, handler: Handler, *, periodic_subject: int | None = None, continuing: bool = False
) -> None:
    """Run `handler` for the timers of `kind`; with `periodic_subject`, a scheduler also makes
    sure the timer (kind, subject) exists when it starts; `continuing`: see `CONTINUING`."""
    HANDLERS[kind] = handler
    if continuing:
        CONTINUING.add(kind)
    if periodic_subject is not None and (kind, periodic_subject) not in PERIODIC:
        PERIODIC.append((kind, periodic_subject))


def handler_for(kind: str) -> Handler | None:
    return HANDLERS.get(kind)
