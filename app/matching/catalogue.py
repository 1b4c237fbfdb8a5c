"""The catalogue as matching reads it, and what matching knows of a wish.

The catalogue's skills and categories are packed into 64-bit masks (`CatalogueBits`); with the
related skills of each category and the current season's affinities it is read once per process
and minute (`matching_catalogue`). A wish's facts (`WishFacts`: where, when, which skills and
qualifications it needs) are built from it, for one wish (`wish_facts`) or, without queries,
for many (`wish_facts_preloaded`, batch dispatch).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.cache import TTLCache
from app.config import current_settings
from app.models import Category, CategorySkill, OrgUnit, Skill, Wish, WishSkill
from app.seasons.service import affinities, current_season
from app.volunteers.availability import window_masks

from .scoring import WishFacts


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
