"""Star ladders (星级标准) as data: each step a threshold of credited hours and the level of
the unit that certifies it; checked when stored, loaded per station."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OrgUnit, StarLadder
from app.models.enums import OrgLevel
from app.records.stars.errors import StarLadderInvalid
from app.rules.records import Rules, rules_for

log = structlog.get_logger()

DEFAULT_LADDER = Rules.star_ladder  # "default", seeded by migration 0005
MAX_STARS = 10  # star_awards.star is CHECKed to 1..10
MAX_THRESHOLD_HOURS = 100_000

# Higher units first: a smaller rank is a more senior level.
LEVEL_RANK: dict[str, int] = {
    OrgLevel.CITY: 0,
    OrgLevel.COUNTY: 1,
    OrgLevel.TOWNSHIP: 2,
    OrgLevel.VILLAGE: 3,
}


@dataclass(frozen=True)
class Step:
    star: int
    hours: int
    level: str

    @property
    def minutes(self) -> int:
        return self.hours * 60


@dataclass(frozen=True)
class Ladder:
    code: str
    name: str
    steps: tuple[Step, ...]

    @property
    def thresholds(self) -> list[int]:
        return [s.hours for s in self.steps]

    @property
    def levels(self) -> list[str]:
        return [s.level for s in self.steps]

    def reached(self, minutes: int) -> list[Step]:
        return [s for s in self.steps if minutes >= s.minutes]

    def next_step(self, minutes: int) -> Step | None:
        return next((s for s in self.steps if minutes < s.minutes), None)


def check_ladder(thresholds: Sequence[int], levels: Sequence[str]) -> None:
    """1–10 strictly ascending positive thresholds (hours), one known org level per star."""
    problems: list[str] = []
    if not 1 <= len(thresholds) <= MAX_STARS:
        problems.append("thresholds_count")
    if any(not 0 < t <= MAX_THRESHOLD_HOURS for t in thresholds):
        problems.append("thresholds_range")
    if any(b <= a for a, b in pairwise(thresholds)):
        problems.append("thresholds_not_ascending")
    if len(levels) != len(thresholds):
        problems.append("levels_count")
    unknown = sorted({lv for lv in levels if lv not in LEVEL_RANK})
    if unknown:
        problems.append("levels_unknown")
    if problems:
        raise StarLadderInvalid(
            details={"problems": problems, "unknown_levels": unknown, "max_stars": MAX_STARS}
        )


def parse_ladder(row: StarLadder) -> Ladder | None:
    """The stored ladder as steps; None (and a log line) when the stored text is unusable, so a
    bad row cannot break crediting."""
    try:
        thresholds = [int(t) for t in row.thresholds.split(",")]
        levels = [lv.strip() for lv in row.certifying_levels.split(",")]
        check_ladder(thresholds, levels)
    except (ValueError, StarLadderInvalid):
        log.warning("stars.ladder_unusable", ladder_code=row.code)
        return None
    steps = tuple(
        Step(star=i + 1, hours=h, level=lv)
        for i, (h, lv) in enumerate(zip(thresholds, levels, strict=True))
    )
    return Ladder(code=row.code, name=row.name, steps=steps)


def load_ladder(session: Session, code: str) -> Ladder | None:
    """The named ladder; the default ladder when a unit's rules name one that does not exist
    (a typo in the rules must not stop stars being counted)."""
    row = session.get(StarLadder, code)
    if row is None and code != DEFAULT_LADDER:
        log.warning("stars.ladder_missing", ladder_code=code)
        row = session.get(StarLadder, DEFAULT_LADDER)
    return parse_ladder(row) if row is not None else None


def ladder_for_station(session: Session, station: OrgUnit) -> Ladder | None:
    return load_ladder(session, rules_for(session, station).star_ladder)


def list_ladders(*, session: Session) -> list[Ladder]:
    rows = session.scalars(select(StarLadder).order_by(StarLadder.code))
    return [ladder for ladder in (parse_ladder(r) for r in rows) if ladder is not None]


def put_ladder(
    *, session: Session, code: str, name: str, thresholds: Sequence[int], levels: Sequence[str]
) -> Ladder:
    """Create or replace a ladder. Awards already made keep their ladder code and the hours
    they were made at; the new thresholds apply from the next credit."""
    check_ladder(thresholds, levels)
    row = session.get(StarLadder, code, with_for_update=True)
    if row is None:
        row = StarLadder(code=code)
        session.add(row)
    row.name = name
    row.thresholds = ",".join(str(t) for t in thresholds)
    row.certifying_levels = ",".join(levels)
    session.flush()
    ladder = parse_ladder(row)
    assert ladder is not None  # checked above
    return ladder
