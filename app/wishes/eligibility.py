"""Whether a volunteer may take a wish offered for grab (抢单).

Hard constraints only, each failure a typed reason the volunteer or coordinator can read.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from app.geo import distance_m
from app.models import OrgUnit, Wish
from app.models.enums import VolunteerStatus


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


class Ineligible(StrEnum):
    SUSPENDED = "SUSPENDED"
    OUT_OF_RADIUS = "OUT_OF_RADIUS"
    SKILL_MISSING = "SKILL_MISSING"
    IS_REQUESTER = "IS_REQUESTER"  # nobody serves their own wish


def reach_m(volunteer: VolunteerLike, station: OrgUnit) -> int:
    """How far from a wish a volunteer may be: within both their radius and the station's area."""
    return min(volunteer.service_radius_m, station.service_radius_m)


def grab_ineligibility(
    *,
    volunteer: VolunteerLike,
    lacks_skill: bool,
    wish: Wish,
    station: OrgUnit,
) -> list[Ineligible]:
    reasons: list[Ineligible] = []
    if volunteer.user_id in (wish.requester_id, wish.proxy_id):
        reasons.append(Ineligible.IS_REQUESTER)
    if volunteer.status != VolunteerStatus.ACTIVE:
        reasons.append(Ineligible.SUSPENDED)
    if distance_m(volunteer.lat, volunteer.lng, wish.lat, wish.lng) > reach_m(volunteer, station):
        reasons.append(Ineligible.OUT_OF_RADIUS)
    if lacks_skill:
        reasons.append(Ineligible.SKILL_MISSING)
    return reasons
