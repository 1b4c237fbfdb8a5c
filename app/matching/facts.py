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
from functools import cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    and_,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from app import clock
from app.cache import TTLCache
from app.config import current_settings
from app.geo import EARTH_RADIUS_M, cells_within
from app.models import (
    Category,
    CategorySkill,
    OrgUnit,
    Skill,
    Volunteer,
    VolunteerSkill,
    Wish,
    WishSkill,
)
from app.models.enums import TASK_STATUSES, VolunteerStatus
from app.org_units.service import in_subtree
from app.seasons.service import affinities, current_season
from app.volunteers.availability import window_masks

from .scoring import RECENT_DAYS, VolunteerArrays, WishFacts


class MatchingLimit(Exception):
    """The catalogue has outgrown the bit masks matching packs it into."""


@dataclass(frozen=True)
class CatalogueBits:
    skills: dict[str, int]  # skill code → its mask (1 << its permanent bit)
    categories: dict[str, int]  # category code → its mask
    needs_qualification: frozenset[str]

    def skill_bits(self, codes: Iterable[str]) -> int:
        bits = 0
        for code in codes:
            bits |= self.skills.get(code, 0)
        return bits


# The catalogue changes rarely and every ranking needs it: each process keeps it for a minute
# (and drops it at once when this process edits the catalogue).
# Keyed by the city's date: the season turns at midnight.
CATALOGUE_CACHE: TTLCache[date, MatchingCatalogue] = TTLCache(60.0, max_entries=1)


def forget_catalogue() -> None:
    CATALOGUE_CACHE.clear()


def catalogue_bits(session: Session) -> CatalogueBits:
    return matching_catalogue(session).bits


def _read_bits(session: Session) -> CatalogueBits:
    skills = session.execute(select(Skill.code, Skill.bit, Skill.needs_qualification)).all()
    categories = session.execute(select(Category.code, Category.bit)).all()
    return CatalogueBits(
        skills={code: 1 << bit for code, bit, _ in skills},
        categories={code: 1 << bit for code, bit in categories},
        needs_qualification=frozenset(code for code, _, needs in skills if needs),
    )


def wish_facts(
    session: Session,
    *,
    wish: Wish,
    station: OrgUnit,
    area_factor: float = 1.0,
    required: Sequence[str] | None = None,
) -> WishFacts:
    if required is None:
        required = list(
            session.scalars(select(WishSkill.skill_code).where(WishSkill.wish_id == wish.id))
        )
    return wish_facts_preloaded(
        wish,
        station_radius_m=station.service_radius_m,
        catalogue=matching_catalogue(session),
        required=required,
        area_factor=area_factor,
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
    Volunteer.skill_bits,
    Volunteer.preference_bits,
    Volunteer.rating_sum,
    Volunteer.rating_count,
)


def _task_counts() -> tuple[ColumnElement[int], ColumnElement[int]]:
    """Each volunteer's open tasks and tasks accepted lately, as correlated counts: evaluated
    only for the rows that pass the filters, each an index range on `wishes`."""
    counted = aliased(Wish)
    open_tasks = (
        select(func.count())
        .select_from(counted)
        .where(counted.assignee_id == Volunteer.id, counted.status.in_(TASK_STATUSES))
        .scalar_subquery()
    )
    recent = (
        select(func.count())
        .select_from(counted)
        .where(counted.assignee_id == Volunteer.id, counted.accepted_at >= bindparam("since"))
        .scalar_subquery()
    )
    return open_tasks, recent


def in_list(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """`column IN (...)` over a list bound as `name`. On PostgreSQL one array parameter
    (`= ANY(:name)`), so the statement's text is the same whatever the list's length and
    psycopg and the server reuse its preparation; SQLite expands the list."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(BigInteger)))
    return column.in_(bindparam(name, expanding=True))


@cache
def _near_statement(*, prefilter: bool, dialect: str) -> Select:
    """Built once, run with bind parameters: building it costs more than running it."""
    open_tasks, recent = _task_counts()
    query = select(*_COLUMNS, open_tasks, recent).where(
        in_list(Volunteer.h3_cell, "cells", dialect)
    )
    if prefilter:
        # The cheap, plainly equivalent part of the hard constraints, for the database (the
        # covering index holds every column these read).
        p = {
            name: bindparam(name, type_=Float)
            for name in ("lat0", "lng0", "k_lat", "k_lng", "area2")
        }
        dy = (Volunteer.lat - p["lat0"]) * p["k_lat"]
        dx = (Volunteer.lng - p["lng0"]) * p["k_lng"]
        d2 = dx * dx + dy * dy
        margin = 1.001  # the exact distance decides; this only keeps borderline rows
        required = bindparam("required", type_=BigInteger)
        query = query.where(
            Volunteer.status == VolunteerStatus.ACTIVE,
            d2 <= p["area2"],
            d2 <= Volunteer.service_radius_m * Volunteer.service_radius_m * margin,
            Volunteer.skill_bits.op("&")(required) == required,
            or_(
                *(
                    _AVAIL[day].op("&")(bindparam(f"w{day}", type_=BigInteger)) != 0
                    for day in range(7)
                )
            ),
        )
    return query


def volunteers_near(session: Session, *, wish: WishFacts, prefilter: bool) -> VolunteerArrays:
    """Volunteers in the H3 cells covering the wish's area, as arrays: one statement, plus one
    for dated qualifications when the wish needs any."""
    k_lat = math.radians(EARTH_RADIUS_M)
    params: dict[str, object] = {
        "cells": list(cells_within(wish.lat, wish.lng, wish.area_m)),
        "since": clock.now() - timedelta(days=RECENT_DAYS),
    }
    if prefilter:
        params.update(
            lat0=wish.lat,
            lng0=wish.lng,
            k_lat=k_lat,
            k_lng=k_lat * math.cos(math.radians(wish.lat)),
            area2=wish.area_m * wish.area_m * 1.001,
            required=wish.required_bits,
            **{f"w{day}": mask for day, mask in enumerate(wish.window_masks)},
        )
    # Core, not the ORM: these are plain rows, and the ORM's result handling costs more than
    # the rest of the read.
    connection = session.connection()
    statement = _near_statement(prefilter=prefilter, dialect=connection.dialect.name)
    rows = connection.execute(statement, params).all()
    return _finish(session, rows, wish=wish)


def volunteers_where(
    session: Session, *, condition: ColumnElement[bool], wish: WishFacts
) -> VolunteerArrays:
    """Volunteers matching an arbitrary condition (a full scan when it is `true()`)."""
    open_tasks, recent = _task_counts()
    rows = session.execute(
        select(*_COLUMNS, open_tasks, recent).where(condition),
        {"since": clock.now() - timedelta(days=RECENT_DAYS)},
    ).all()
    return _finish(session, rows, wish=wish)


IN_LIST_SLICE = 20_000


def _finish(session: Session, rows: Sequence[object], *, wish: WishFacts) -> VolunteerArrays:
    n = len(rows)
    cols: list[Sequence[object]] = (
        list(zip(*rows, strict=True)) if n else [()] * (len(_COLUMNS) + 2)
    )
    arrays = _column_arrays(cols, n)
    arrays.active_tasks = np.fromiter(cols[-2], dtype=np.int64, count=n)
    arrays.recent_tasks = np.fromiter(cols[-1], dtype=np.int64, count=n)
    if n and wish.qualified_bits:
        bits = catalogue_bits(session)
        needed = [code for code, bit in bits.skills.items() if bit & wish.qualified_bits]
        index = {int(v): i for i, v in enumerate(arrays.ids)}
        ids = [int(v) for v in arrays.ids]
        # In slices: PostgreSQL's protocol carries at most 65,535 parameters per statement.
        for start in range(0, len(ids), IN_LIST_SLICE):
            for volunteer_id, code in session.execute(
                select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_code).where(
                    VolunteerSkill.volunteer_id.in_(ids[start : start + IN_LIST_SLICE]),
                    VolunteerSkill.skill_code.in_(needed),
                    VolunteerSkill.qualified_until >= wish.service_day,
                )
            ):
                arrays.qualified[index[volunteer_id]] |= np.uint64(bits.skills[code])
    return arrays


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


def matching_catalogue(session: Session) -> MatchingCatalogue:
    """The catalogue as matching reads it (cached per process; see CATALOGUE_CACHE)."""
    today = clock.local_day(clock.now())  # the season turns at midnight
    cached = CATALOGUE_CACHE.get(today)
    if cached is not None:
        return cached
    bits = _read_bits(session)
    if len(bits.skills) > 64 or len(bits.categories) > 64:
        raise MatchingLimit("matching packs skills and categories into 64-bit masks")
    related: dict[str, list[str]] = {}
    for category_code, skill_code in session.execute(
        select(CategorySkill.category_code, CategorySkill.skill_code).order_by(
            CategorySkill.category_code, CategorySkill.skill_code
        )
    ):
        related.setdefault(category_code, []).append(skill_code)
    season = current_season(session=session)
    categories = {c.code: c for c in session.scalars(select(Category))}
    for category in categories.values():
        session.expunge(category)
    catalogue = MatchingCatalogue(
        bits=bits,
        categories=categories,
        related={code: tuple(skills) for code, skills in related.items()},
        season_code=season.code if season is not None else None,
        affinities=affinities(session=session, season_code=season.code) if season else {},
    )
    CATALOGUE_CACHE.put(today, catalogue)
    return catalogue


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
    def coarse_lat(self) -> float: ...
    @property
    def coarse_lng(self) -> float: ...
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
    timezone = timezone or current_settings().timezone
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
    # The coarse point, as for one volunteer at acceptance (`eligibility.distance_seen_m`):
    # whom a wish is offered to, or announced to when it opens for grab, must not tell
    # volunteers more than its coarse cell.
    return WishFacts(
        id=wish.id,
        lat=wish.coarse_lat,
        lng=wish.coarse_lng,
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
        service_day=clock.local_day(wish.wanted_start_at, timezone),
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
    each for dated qualifications and task counts."""
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

    # Skills and preferences come with the rows (their masks); only the dated qualifications
    # need reading.
    qualification_rows = session.execute(
        select(
            VolunteerSkill.volunteer_id, VolunteerSkill.skill_code, VolunteerSkill.qualified_until
        ).where(
            VolunteerSkill.volunteer_id.in_(in_scope), VolunteerSkill.qualified_until.is_not(None)
        )
    ).all()
    if qualification_rows:
        unit.qualification_index = positions([r[0] for r in qualification_rows])
        unit.qualification_bit = np.fromiter(
            (bits.skills.get(r[1], 0) for r in qualification_rows),
            dtype=np.uint64,
            count=len(qualification_rows),
        )
        unit.qualification_until = np.fromiter(
            (r[2].toordinal() for r in qualification_rows if r[2] is not None),
            dtype=np.int64,
            count=len(qualification_rows),
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
    """The columns of `_COLUMNS` (n values each) as arrays; qualifications and task counts left
    at zero."""

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
        skills=np.fromiter(cols[19], dtype=np.uint64, count=n),
        qualified=np.zeros(n, dtype=np.uint64),
        preferences=np.fromiter(cols[20], dtype=np.uint64, count=n),
        rating_sum=ints(cols[21]),
        rating_count=ints(cols[22]),
        active_tasks=np.zeros(n, dtype=np.int64),
        recent_tasks=np.zeros(n, dtype=np.int64),
    )
