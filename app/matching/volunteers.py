"""Reading volunteers from the database into `scoring`'s arrays, for one wish.

Volunteers near a wish are found through the H3 cell index (`app.geo.cells_within`): only the
cells around the wish are read, never the whole table. When only eligible volunteers are
wanted, the database also drops the clearly unsuitable (suspended, out of reach, unavailable,
missing a required skill) before anything reaches Python; `scoring.evaluate` still judges every
rule on what comes back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    any_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from app import clock
from app.geo import EARTH_RADIUS_M, cells_within
from app.models import Volunteer, VolunteerSkill, Wish
from app.models.enums import TASK_STATUSES, VolunteerStatus

from .catalogue import catalogue_bits
from .scoring import RECENT_DAYS, VolunteerArrays, WishFacts

_AVAIL = [getattr(Volunteer, f"avail_{day}") for day in range(7)]
VOLUNTEER_COLUMNS = (
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
    query = select(*VOLUNTEER_COLUMNS, open_tasks, recent).where(
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
        select(*VOLUNTEER_COLUMNS, open_tasks, recent).where(condition),
        {"since": clock.now() - timedelta(days=RECENT_DAYS)},
    ).all()
    return _finish(session, rows, wish=wish)


IN_LIST_SLICE = 20_000


def _finish(session: Session, rows: Sequence[object], *, wish: WishFacts) -> VolunteerArrays:
    n = len(rows)
    cols: list[Sequence[object]] = (
        list(zip(*rows, strict=True)) if n else [()] * (len(VOLUNTEER_COLUMNS) + 2)
    )
    arrays = column_arrays(cols, n)
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


def column_arrays(cols: Sequence[Sequence[object]], n: int) -> VolunteerArrays:
    """The columns of `VOLUNTEER_COLUMNS` (n values each) as arrays; qualifications and task
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
        skills=np.fromiter(cols[19], dtype=np.uint64, count=n),
        qualified=np.zeros(n, dtype=np.uint64),
        preferences=np.fromiter(cols[20], dtype=np.uint64, count=n),
        rating_sum=ints(cols[21]),
        rating_count=ints(cols[22]),
        active_tasks=np.zeros(n, dtype=np.int64),
        recent_tasks=np.zeros(n, dtype=np.int64),
    )
