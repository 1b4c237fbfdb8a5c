"""What every statistics section computes and how each figure is checked.

A section (intake, speed, outcomes, people, coverage, seasons) is a function of a scope: the
subtree of one practice unit over a half-open window of time. It answers figures, every one an
SQL aggregate over the event log (`wish_events`), the wishes, the activities and the ledgers
(`hours_entries`, `star_awards`), and for every figure it can list what it counts (`drill`): the
wishes, events, ledger entries, volunteers, units, activities, sign-ups or service records whose
rows make the number, so any figure can be checked by hand. Sections register themselves in
`SECTIONS`; the API, the console and the exports show them in registration order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

from sqlalchemy.orm import Session

from app.models import OrgUnit


@dataclass(frozen=True)
class Scope:
    """The subtree of `unit` over [starts_at, ends_at) (aware instants)."""

    unit: OrgUnit
    starts_at: datetime
    ends_at: datetime


class DrillKind(StrEnum):
    """What a figure's drill-down lists."""

    WISHES = "wishes"
    EVENTS = "events"  # wish_events rows
    HOURS = "hours"  # hours_entries rows
    VOLUNTEERS = "volunteers"
    UNITS = "units"
    ACTIVITIES = "activities"
    SIGNUPS = "signups"  # activity_signups rows (places taken)
    ATTENDANCES = "attendances"  # service records (attendances rows)


@dataclass(frozen=True)
class Figure:
    """One number. `key` is stable (`intake.wishes`, `speed.review.p50_minutes`); a breakdown
    repeats the key once per `group` (a category code, a channel, a star level) with its label.
    `value` is None where the figure is undefined (a median of nothing, a rate over zero)."""

    key: str
    label: str
    value: float | int | None
    unit: str  # 件 | 人 | 人次 | 分钟 | 小时 | % | 分 | 个 | 指数
    drill: DrillKind
    group: str | None = None
    group_label: str | None = None


Compute = Callable[[Session, Scope], list[Figure]]
# The figures of each of several consecutive scopes of one unit (the buckets of a series: each
# window ends where the next begins), in a few grouped queries over them all; equal to
# `[compute(session, scope) for scope in scopes]`.
ComputeEach = Callable[[Session, Sequence[Scope]], list[list[Figure]]]
# The ids a figure counts: (session, scope, figure key, group or None) -> ids in ascending order.
Drill = Callable[[Session, Scope, str, str | None], list[int]]


@dataclass(frozen=True)
class Section:
    key: str  # intake | speed | outcomes | people | coverage | seasons
    label: str  # Chinese, the sheet and heading name
    compute: Compute
    drill: Drill
    compute_each: ComputeEach | None = None


def consecutive(scopes: Sequence[Scope]) -> bool:
    """One unit's windows, each starting where the one before ends."""
    return all(
        later.unit is earlier.unit and later.starts_at == earlier.ends_at
        for earlier, later in pairwise(scopes)
    )


def compute_each(section: Section, session: Session, scopes: Sequence[Scope]) -> list[list[Figure]]:
    """The section's figures of each scope: in one pass where the section has one and the
    scopes are consecutive, else one computation per scope."""
    if section.compute_each is not None and scopes and consecutive(scopes):
        return section.compute_each(session, scopes)
    return [section.compute(session, scope) for scope in scopes]


SECTIONS: list[Section] = []


def register(section: Section) -> Section:
    """Add a section (once; a second one with the same key is a programming error)."""
    if any(existing.key == section.key for existing in SECTIONS):
        raise ValueError(f"statistics section {section.key!r} registered twice")
    SECTIONS.append(section)
    return section


def sections() -> Sequence[Section]:
    return tuple(SECTIONS)
