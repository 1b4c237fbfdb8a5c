"""Whether a volunteer may take a wish open for grab (抢单), without a coordinator in the loop.

The same hard constraints as matching (`app.matching.scoring`), judged for one volunteer from
facts the accept request has already read; `tests/matching/test_eligibility.py` checks that the
two always agree. Capacity is checked at acceptance, under a lock on the volunteer's row.
Distance is judged from the wish's coarse point (`distance_seen_m`), as everywhere a volunteer
who has not accepted the wish is concerned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from app.geo import distance_m
from app.matching.scoring import Reason
from app.models import OrgUnit, Wish
from app.models.enums import VolunteerStatus
from app.privacy.masking import age_on


class CoarsePoint(Protocol):
    """A wish, or a row with its coarse coordinates."""

    @property
    def coarse_lat(self) -> float: ...
    @property
    def coarse_lng(self) -> float: ...


class VolunteerLike(Protocol):
    """A volunteer profile or the facts about one that a request carries."""

    @property
    def user_id(self) -> int: ...
    @property
    def lat(self) -> float: ...
    @property
    def lng(self) -> float: ...
    @property
    def service_radius_m(self) -> int: ...
    @property
    def status(self) -> VolunteerStatus: ...


@dataclass(frozen=True)
class Fit:
    """What the accept request read about the volunteer against this wish."""

    lacks_skill: bool
    lacks_qualification: bool
    risky: bool
    insured_until: date | None
    min_age: int | None
    max_age: int | None
    birth_date: date | None
    service_day: date
    available: bool  # some of the wanted window falls in the volunteer's weekly hours


def distance_seen_m(volunteer: VolunteerLike, wish: CoarsePoint) -> float:
    """How far a wish is, for everything a volunteer who has not accepted it is shown or
    judged by: from their home to the wish's coarse point (`app.geo.coarse`), never its exact
    place. Matching computes the same on arrays (`WishFacts` carries the coarse point)."""
    return distance_m(volunteer.lat, volunteer.lng, wish.coarse_lat, wish.coarse_lng)


def reach_m(volunteer: VolunteerLike, station: OrgUnit) -> int:
    """How far from a wish a volunteer may be: within both their radius and the station's area."""
    return min(volunteer.service_radius_m, station.service_radius_m)


def grab_ineligibility(
    *, volunteer: VolunteerLike, fit: Fit, wish: Wish, station: OrgUnit
) -> list[Reason]:
    return ineligibility(
        volunteer=volunteer,
        fit=fit,
        requester_ids=(wish.requester_id, wish.proxy_id),
        away_m=distance_seen_m(volunteer, wish),
        reach=reach_m(volunteer, station),
    )


def ineligibility(
    *,
    volunteer: VolunteerLike,
    fit: Fit,
    requester_ids: tuple[int | None, ...],
    away_m: float,
    reach: float,
) -> list[Reason]:
    """The hard constraints for one volunteer and one piece of service (a wish open for grab,
    an activity's sign-up), from facts already read: who it is for, how far it is (as the
    volunteer may be told), how far they may go."""
    reasons: list[Reason] = []
    if volunteer.status != VolunteerStatus.ACTIVE:
        reasons.append(Reason.SUSPENDED)
    if volunteer.user_id in requester_ids:
        reasons.append(Reason.IS_REQUESTER)
    if away_m > reach:
        reasons.append(Reason.OUT_OF_RADIUS)
    if fit.lacks_skill:
        reasons.append(Reason.SKILL_MISSING)
    elif fit.lacks_qualification:
        reasons.append(Reason.NEEDS_QUALIFICATION)
    if fit.risky and (fit.insured_until is None or fit.insured_until < fit.service_day):
        reasons.append(Reason.NEEDS_INSURANCE)
    if fit.min_age is not None or fit.max_age is not None:
        age = age_on(fit.birth_date, fit.service_day) if fit.birth_date else None
        if (
            age is None
            or (fit.min_age is not None and age < fit.min_age)
            or (fit.max_age is not None and age > fit.max_age)
        ):
            reasons.append(Reason.AGE_NOT_SUITABLE)
    if not fit.available:
        reasons.append(Reason.UNAVAILABLE_IN_WINDOW)
    # Matching lists reasons in one fixed order; keep the same.
    order = list(Reason)
    return sorted(reasons, key=order.index)
