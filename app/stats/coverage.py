"""The "coverage" section (阵地覆盖): how many of the subtree's stations served anyone.

- `coverage.stations`: the active village-level units (实践站) of the subtree (a station's own
  scope is itself).
- `coverage.villages_served`: those with at least one wish completed in the window (see
  `app.stats.evidence.completed`).
- `coverage.villages_unserved`: those with none.
- `coverage.served_share`: served over stations (None when the subtree has no station).

Every drill lists units.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import WishMilestones as M
from app.stats import evidence
from app.stats.figures import DrillKind, Figure, Scope, Section, register

KEY = "coverage"
LABELS = {
    "coverage.stations": "实践站",
    "coverage.villages_served": "有服务的实践站",
    "coverage.villages_unserved": "无服务的实践站",
    "coverage.served_share": "实践站覆盖率",
}


def _served(session: Session, scope: Scope) -> Select[int]:
    """The stations of the subtree with a wish completed in the window: the stations of the
    wishes `evidence.completed` counts (the stations read first, so the planner sees how many
    wishes they have)."""
    stations = evidence.ids(session, evidence.stations(scope))
    return (
        select(M.station_id)
        .where(M.station_id.in_(stations), evidence.in_window(M.completed_at, scope))
        .distinct()
    )


def _split(session: Session, scope: Scope) -> tuple[list[int], list[int], list[int]]:
    stations = evidence.ids(session, evidence.stations(scope))
    served = set(evidence.ids(session, _served(session, scope)))
    return (
        stations,
        [s for s in stations if s in served],
        [s for s in stations if s not in served],
    )


def compute(session: Session, scope: Scope) -> list[Figure]:
    stations = evidence.count(session, evidence.stations(scope))
    served = evidence.count(session, _served(session, scope))
    share = round(served / stations, 4) if stations else None
    return [
        Figure("coverage.stations", LABELS["coverage.stations"], stations, "个", _U),
        Figure("coverage.villages_served", LABELS["coverage.villages_served"], served, "个", _U),
        Figure(
            "coverage.villages_unserved",
            LABELS["coverage.villages_unserved"],
            stations - served,
            "个",
            _U,
        ),
        Figure("coverage.served_share", LABELS["coverage.served_share"], share, "%", _U),
    ]


_U = DrillKind.UNITS


def drill(session: Session, scope: Scope, key: str, group: str | None) -> list[int]:
    stations, served, unserved = _split(session, scope)
    return {
        "coverage.stations": stations,
        "coverage.villages_served": served,
        "coverage.served_share": served,
        "coverage.villages_unserved": unserved,
    }.get(key, [])


SECTION = register(Section(key=KEY, label="阵地覆盖", compute=compute, drill=drill))
