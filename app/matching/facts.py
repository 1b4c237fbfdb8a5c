"""Reading what matching needs from the database into `scoring`'s arrays.

Volunteers near a wish are found through the H3 cell index (`app.geo.cells_within`): only the
cells around the wish are read, never the whole table. When only eligible volunteers are
wanted, the database also drops the clearly unsuitable (suspended, out of reach, unavailable,
missing a required skill) before anything reaches Python; `scoring.evaluate` still judges every
rule on what comes back.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app import clock
from app.config import get_settings
from app.geo import EARTH_RADIUS_M, cells_within
from app.models import (
    Category,
    CategorySkill,
    OrgUnit,
    SeasonAffinity,
    Skill,
    Volunteer,
    VolunteerPreference,
    VolunteerSkill,
    Wish,
    WishSkill,
)
from app.models.enums import VolunteerStatus
from app.org_units.service import in_subtree
from app.seasons.service import affinities, current_season
from app.volunteers.availability import window_masks
from app.wishes.state import TASK_STATUSES

from .scoring import RECENT_DAYS, VolunteerArrays, WishFacts


class MatchingLimit(Exception):
    """The catalogue has outgrown the bit masks matching packs it into."""


@dataclass(frozen=True)
class CatalogueBits:
    skills: dict[str, int]  # skill code → bit
    categories: dict[str, int]  # category code → bit
    needs_qualification: frozenset[str]

    def skill_bits(self, codes: Iterable[str]) -> int:
        bits = 0
        for code in codes:
            bits |= self.skills.get(code, 0)
        return bits


def catalogue_bits(session: Session) -> CatalogueBits:
    skills = session.execute(
        select(Skill.code, Skill.needs_qualification).order_by(Skill.code)
    ).all()
    categories = list(session.scalars(select(Category.code).order_by(Category.code)))
    if len(skills) > 64 or len(categories) > 64:
        raise MatchingLimit("matching packs skills and categories into 64-bit masks")
    return CatalogueBits(
        skills={code: 1 << i for i, (code, _) in enumerate(skills)},
        categories={code: 1 << i for i, code in enumerate(categories)},
        needs_qualification=frozenset(code for code, needs in skills if needs),
    )


def wish_facts(
    session: Session,
    *,
    wish: Wish,
    station: OrgUnit,
    bits: CatalogueBits,
    area_factor: float = 1.0,
    required: Sequence[str] | None = None,
) -> WishFacts:
    settings = get_settings()
    category = session.get(Category, wish.category_code)
    assert category is not None
    if required is None:
        required = list(
            session.scalars(select(WishSkill.skill_code).where(WishSkill.wish_id == wish.id))
        )
    related = list(
        session.scalars(
            select(CategorySkill.skill_code).where(CategorySkill.category_code == category.code)
        )
    )
    masks, slots = window_masks(wish.wanted_start_at, wish.wanted_end_at, settings.timezone)
    season = current_season(session=session)
    season_fit = 0.0
    if season is not None:
        if wish.season_code == season.code:
            season_fit = 1.0
        else:
            season_fit = (
                session.scalar(
                    select(SeasonAffinity.weight).where(
                        SeasonAffinity.season_code == season.code,
                        SeasonAffinity.category_code == category.code,
                    )
                )
                or 0.0
            )
    local_start = wish.wanted_start_at.astimezone(ZoneInfo(settings.timezone))
    return WishFacts(
        id=wish.id,
        lat=wish.lat,
        lng=wish.lng,
        area_m=station.service_radius_m * area_factor,
        requester_ids=tuple(u for u in (wish.requester_id, wish.proxy_id) if u is not None),
        category_code=category.code,
        category_bit=bits.categories.get(category.code, 0),
        required_bits=bits.skill_bits(required),
        qualified_bits=bits.skill_bits(c for c in required if c in bits.needs_qualification),
        related_bits=bits.skill_bits(related),
        risky=category.risky,
        min_age=category.min_age,
        max_age=category.max_age,
        service_day=local_start.date(),
        window_masks=tuple(masks),
        window_slots=slots,
        season_fit=float(season_fit),
    )


_AVAIL = [getattr(Volunteer, f"avail_{day}") for day in range(7)]
_COLUMNS = (
    Volunteer.id,
    Volunteer.user_id,
    Volunteer.lat,
    Volunteer.lng,
    Volunteer.service_radius_m,
    Volunteer.status,
    Volunteer.max_concurrent_tasks,
    Volunteer.birth_date,
    Volunteer.insured_until,
    *_AVAIL,
    Volunteer.completed_count,
    Volunteer.withdrawn_count,
    Volunteer.released_count,
)


def _prefilters(wish: WishFacts) -> list[ColumnElement[bool]]:
    """The cheap, plainly equivalent part of the hard constraints, for the database."""
    k_lat = math.radians(EARTH_RADIUS_M)
    k_lng = k_lat * math.cos(math.radians(wish.lat))
    dy = (Volunteer.lat - wish.lat) * k_lat
    dx = (Volunteer.lng - wish.lng) * k_lng
    d2 = dx * dx + dy * dy
    margin = 1.001  # the exact distance decides; this only keeps borderline rows
    conditions: list[ColumnElement[bool]] = [
        Volunteer.status == VolunteerStatus.ACTIVE,
        d2 <= wish.area_m * wish.area_m * margin,
        d2 <= Volunteer.service_radius_m * Volunteer.service_radius_m * margin,
    ]
    overlaps = [
        _AVAIL[day].op("&")(literal(mask)) != 0
        for day, mask in enumerate(wish.window_masks)
        if mask
    ]
    conditions.append(or_(*overlaps) if overlaps else false())
    return conditions


def _required_skill_filter(codes: Sequence[str]) -> ColumnElement[bool]:
    return Volunteer.id.in_(
        select(VolunteerSkill.volunteer_id)
        .where(VolunteerSkill.skill_code.in_(codes))
        .group_by(VolunteerSkill.volunteer_id)
        .having(func.count() == len(codes))
    )


def volunteers_near(
    session: Session,
    *,
    wish: WishFacts,
    bits: CatalogueBits,
    required_codes: Sequence[str],
    prefilter: bool,
) -> VolunteerArrays:
    """Volunteers in the H3 cells covering the wish's area, as arrays."""
    cells = cells_within(wish.lat, wish.lng, wish.area_m)
    in_area = Volunteer.h3_cell.in_(cells)
    conditions: list[ColumnElement[bool]] = [in_area]
    if prefilter:
        conditions += _prefilters(wish)
        if required_codes:
            conditions.append(_required_skill_filter(required_codes))
    rows = session.execute(select(*_COLUMNS).where(and_(*conditions))).all()
    return _arrays(session, rows, wish=wish, bits=bits, area=in_area)


def volunteers_where(
    session: Session, *, condition: ColumnElement[bool], wish: WishFacts, bits: CatalogueBits
) -> VolunteerArrays:
    """Volunteers matching an arbitrary condition (a full scan when it is `true()`)."""
    rows = session.execute(select(*_COLUMNS).where(condition)).all()
    return _arrays(session, rows, wish=wish, bits=bits, area=condition)


def _arrays(
    session: Session,
    rows: Sequence[object],
    *,
    wish: WishFacts,
    bits: CatalogueBits,
    area: ColumnElement[bool],
) -> VolunteerArrays:
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if n else [()] * len(_COLUMNS)
    ids = np.fromiter(cols[0], dtype=np.int64, count=n)
    index = {int(v): i for i, v in enumerate(ids)}
    arrays = VolunteerArrays(
        ids=ids,
        user_ids=np.fromiter(cols[1], dtype=np.int64, count=n),
        lat=np.fromiter(cols[2], dtype=np.float64, count=n),
        lng=np.fromiter(cols[3], dtype=np.float64, count=n),
        radius=np.fromiter(cols[4], dtype=np.float64, count=n),
        active=np.fromiter((s == VolunteerStatus.ACTIVE for s in cols[5]), dtype=bool, count=n),
        capacity=np.fromiter(cols[6], dtype=np.int64, count=n),
        birth=np.fromiter((d.toordinal() if d else 0 for d in cols[7]), dtype=np.int64, count=n),
        insured=np.fromiter((d.toordinal() if d else 0 for d in cols[8]), dtype=np.int64, count=n),
        masks=(
            np.array(cols[9:16], dtype=np.uint64).T.copy() if n else np.zeros((0, 7), np.uint64)
        ),
        completed=np.fromiter(cols[16], dtype=np.int64, count=n),
        withdrawn=np.fromiter(cols[17], dtype=np.int64, count=n),
        released=np.fromiter(cols[18], dtype=np.int64, count=n),
        skills=np.zeros(n, dtype=np.uint64),
        qualified=np.zeros(n, dtype=np.uint64),
        preferences=np.zeros(n, dtype=np.uint64),
        active_tasks=np.zeros(n, dtype=np.int64),
        recent_tasks=np.zeros(n, dtype=np.int64),
    )
    if n == 0:
        return arrays
    in_area = select(Volunteer.id).where(area)
    # Skills: only those the wish requires or its category suits matter here.
    relevant = [
        code for code, bit in bits.skills.items() if bit & (wish.required_bits | wish.related_bits)
    ]
    if relevant:
        day = wish.service_day
        for volunteer_id, code, until in session.execute(
            select(
                VolunteerSkill.volunteer_id,
                VolunteerSkill.skill_code,
                VolunteerSkill.qualified_until,
            ).where(
                VolunteerSkill.skill_code.in_(relevant), VolunteerSkill.volunteer_id.in_(in_area)
            )
        ):
            i = index.get(volunteer_id)
            if i is None:
                continue
            bit = np.uint64(bits.skills[code])
            arrays.skills[i] |= bit
            if until is not None and until >= day:
                arrays.qualified[i] |= bit
    if wish.category_bit:
        bit = np.uint64(wish.category_bit)
        for (volunteer_id,) in session.execute(
            select(VolunteerPreference.volunteer_id).where(
                VolunteerPreference.category_code == wish.category_code,
                VolunteerPreference.volunteer_id.in_(in_area),
            )
        ):
            i = index.get(volunteer_id)
            if i is not None:
                arrays.preferences[i] |= bit
    since = clock.now() - timedelta(days=RECENT_DAYS)
    for volunteer_id, active, recent in session.execute(
        select(
            Wish.assignee_id,
            func.sum(case((Wish.status.in_(TASK_STATUSES), 1), else_=0)),
            func.sum(case((Wish.accepted_at >= since, 1), else_=0)),
        )
        .where(
            Wish.assignee_id.in_(in_area),
            or_(Wish.status.in_(TASK_STATUSES), Wish.accepted_at >= since),
        )
        .group_by(Wish.assignee_id)
    ):
        i = index.get(volunteer_id)
        if i is not None:
            arrays.active_tasks[i] = active or 0
            arrays.recent_tasks[i] = recent or 0
    return arrays


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


# ---------------------------------------------------------------- many wishes at once
#
# Batch dispatch judges every approved wish of a unit against every volunteer of the unit. The
# per-wish readers above would cost a few queries per wish; these read the catalogue once and
# the unit's volunteers once (with full skill and preference masks, not a wish's relevant
# subset), and the caller evaluates each wish on the volunteers of the cells around it.


@dataclass(frozen=True)
class MatchingCatalogue:
    """What `wish_facts` reads of the catalogue, read once for many wishes."""

    bits: CatalogueBits
    categories: Mapping[str, Category]
    related: Mapping[str, tuple[str, ...]]  # category code → skills that suit it
    season_code: str | None  # the current 四季红 season
    affinities: Mapping[str, float]  # category code → fit with the current season


def matching_catalogue(session: Session, *, bits: CatalogueBits | None = None) -> MatchingCatalogue:
    bits = bits or catalogue_bits(session)
    related: dict[str, list[str]] = {}
    for category_code, skill_code in session.execute(
        select(CategorySkill.category_code, CategorySkill.skill_code).order_by(
            CategorySkill.category_code, CategorySkill.skill_code
        )
    ):
        related.setdefault(category_code, []).append(skill_code)
    season = current_season(session=session)
    return MatchingCatalogue(
        bits=bits,
        categories={c.code: c for c in session.scalars(select(Category))},
        related={code: tuple(skills) for code, skills in related.items()},
        season_code=season.code if season is not None else None,
        affinities=affinities(session=session, season_code=season.code) if season else {},
    )


def wish_skill_codes(session: Session, wish_ids: Collection[int]) -> dict[int, list[str]]:
    """wish id → the skills it requires, for many wishes in one query."""
    required: dict[int, list[str]] = {}
    if not wish_ids:
        return required
    for wish_id, code in session.execute(
        select(WishSkill.wish_id, WishSkill.skill_code)
        .where(WishSkill.wish_id.in_(list(wish_ids)))
        .order_by(WishSkill.wish_id, WishSkill.skill_code)
    ):
        required.setdefault(wish_id, []).append(code)
    return required


class WishLike(Protocol):
    """The columns of a wish that matching reads (a `Wish`, or a row of just these)."""

    @property
    def id(self) -> int: ...
    @property
    def lat(self) -> float: ...
    @property
    def lng(self) -> float: ...
    @property
    def requester_id(self) -> int: ...
    @property
    def proxy_id(self) -> int | None: ...
    @property
    def category_code(self) -> str: ...
    @property
    def season_code(self) -> str | None: ...
    @property
    def wanted_start_at(self) -> datetime: ...
    @property
    def wanted_end_at(self) -> datetime: ...


def wish_facts_preloaded(
    wish: WishLike,
    *,
    station_radius_m: float,
    catalogue: MatchingCatalogue,
    required: Sequence[str],
    area_factor: float = 1.0,
    timezone: str | None = None,
) -> WishFacts:
    """`wish_facts` without queries: the same facts from a preloaded catalogue."""
    timezone = timezone or get_settings().timezone
    bits = catalogue.bits
    category = catalogue.categories[wish.category_code]
    related = catalogue.related.get(category.code, ())
    masks, slots = window_masks(wish.wanted_start_at, wish.wanted_end_at, timezone)
    season_fit = 0.0
    if catalogue.season_code is not None:
        if wish.season_code == catalogue.season_code:
            season_fit = 1.0
        else:
            season_fit = catalogue.affinities.get(category.code, 0.0)
    return WishFacts(
        id=wish.id,
        lat=wish.lat,
        lng=wish.lng,
        area_m=station_radius_m * area_factor,
        requester_ids=tuple(u for u in (wish.requester_id, wish.proxy_id) if u is not None),
        category_code=category.code,
        category_bit=bits.categories.get(category.code, 0),
        required_bits=bits.skill_bits(required),
        qualified_bits=bits.skill_bits(c for c in required if c in bits.needs_qualification),
        related_bits=bits.skill_bits(related),
        risky=category.risky,
        min_age=category.min_age,
        max_age=category.max_age,
        service_day=wish.wanted_start_at.astimezone(ZoneInfo(timezone)).date(),
        window_masks=tuple(masks),
        window_slots=slots,
        season_fit=float(season_fit),
    )


@dataclass
class UnitVolunteers:
    """The volunteers of a unit's subtree as arrays, with their H3 cells, and the dated
    qualifications from which `qualified_on` builds the `qualified` mask of any day (the
    arrays' own `qualified` column is left empty: it depends on the wish's service day)."""

    arrays: VolunteerArrays
    cells: npt.NDArray[np.int64]  # H3 cell of each volunteer's home
    qualification_index: npt.NDArray[np.intp]  # volunteer position of each dated skill
    qualification_bit: npt.NDArray[np.uint64]
    qualification_until: npt.NDArray[np.int64]  # last valid day (ordinal)

    def qualified_on(self, day: date) -> npt.NDArray[np.uint64]:
        qualified = np.zeros(len(self.arrays), dtype=np.uint64)
        valid = self.qualification_until >= day.toordinal()
        np.bitwise_or.at(qualified, self.qualification_index[valid], self.qualification_bit[valid])
        return qualified


_VOLUNTEER_FIELDS = tuple(f.name for f in fields(VolunteerArrays) if f.name != "qualified")


def take_volunteers(
    vols: VolunteerArrays,
    index: npt.NDArray[np.intp],
    *,
    qualified: npt.NDArray[np.uint64] | None = None,
) -> VolunteerArrays:
    """The volunteers at positions `index`, as arrays of their own; `qualified` (for all of
    `vols`, e.g. from `UnitVolunteers.qualified_on`) replaces their own qualified mask."""
    return VolunteerArrays(
        **{name: getattr(vols, name)[index] for name in _VOLUNTEER_FIELDS},
        qualified=(vols.qualified if qualified is None else qualified)[index],
    )


def unit_volunteers(
    session: Session,
    *,
    unit_path: str,
    bits: CatalogueBits,
    active_only: bool = True,
    volunteer_ids: Collection[int] | None = None,
) -> UnitVolunteers:
    """Volunteers whose home station is in the subtree at `unit_path` (only the active ones,
    and only `volunteer_ids` when given), ordered by id: one query for the columns and one
    each for skills, preferences and task counts."""
    conditions: list[ColumnElement[bool]] = [
        Volunteer.home_station_id.in_(select(OrgUnit.id).where(in_subtree(OrgUnit.path, unit_path)))
    ]
    if active_only:
        conditions.append(Volunteer.status == VolunteerStatus.ACTIVE)
    if volunteer_ids is not None:
        conditions.append(Volunteer.id.in_(sorted(volunteer_ids)))
    where = and_(*conditions)
    rows = session.execute(
        select(*_COLUMNS, Volunteer.h3_cell).where(where).order_by(Volunteer.id)
    ).all()
    n = len(rows)
    columns: list[Sequence[object]] = list(zip(*rows, strict=True)) if n else [()] * len(_COLUMNS)
    arrays = _column_arrays(columns[:-1] if n else columns, n)
    cells = np.fromiter(columns[-1] if n else (), dtype=np.int64, count=n)
    unit = UnitVolunteers(
        arrays=arrays,
        cells=cells,
        qualification_index=np.zeros(0, dtype=np.intp),
        qualification_bit=np.zeros(0, dtype=np.uint64),
        qualification_until=np.zeros(0, dtype=np.int64),
    )
    if n == 0:
        return unit
    ids = arrays.ids
    in_scope = select(Volunteer.id).where(where)

    def positions(values: Sequence[int]) -> npt.NDArray[np.intp]:
        # ids are sorted: a binary search maps volunteer ids to positions.
        return np.searchsorted(ids, np.asarray(values, dtype=np.int64))

    skill_rows = session.execute(
        select(
            VolunteerSkill.volunteer_id, VolunteerSkill.skill_code, VolunteerSkill.qualified_until
        ).where(VolunteerSkill.volunteer_id.in_(in_scope))
    ).all()
    if skill_rows:
        at = positions([r[0] for r in skill_rows])
        skill_bits = np.fromiter(
            (bits.skills.get(r[1], 0) for r in skill_rows), dtype=np.uint64, count=len(at)
        )
        np.bitwise_or.at(arrays.skills, at, skill_bits)
        dated = np.fromiter((r[2] is not None for r in skill_rows), dtype=bool, count=len(at))
        unit.qualification_index = at[dated]
        unit.qualification_bit = skill_bits[dated]
        unit.qualification_until = np.fromiter(
            (r[2].toordinal() for r in skill_rows if r[2] is not None), dtype=np.int64
        )
    preference_rows = session.execute(
        select(VolunteerPreference.volunteer_id, VolunteerPreference.category_code).where(
            VolunteerPreference.volunteer_id.in_(in_scope)
        )
    ).all()
    if preference_rows:
        np.bitwise_or.at(
            arrays.preferences,
            positions([r[0] for r in preference_rows]),
            np.fromiter(
                (bits.categories.get(r[1], 0) for r in preference_rows),
                dtype=np.uint64,
                count=len(preference_rows),
            ),
        )
    since = clock.now() - timedelta(days=RECENT_DAYS)
    task_rows = session.execute(
        select(
            Wish.assignee_id,
            func.sum(case((Wish.status.in_(TASK_STATUSES), 1), else_=0)),
            func.sum(case((Wish.accepted_at >= since, 1), else_=0)),
        )
        .where(
            Wish.assignee_id.in_(in_scope),
            or_(Wish.status.in_(TASK_STATUSES), Wish.accepted_at >= since),
        )
        .group_by(Wish.assignee_id)
    ).all()
    if task_rows:
        at = positions([r[0] for r in task_rows])
        arrays.active_tasks[at] = [r[1] or 0 for r in task_rows]
        arrays.recent_tasks[at] = [r[2] or 0 for r in task_rows]
    return unit


def _column_arrays(cols: Sequence[Sequence[object]], n: int) -> VolunteerArrays:
    """The columns of `_COLUMNS` (n values each) as arrays; skills, preferences and task
    counts left at zero."""

    def ints(values: Sequence[object]) -> npt.NDArray[np.int64]:
        return np.fromiter(values, dtype=np.int64, count=n)

    def floats(values: Sequence[object]) -> npt.NDArray[np.float64]:
        return np.fromiter(values, dtype=np.float64, count=n)

    def ordinals(values: Sequence[object]) -> npt.NDArray[np.int64]:
        return ints([d.toordinal() if isinstance(d, date) else 0 for d in values])

    return VolunteerArrays(
        ids=ints(cols[0]),
        user_ids=ints(cols[1]),
        lat=floats(cols[2]),
        lng=floats(cols[3]),
        radius=floats(cols[4]),
        active=np.fromiter((s == VolunteerStatus.ACTIVE for s in cols[5]), dtype=bool, count=n),
        capacity=ints(cols[6]),
        birth=ordinals(cols[7]),
        insured=ordinals(cols[8]),
        masks=(
            np.array(cols[9:16], dtype=np.uint64).T.copy() if n else np.zeros((0, 7), np.uint64)
        ),
        completed=ints(cols[16]),
        withdrawn=ints(cols[17]),
        released=ints(cols[18]),
        skills=np.zeros(n, dtype=np.uint64),
        qualified=np.zeros(n, dtype=np.uint64),
        preferences=np.zeros(n, dtype=np.uint64),
        active_tasks=np.zeros(n, dtype=np.int64),
        recent_tasks=np.zeros(n, dtype=np.int64),
    )
