"""What other domains do when a wish moves, without the wish loop knowing them.

Timers, public webhooks, ledgers: each registers a hook at its module's bottom
(`after_transition`), and `app.wiring` imports them all. `apply_event` and `create_wish` call
`run` in the request's transaction once the wish has moved and its event row is written, so a
hook's writes commit or roll back with the change that caused them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import OrgUnit, Wish
from app.wishes.state import WishEvent


@dataclass(frozen=True)
class Moved:
    """One event applied to one wish: the wish as it now is, and the event's row."""

    session: Session
    wish: Wish
    station: OrgUnit
    event: WishEvent
    now: datetime
    wish_event_id: int


Hook = Callable[[Moved], None]

_HOOKS: list[Hook] = []


def after_transition(hook: Hook) -> Hook:
    """Register `hook` to run after every event (usable as a decorator); registering the same
    function twice keeps one."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def run(moved: Moved) -> None:
    for hook in _HOOKS:
        hook(moved)
