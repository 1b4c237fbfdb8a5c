"""A unit's volunteers as arrays, read once for batch dispatch.

Batch dispatch judges every approved wish of a unit against every volunteer of the unit. The
per-wish readers (`volunteers.volunteers_near`) would cost a few queries per wish; this reads
the unit's volunteers once (with full skill and preference masks, not a wish's relevant
subset), and the caller evaluates each wish on the volunteers of the cells around it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.models import OrgUnit, Volunteer, VolunteerSkill, Wish
from app.models.enums import TASK_STATUSES, VolunteerStatus
from app.org_units.service import in_subtree

from .catalogue import CatalogueBits
from .scoring import RECENT_DAYS, VolunteerArrays
from .volunteers import VOLUNTEER_COLUMNS, column_arrays


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
        select(*VOLUNTEER_COLUMNS, Volunteer.h3_cell).where(where).order_by(Volunteer.id)
    ).all()
    n = len(rows)
    columns: list[Sequence[object]] = (
        list(zip(*rows, strict=True)) if n else [()] * len(VOLUNTEER_COLUMNS)
    )
    arrays = column_arrays(columns[:-1] if n else columns, n)
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
