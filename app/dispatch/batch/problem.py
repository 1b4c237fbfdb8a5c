"""The problem of one unit: its approved wishes, the volunteers within reach of each, the
scores of the eligible pairs and each volunteer's spare capacity.

Candidate generation reads everything once (`app.matching.catalogue` and
`app.matching.unit_volunteers`: the catalogue, the wishes, their skills, the unit's volunteers
with full skill and preference masks), finds the pairs within reach of each other for all
wishes at once (`_Neighbourhoods`), and evaluates each wish with `evaluate` on those
volunteers only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.dispatch.batch.errors import MatchingUnavailable
from app.geo import EARTH_RADIUS_M
from app.matching.catalogue import (
    MatchingCatalogue,
    MatchingLimit,
    matching_catalogue,
    wish_facts_preloaded,
    wish_skill_codes,
)
from app.matching.scoring import FACTORS, VolunteerArrays, WishFacts, distances, evaluate
from app.matching.service import normalised_weights
from app.matching.unit_volunteers import UnitVolunteers, take_volunteers, unit_volunteers
from app.models import Offer, OrgUnit, Wish
from app.models.enums import WishStatus
from app.org_units.service import in_subtree

# At most this many wishes in one plan (the oldest first) and in one apply.
MAX_WISHES = 2000


@dataclass
class Problem:
    """Every approved wish of a unit against the unit's volunteers.

    `scores` has a row per wish (oldest first) and a column per volunteer (by id); its stored
    entries are the eligible pairs. `distances` and `factors` are aligned with `scores.data`.
    `distances` are from the wishes' coarse points (what matching judges by, as volunteers
    would), `exact_distances` from their exact places (what coordinators are shown).
    """

    wish_ids: npt.NDArray[np.int64]
    titles: list[str]
    volunteer_ids: npt.NDArray[np.int64]
    capacity: npt.NDArray[np.int64]  # spare task slots
    scores: csr_matrix
    distances: npt.NDArray[np.float64]
    exact_distances: npt.NDArray[np.float64]
    factors: dict[str, npt.NDArray[np.float64]]
    weights: dict[str, float]
    truncated: bool  # the unit had more approved wishes than the limit
    timings_ms: dict[str, float] = field(default_factory=dict)

    def edge(self, row: int, column: int) -> int:
        """Position in `scores.data` of the pair (row, column), which must be stored."""
        lo, hi = self.scores.indptr[row], self.scores.indptr[row + 1]
        return int(lo + np.searchsorted(self.scores.indices[lo:hi], column))


@dataclass(frozen=True, slots=True)
class _ApprovedWish:
    """The columns of a wish the plan reads (`catalogue.WishLike`), and its station's radius."""

    id: int
    title: str
    exact_point: tuple[float, float] | None  # sealed at rest; None once erased
    coarse_lat: float
    coarse_lng: float
    requester_id: int
    proxy_id: int | None
    category_code: str
    season_code: str | None
    wanted_start_at: datetime
    wanted_end_at: datetime
    station_radius_m: int

    @property
    def lat(self) -> float:
        """The exact place (the distances shown to coordinators), or the coarse one."""
        return self.exact_point[0] if self.exact_point is not None else self.coarse_lat

    @property
    def lng(self) -> float:
        return self.exact_point[1] if self.exact_point is not None else self.coarse_lng


_WISH_COLUMNS = (
    Wish.id,
    Wish.title,
    Wish.exact_point,
    Wish.coarse_lat,
    Wish.coarse_lng,
    Wish.requester_id,
    Wish.proxy_id,
    Wish.category_code,
    Wish.season_code,
    Wish.wanted_start_at,
    Wish.wanted_end_at,
    OrgUnit.service_radius_m.label("station_radius_m"),
)


def _approved_wishes(session: Session, unit: OrgUnit, limit: int) -> list[_ApprovedWish]:
    """The approved wishes at stations of the subtree, oldest first (one more than `limit`,
    to tell whether there were more)."""
    rows: Sequence[Any] = session.execute(
        select(*_WISH_COLUMNS)
        .join(OrgUnit, OrgUnit.id == Wish.station_id)
        .where(in_subtree(OrgUnit.path, unit.path), Wish.status == WishStatus.APPROVED)
        .order_by(Wish.id)
        .limit(limit + 1)
    ).all()
    return [_ApprovedWish(**row._asdict()) for row in rows]


def _offered_before(session: Session, wish_ids: Sequence[int]) -> dict[int, set[int]]:
    """Volunteers each wish was offered to before (as in the ladder, not offered again)."""
    offered: dict[int, set[int]] = {}
    if wish_ids:
        for wish_id, volunteer_id in session.execute(
            select(Offer.wish_id, Offer.volunteer_id).where(Offer.wish_id.in_(wish_ids))
        ):
            offered.setdefault(wish_id, set()).add(volunteer_id)
    return offered


def _on_sphere(
    lat: npt.NDArray[np.float64], lng: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Points as unit vectors: the straight-line (chord) distance between two of them grows
    with their great-circle distance, so a k-d tree ball query finds everyone within a
    distance, anywhere on the earth."""
    phi, lam = np.radians(lat), np.radians(lng)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def _chord(metres: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The straight-line distance between unit vectors `metres` apart on the earth."""
    return np.asarray(2 * np.sin(np.minimum(metres / (2 * EARTH_RADIUS_M), np.pi / 2)))


class _Neighbourhoods:
    """Who each wish could reach, found for all wishes at once.

    Two k-d trees (SciPy's `cKDTree`, wishes and volunteers as unit vectors) give every
    (wish, volunteer) pair within the largest wish area in one call; then the cheap, plainly
    equivalent parts of the hard constraints drop the clearly unsuitable pairs, vectorised
    over all of them — as `volunteers._near_statement` has the database do for one wish: beyond the
    wish's area or the volunteer's own reach, no available hours in the window, a required
    skill missing, no free slot. The distance tests carry a margin, so they only ever keep too
    many; `evaluate` still judges every rule exactly on the pairs that are left.

    Measured against the H3 cells of `geo.cells_within` (a lookup per wish, then the
    volunteers of those cells, then these tests per wish): for 1,000 wishes over 10,000
    volunteers the cells cost 0.16 s once cached and 0.8 s in a fresh process (each new
    cell's disk is computed anew), these two trees about 0.05 s for every pair at once.
    """

    MARGIN = 1.001  # relative, plus one metre

    def __init__(self, volunteers: UnitVolunteers, wishes: Sequence[WishFacts]) -> None:
        self.volunteers = volunteers
        self._qualified: dict[date, npt.NDArray[np.uint64]] = {}
        self.indptr = np.zeros(len(wishes) + 1, dtype=np.intp)
        self.columns = np.zeros(0, dtype=np.intp)
        vols = volunteers.arrays
        if not len(vols) or not wishes:
            return
        lat = np.array([w.lat for w in wishes])
        lng = np.array([w.lng for w in wishes])
        area = np.array([w.area_m for w in wishes])
        area = area * self.MARGIN + 1.0
        pairs = cKDTree(_on_sphere(lat, lng)).sparse_distance_matrix(
            cKDTree(_on_sphere(vols.lat, vols.lng)),
            float(_chord(area).max()),
            output_type="ndarray",
        )
        i, j = pairs["i"].astype(np.intp), pairs["j"].astype(np.intp)
        # Within both the wish's area and the volunteer's own reach; chords grow with
        # distances, so compare chords (computed once per wish and per volunteer).
        reach = np.minimum(_chord(vols.radius * self.MARGIN + 1.0)[j], _chord(area)[i])
        keep = pairs["v"] <= reach
        i, j = i[keep], j[keep]
        # Exact bit and integer tests, the same as evaluate's.
        windows = np.array([w.window_masks for w in wishes], dtype=np.uint64)
        required = np.array([w.required_bits for w in wishes], dtype=np.uint64)
        keep = (vols.masks[j] & windows[i]).any(axis=1)
        keep &= (vols.skills[j] & required[i]) == required[i]
        keep &= (vols.active_tasks < vols.capacity)[j]
        i, j = i[keep], j[keep]
        # By wish, then by position: columns stay in volunteer-id order (deterministic ties).
        order = np.argsort(i * len(vols) + j)
        self.columns = j[order]
        np.cumsum(np.bincount(i, minlength=len(wishes)), out=self.indptr[1:])

    def near(self, row: int) -> npt.NDArray[np.intp]:
        """Positions (ascending) of the volunteers worth judging for wish `row`."""
        return self.columns[self.indptr[row] : self.indptr[row + 1]]

    def arrays(self, index: npt.NDArray[np.intp], day: date) -> VolunteerArrays:
        qualified = self._qualified.get(day)
        if qualified is None:
            qualified = self._qualified[day] = self.volunteers.qualified_on(day)
        return take_volunteers(self.volunteers.arrays, index, qualified=qualified)


def build_problem(
    session: Session, *, unit: OrgUnit, limit: int = MAX_WISHES, area_factor: float = 1.0
) -> Problem:
    """Read and judge every approved wish of the unit's subtree (at most `limit`, oldest
    first) against the active volunteers whose home station is in the subtree (the ones the
    unit's coordinators may offer to)."""
    started = time.perf_counter()
    try:
        catalogue: MatchingCatalogue = matching_catalogue(session)
    except MatchingLimit as exc:
        raise MatchingUnavailable() from exc
    found = _approved_wishes(session, unit, limit)
    truncated = len(found) > limit
    found = found[:limit]
    wish_ids = [wish.id for wish in found]
    required = wish_skill_codes(session, wish_ids)
    offered = _offered_before(session, wish_ids)
    volunteers = unit_volunteers(session, unit_path=unit.path, bits=catalogue.bits)
    loaded = time.perf_counter()

    weights = normalised_weights()
    wishes = [
        wish_facts_preloaded(
            wish,
            station_radius_m=wish.station_radius_m,
            catalogue=catalogue,
            required=required.get(wish.id, ()),
            area_factor=area_factor,
        )
        for wish in found
    ]
    around = _Neighbourhoods(volunteers, wishes)
    counts = np.zeros(len(found), dtype=np.int64)
    columns: list[npt.NDArray[np.intp]] = []
    scores: list[npt.NDArray[np.float64]] = []
    metres: list[npt.NDArray[np.float64]] = []
    exact: list[npt.NDArray[np.float64]] = []
    factors: dict[str, list[npt.NDArray[np.float64]]] = {name: [] for name in FACTORS}
    for row, facts in enumerate(wishes):
        index = around.near(row)
        if index.size == 0:
            continue
        near = around.arrays(index, facts.service_day)
        result = evaluate(
            facts,
            near,
            weights=weights,
            excluded_ids=frozenset(offered.get(int(wish_ids[row]), ())),
        )
        eligible = np.flatnonzero(result.eligible)
        counts[row] = eligible.size
        columns.append(index[eligible])
        scores.append(np.clip(result.score[eligible], 0.0, 1.0))
        metres.append(result.distance[eligible])
        wish = found[row]
        exact.append(distances(wish.lat, wish.lng, near.lat[eligible], near.lng[eligible]))
        for name in FACTORS:
            factors[name].append(np.asarray(result.factors[name])[eligible])

    def joined(parts: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
        return np.concatenate(parts) if parts else np.zeros(0)

    indptr = np.zeros(len(found) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    arrays = volunteers.arrays
    matrix = csr_matrix(
        (
            joined(scores),
            np.concatenate(columns) if columns else np.zeros(0, np.intp),
            indptr,
        ),
        shape=(len(found), len(arrays)),
    )
    evaluated = time.perf_counter()
    return Problem(
        wish_ids=np.asarray(wish_ids, dtype=np.int64),
        titles=[wish.title for wish in found],
        volunteer_ids=arrays.ids,
        capacity=np.maximum(arrays.capacity - arrays.active_tasks, 0),
        scores=matrix,
        distances=joined(metres),
        exact_distances=joined(exact),
        factors={name: joined(parts) for name, parts in factors.items()},
        weights=weights,
        truncated=truncated,
        timings_ms={
            "load": (loaded - started) * 1000,
            "evaluate": (evaluated - loaded) * 1000,
        },
    )


def without_volunteer(problem: Problem, volunteer_id: int) -> Problem:
    """The same problem with every pair of one volunteer removed (they take no wish)."""
    columns = np.flatnonzero(problem.volunteer_ids == volunteer_id)
    if columns.size == 0:
        return problem
    matrix = problem.scores
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    keep = matrix.indices != columns[0]
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]), out=indptr[1:])
    scores = csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)
    return replace(
        problem,
        scores=scores,
        distances=problem.distances[keep],
        factors={name: values[keep] for name, values in problem.factors.items()},
    )


def greedy_nearest_first(problem: Problem) -> npt.NDArray[np.int64]:
    """The baseline the plan is compared with: wishes in order (oldest first), each takes the
    nearest eligible volunteer who still has a slot (then the higher score, the lower id)."""
    spare = problem.capacity.copy()
    assignment = np.full(len(problem.wish_ids), -1, dtype=np.int64)
    matrix = problem.scores
    for row in range(len(problem.wish_ids)):
        lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
        columns = matrix.indices[lo:hi]
        free = np.flatnonzero(spare[columns] > 0)
        if free.size == 0:
            continue
        order = np.lexsort(
            (
                problem.volunteer_ids[columns[free]],
                -matrix.data[lo:hi][free],
                problem.distances[lo:hi][free],
            )
        )
        column = int(columns[free[order[0]]])
        assignment[row] = column
        spare[column] -= 1
    return assignment
