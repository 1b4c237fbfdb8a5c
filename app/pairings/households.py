"""Households in need and their categories: registered by the station's coordinators with the
household's consent, sealed at rest, shown masked, revealed with a log.

Every household gets a resident account by its phone (as a proxy order does): the consent is
recorded on it (`consents`, the method and the text version told), reveals are logged against
it (`access_log`, visible to the person in `GET /me/access-log`), and a wish ordered for the
household is the resident's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.users import find_or_create_resident
from app.models import (
    Category,
    Household,
    HouseholdCategory,
    HouseholdCategoryLink,
    OrgUnit,
    Pairing,
)
from app.models.enums import OrgLevel
from app.org_units.service import in_subtree, managed_unit
from app.pagination import PageParams
from app.pairings.errors import (
    HouseholdCategoryExists,
    HouseholdCategoryNotFound,
    HouseholdHasPairings,
    HouseholdNotFound,
    NotAStation,
    UnknownHouseholdCategory,
    UnknownServiceCategory,
)
from app.pairings.schemas import (
    HouseholdCategoryCreate,
    HouseholdCategoryUpdate,
    HouseholdCreate,
    HouseholdOut,
    HouseholdUpdate,
)
from app.pairings.state import PairingStatus
from app.privacy import consent
from app.privacy.masking import mask_phone, shown_name

# ---------------------------------------------------------------- categories


def categories(*, session: Session, active_only: bool = True) -> Sequence[HouseholdCategory]:
    query = select(HouseholdCategory).order_by(HouseholdCategory.sort_order, HouseholdCategory.code)
    if active_only:
        query = query.where(HouseholdCategory.is_active.is_(True))
    return session.scalars(query).all()


def _check_service_category(session: Session, code: str | None) -> None:
    if code is None:
        return
    found = session.scalar(
        select(Category.code).where(Category.code == code, Category.is_active.is_(True))
    )
    if found is None:
        raise UnknownServiceCategory(details={"unknown": {"service_category_code": [code]}})


def create_category(*, session: Session, body: HouseholdCategoryCreate) -> HouseholdCategory:
    _check_service_category(session, body.service_category_code)
    taken = session.scalar(
        select(HouseholdCategory.code).where(
            (HouseholdCategory.code == body.code) | (HouseholdCategory.name == body.name)
        )
    )
    if taken is not None:
        raise HouseholdCategoryExists(details={"code": body.code})
    row = HouseholdCategory(**body.model_dump(), is_active=True)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise HouseholdCategoryExists(details={"code": body.code}) from None
    return row


def update_category(
    *, session: Session, code: str, body: HouseholdCategoryUpdate
) -> HouseholdCategory:
    row = session.get(HouseholdCategory, code)
    if row is None:
        raise HouseholdCategoryNotFound()
    values = body.model_dump(exclude_unset=True)
    if "service_category_code" in values:
        _check_service_category(session, values["service_category_code"])
    for key in ("name", "sort_order", "is_active"):
        if values.get(key, None) is None:
            values.pop(key, None)
    if values.get("description") is None:
        values.pop("description", None)
    if "name" in values:
        taken = session.scalar(
            select(HouseholdCategory.code).where(
                HouseholdCategory.name == values["name"], HouseholdCategory.code != code
            )
        )
        if taken is not None:
            raise HouseholdCategoryExists(details={"name": values["name"]})
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    return row


def _check_categories(session: Session, codes: list[str]) -> None:
    found = set(
        session.scalars(
            select(HouseholdCategory.code).where(
                HouseholdCategory.code.in_(codes), HouseholdCategory.is_active.is_(True)
            )
        )
    )
    absent = [c for c in codes if c not in found]
    if absent:
        raise UnknownHouseholdCategory(details={"unknown": {"category_codes": absent}})


def _set_categories(session: Session, household_id: int, codes: list[str]) -> None:
    session.execute(
        delete(HouseholdCategoryLink).where(HouseholdCategoryLink.household_id == household_id),
        execution_options={"synchronize_session": False},
    )
    session.add_all(
        HouseholdCategoryLink(household_id=household_id, category_code=c) for c in codes
    )
    session.flush()


# ---------------------------------------------------------------- households


@dataclass(frozen=True)
class Seen:
    """A household with what its views need: its station and its categories (in order)."""

    household: Household
    station: OrgUnit
    categories: tuple[HouseholdCategory, ...]

    @property
    def id(self) -> int:
        return self.household.id

    @property
    def category_codes(self) -> list[str]:
        return [c.code for c in self.categories]

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]

    @property
    def service_category(self) -> str | None:
        """The service category of the household's first category that names one."""
        return next(
            (c.service_category_code for c in self.categories if c.service_category_code), None
        )


def categories_of(
    session: Session, household_ids: Sequence[int]
) -> dict[int, tuple[HouseholdCategory, ...]]:
    out: dict[int, list[HouseholdCategory]] = {i: [] for i in household_ids}
    if household_ids:
        rows = session.execute(
            select(HouseholdCategoryLink.household_id, HouseholdCategory)
            .join(HouseholdCategory, HouseholdCategory.code == HouseholdCategoryLink.category_code)
            .where(HouseholdCategoryLink.household_id.in_(household_ids))
            .order_by(HouseholdCategory.sort_order, HouseholdCategory.code)
        ).all()
        for household_id, category in rows:
            out[household_id].append(category)
    return {i: tuple(cs) for i, cs in out.items()}


def load(session: Session, household_id: int) -> Seen | None:
    found = session.execute(
        select(Household, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Household.station_id)
        .where(Household.id == household_id)
    ).one_or_none()
    if found is None:
        return None
    return Seen(found[0], found[1], categories_of(session, [household_id])[household_id])


def managed(session: Session, *, household_id: int, actor: Principal) -> Seen:
    """A household of a station the caller manages; 404 otherwise (not probed from outside)."""
    seen = load(session, household_id)
    if seen is None or not actor.manages(seen.station.path):
        raise HouseholdNotFound()
    return seen


def out(seen: Seen) -> HouseholdOut:
    h = seen.household
    return HouseholdOut(
        id=h.id,
        station_id=h.station_id,
        station_name=seen.station.name,
        head_name=shown_name(h.head_name),
        phone=mask_phone(h.phone),
        coarse_address=h.coarse_address,
        located=h.exact_point is not None,
        category_codes=seen.category_codes,
        category_names=seen.category_names,
        status=h.status,
        consent_method=h.consent_method,
        created_at=h.created_at,
    )


def create(
    *, session: Session, body: HouseholdCreate, actor: Principal, now: datetime
) -> Household:
    station = managed_unit(session=session, actor=actor, unit_id=body.station_id)
    if station.level != OrgLevel.VILLAGE:
        raise NotAStation()
    _check_categories(session, body.category_codes)
    consent.check_version(session, consent.ConsentPurpose.PERSONAL_INFO, body.consent.version, now)
    resident = find_or_create_resident(session=session, phone=body.phone, name=body.head_name)
    consent.grant(
        session,
        user_id=resident.id,
        purpose=consent.ConsentPurpose.PERSONAL_INFO,
        version=body.consent.version,
        method=consent.Method(body.consent.method),
        recorded_by_id=actor.user_id,
        now=now,
    )
    household = Household(
        station_id=station.id,
        resident_id=resident.id,
        head_name=body.head_name,
        phone=body.phone,
        full_address=body.full_address,
        exact_point=(body.lat, body.lng) if body.lat is not None and body.lng is not None else None,
        coarse_address=body.coarse_address,
        consent_method=body.consent.method,
        consent_recorded_by_id=actor.user_id,
        consent_at=now,
        status="active",
        created_by_id=actor.user_id,
    )
    session.add(household)
    session.flush()
    _set_categories(session, household.id, body.category_codes)
    return household


def update(*, session: Session, household_id: int, body: HouseholdUpdate, actor: Principal) -> Seen:
    seen = managed(session, household_id=household_id, actor=actor)
    h = seen.household
    values = body.model_dump(exclude_unset=True, exclude={"coord_system"})
    codes = values.pop("category_codes", None)
    if codes is not None:
        _check_categories(session, codes)
        _set_categories(session, h.id, codes)
    lat, lng = values.pop("lat", None), values.pop("lng", None)
    if lat is not None and lng is not None:
        h.exact_point = (lat, lng)
    for key in ("head_name", "phone", "full_address", "coarse_address"):
        if values.get(key) is not None:
            setattr(h, key, values[key])
    session.flush()
    return managed(session, household_id=household_id, actor=actor)


def close(*, session: Session, household_id: int, actor: Principal) -> Seen:
    seen = managed(session, household_id=household_id, actor=actor)
    ongoing = session.scalar(
        select(Pairing.id)
        .where(
            (Pairing.household_id == household_id) | (Pairing.helper_household_id == household_id),
            Pairing.status != PairingStatus.ENDED,
        )
        .limit(1)
    )
    if ongoing is not None:
        raise HouseholdHasPairings(details={"pairing_id": ongoing})
    seen.household.status = "closed"
    session.flush()
    return seen


def listed(
    *,
    session: Session,
    actor: Principal,
    unit_id: int,
    category_code: str | None,
    status: str | None,
    params: PageParams,
) -> list[Seen]:
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    query = (
        select(Household, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Household.station_id)
        .where(in_subtree(OrgUnit.path, unit.path))
        .order_by(Household.id)
        .limit(params.limit + 1)
    )
    if params.after_id is not None:
        query = query.where(Household.id > params.after_id)
    if status is not None:
        query = query.where(Household.status == status)
    if category_code is not None:
        query = query.where(
            Household.id.in_(
                select(HouseholdCategoryLink.household_id).where(
                    HouseholdCategoryLink.category_code == category_code
                )
            )
        )
    rows = session.execute(query).all()
    cats = categories_of(session, [h.id for h, _ in rows])
    return [Seen(h, station, cats[h.id]) for h, station in rows]
