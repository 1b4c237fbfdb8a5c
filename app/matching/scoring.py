"""Hard constraints and scores for many volunteers at once, on numpy arrays.

Pure computation, no database: `volunteers.py` builds the arrays for one wish from the
volunteers around it, `unit_volunteers.py` for a whole unit for batch dispatch, and this module
judges them. Every rule is written once, here.

Hard constraints first (《志愿服务条例》 Art 15–17: suit the volunteer's skills, qualifications,
age and health; insurance before risky work), each failure a typed reason. Then a score in
[0, 1] from six factors, each in [0, 1], weighted by configuration:

- distance: 1 at the wish's coarse point, 0 at the edge of the volunteer's reach;
- skill: the share of the category's related skills the volunteer has (required ones are a
  hard constraint); 1 when the category names none;
- theme: 0.6 if the volunteer prefers the wish's category, plus 0.4 × how well the category
  fits the current 四季红 season (1 when the wish belongs to the current season's theme);
- availability: the share of the wanted window the volunteer's weekly hours cover;
- fairness: half for spare capacity now, half for few tasks accepted in the last 30 days;
- reliability: half the smoothed rate of tasks kept, (completed + 1) / (completed + withdrawn +
  2·no-shows + 2); half the requesters' mean rating (评单), smoothed towards 4 of 5 and scaled
  from 1–5 to 0–1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import IntFlag, StrEnum

import numpy as np
import numpy.typing as npt

from app.geo import EARTH_RADIUS_M

RATING_PRIOR = 4.0
FACTORS = ("distance", "skill", "theme", "availability", "fairness", "reliability")
RECENT_DAYS = 30


class Reason(StrEnum):
    SUSPENDED = "SUSPENDED"
    IS_REQUESTER = "IS_REQUESTER"
    OUT_OF_RADIUS = "OUT_OF_RADIUS"
    SKILL_MISSING = "SKILL_MISSING"
    NEEDS_QUALIFICATION = "NEEDS_QUALIFICATION"
    NEEDS_INSURANCE = "NEEDS_INSURANCE"
    AGE_NOT_SUITABLE = "AGE_NOT_SUITABLE"
    UNAVAILABLE_IN_WINDOW = "UNAVAILABLE_IN_WINDOW"
    AT_CAPACITY = "AT_CAPACITY"
    ALREADY_OFFERED = "ALREADY_OFFERED"


class _Bit(IntFlag):
    SUSPENDED = 1 << 0
    IS_REQUESTER = 1 << 1
    OUT_OF_RADIUS = 1 << 2
    SKILL_MISSING = 1 << 3
    NEEDS_QUALIFICATION = 1 << 4
    NEEDS_INSURANCE = 1 << 5
    AGE_NOT_SUITABLE = 1 << 6
    UNAVAILABLE_IN_WINDOW = 1 << 7
    AT_CAPACITY = 1 << 8
    ALREADY_OFFERED = 1 << 9


REASON_TEXT = {
    Reason.SUSPENDED: "志愿者资格已暂停",
    Reason.IS_REQUESTER: "不能为自己的心愿服务",
    Reason.OUT_OF_RADIUS: "超出志愿者服务半径或心愿所在区域",
    Reason.SKILL_MISSING: "缺少所需技能",
    Reason.NEEDS_QUALIFICATION: "所需技能的资质未登记或已过期",
    Reason.NEEDS_INSURANCE: "该类服务有风险，须在保险有效期内",
    Reason.AGE_NOT_SUITABLE: "年龄不适合该类服务（或未登记出生日期）",
    Reason.UNAVAILABLE_IN_WINDOW: "期望时间内没有可服务时段",
    Reason.AT_CAPACITY: "进行中的任务已达上限",
    Reason.ALREADY_OFFERED: "本轮之前已向其派过单",
}


@dataclass(frozen=True)
class WishFacts:
    """What matching needs to know of one wish."""

    id: int | None
    # The wish's coarse point (`app.geo.coarse`): every constraint and score a volunteer could
    # learn from is judged from it, never from the exact place.
    lat: float
    lng: float
    area_m: float  # the wish's area: its station's service radius (times a widening factor)
    requester_ids: tuple[int, ...]  # user ids of the requester and the proxy
    category_code: str
    category_bit: int  # bit of the category in preference masks (0: unknown)
    required_bits: int  # skills the wish requires
    qualified_bits: int  # of those, the ones that need a qualification
    related_bits: int  # skills that suit the category
    risky: bool
    min_age: int | None
    max_age: int | None
    service_day: date  # local date the wanted window starts
    window_masks: tuple[int, ...]  # seven weekday masks of the wanted window
    window_slots: int
    season_fit: float  # how well the category fits the current season, 0..1


@dataclass
class VolunteerArrays:
    """Columns of n volunteers. Dates are proleptic ordinals (0: none)."""

    ids: npt.NDArray[np.int64]
    user_ids: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lng: npt.NDArray[np.float64]
    radius: npt.NDArray[np.float64]
    active: npt.NDArray[np.bool_]
    capacity: npt.NDArray[np.int64]
    birth: npt.NDArray[np.int64]
    insured: npt.NDArray[np.int64]
    masks: npt.NDArray[np.uint64]  # (n, 7)
    completed: npt.NDArray[np.int64]
    withdrawn: npt.NDArray[np.int64]
    released: npt.NDArray[np.int64]
    skills: npt.NDArray[np.uint64]  # bit per skill held
    qualified: npt.NDArray[np.uint64]  # bit per skill whose qualification is valid on the day
    preferences: npt.NDArray[np.uint64]  # bit per preferred category
    rating_sum: npt.NDArray[np.int64]  # requesters' scores received (评单)
    rating_count: npt.NDArray[np.int64]
    active_tasks: npt.NDArray[np.int64]
    recent_tasks: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Evaluation:
    """The verdict on each volunteer (same order as the arrays)."""

    distance: npt.NDArray[np.float64]
    reasons: npt.NDArray[np.int64]  # bit set of `_Bit`
    factors: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    score: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @property
    def eligible(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.reasons == 0)


def reasons_of(bits: int) -> list[Reason]:
    return [Reason(str(flag.name)) for flag in _Bit if bits & flag]


def distances(wish_lat: float, wish_lng: float, lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres (haversine), vectorised."""
    p1, p2 = np.radians(wish_lat), np.radians(lat)
    dp = p2 - p1
    dl = np.radians(lng - wish_lng)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))))


def _age_bounds(day: date, min_age: int | None, max_age: int | None) -> tuple[int, int]:
    """Birth-date ordinals a volunteer must fall between to be of age on `day`."""

    def years_before(years: int) -> date:
        try:
            return day.replace(year=day.year - years)
        except ValueError:  # 29 February
            return day.replace(year=day.year - years, day=28)

    latest = years_before(min_age).toordinal() if min_age is not None else 10**7
    # Older than max_age means born before (day − (max_age + 1) years) + 1 day.
    earliest = years_before(max_age + 1).toordinal() + 1 if max_age is not None else 0
    return earliest, latest


def evaluate(
    wish: WishFacts,
    vols: VolunteerArrays,
    *,
    weights: dict[str, float],
    excluded_ids: frozenset[int] = frozenset(),
) -> Evaluation:
    n = len(vols)
    d = distances(wish.lat, wish.lng, vols.lat, vols.lng)
    reach = np.minimum(vols.radius, wish.area_m)
    bits = np.zeros(n, dtype=np.int64)

    bits |= np.where(~vols.active, int(_Bit.SUSPENDED), 0)
    if wish.requester_ids:
        bits |= np.where(np.isin(vols.user_ids, wish.requester_ids), int(_Bit.IS_REQUESTER), 0)
    bits |= np.where(d > reach, int(_Bit.OUT_OF_RADIUS), 0)
    required = np.uint64(wish.required_bits)
    has_required = (vols.skills & required) == required
    bits |= np.where(~has_required, int(_Bit.SKILL_MISSING), 0)
    if wish.qualified_bits:
        needs = np.uint64(wish.qualified_bits)
        bits |= np.where(
            has_required & ((vols.qualified & needs) != needs), int(_Bit.NEEDS_QUALIFICATION), 0
        )
    day = wish.service_day.toordinal()
    if wish.risky:
        bits |= np.where(vols.insured < day, int(_Bit.NEEDS_INSURANCE), 0)
    if wish.min_age is not None or wish.max_age is not None:
        earliest, latest = _age_bounds(wish.service_day, wish.min_age, wish.max_age)
        unsuitable = (vols.birth == 0) | (vols.birth < earliest) | (vols.birth > latest)
        bits |= np.where(unsuitable, int(_Bit.AGE_NOT_SUITABLE), 0)
    window = np.array(wish.window_masks, dtype=np.uint64)
    covered = np.bitwise_count(vols.masks & window).sum(axis=1) if n else np.zeros(0)
    bits |= np.where(covered == 0, int(_Bit.UNAVAILABLE_IN_WINDOW), 0)
    bits |= np.where(vols.active_tasks >= vols.capacity, int(_Bit.AT_CAPACITY), 0)
    if excluded_ids:
        excluded = np.fromiter(excluded_ids, dtype=np.int64, count=len(excluded_ids))
        bits |= np.where(np.isin(vols.ids, excluded), int(_Bit.ALREADY_OFFERED), 0)

    factors: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        factors["distance"] = np.clip(1.0 - d / np.maximum(reach, 1.0), 0.0, 1.0)
        if wish.related_bits:
            related = np.uint64(wish.related_bits)
            factors["skill"] = np.bitwise_count(vols.skills & related) / bin(
                wish.related_bits
            ).count("1")
        else:
            factors["skill"] = np.ones(n)
        prefers = (
            (vols.preferences & np.uint64(wish.category_bit)) != 0
            if wish.category_bit
            else np.zeros(n, dtype=bool)
        )
        factors["theme"] = 0.6 * prefers + 0.4 * wish.season_fit
        factors["availability"] = np.clip(covered / max(wish.window_slots, 1), 0.0, 1.0)
        spare = 1.0 - vols.active_tasks / np.maximum(vols.capacity, 1)
        factors["fairness"] = 0.5 * np.clip(spare, 0.0, 1.0) + 0.5 / (1.0 + vols.recent_tasks)
        kept = (vols.completed + 1.0) / (
            vols.completed + vols.withdrawn + 2.0 * vols.released + 2.0
        )
        # Requesters' mean score, smoothed towards 4 of 5 by two imaginary ratings.
        rated = (vols.rating_sum + 2 * RATING_PRIOR) / (vols.rating_count + 2.0)
        factors["reliability"] = 0.5 * kept + 0.5 * (rated - 1.0) / 4.0
    total_weight = sum(weights.get(name, 0.0) for name in FACTORS) or 1.0
    score = np.zeros(n)
    for name in FACTORS:
        score += weights.get(name, 0.0) / total_weight * factors[name]
    return Evaluation(distance=d, reasons=bits, factors=factors, score=score)


def top(evaluation: Evaluation, ids: np.ndarray, k: int) -> list[int]:
    """Positions of the best k eligible volunteers: score, then nearer, then lower id."""
    eligible = np.flatnonzero(evaluation.eligible)
    if len(eligible) == 0 or k <= 0:
        return []
    order = np.lexsort((ids[eligible], evaluation.distance[eligible], -evaluation.score[eligible]))
    return [int(i) for i in eligible[order[:k]]]
