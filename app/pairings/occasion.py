"""A visit as an `Occasion` of service: how its records are checked, confirmed and told.

The fence is around the household's exact place, the window is the visit's planned one (from
its start for the pairing's agreed length), the station recording it is the pairing's, and the
household's resident account is on the served side. Registered for kind "visit" on import
(app/wiring.py imports this module in every process that confirms records).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.attendance.occasions import Occasion, register
from app.models import Attendance, Household, OrgUnit, Pairing, PairingVisit
from app.pairings import households
from app.privacy.masking import shown_name


def title_of(household: Household) -> str:
    return f"结对走访：{shown_name(household.head_name)}家"


def of_visit(
    session: Session,
    *,
    visit_id: int,
    pairing: Pairing,
    household: Household,
    station: OrgUnit,
    starts_at: datetime,
    ends_at: datetime,
) -> Occasion:
    category = households.categories_of(session, [household.id])[household.id]
    return Occasion(
        kind="visit",
        subject_id=visit_id,
        title=title_of(household),
        category_code=next(
            (c.service_category_code for c in category if c.service_category_code), None
        ),
        station=station,
        starts_at=starts_at,
        ends_at=ends_at,
        point=household.exact_point,
        requester_ids=(household.resident_id,) if household.resident_id is not None else (),
        parent_id=pairing.id,
    )


def load_visit(
    session: Session, visit_id: int
) -> tuple[PairingVisit, Pairing, Household, OrgUnit] | None:
    found = session.execute(
        select(PairingVisit, Pairing, Household, OrgUnit)
        .join(Pairing, Pairing.id == PairingVisit.pairing_id)
        .join(Household, Household.id == Pairing.household_id)
        .join(OrgUnit, OrgUnit.id == Pairing.station_id)
        .where(PairingVisit.id == visit_id)
    ).one_or_none()
    return (found[0], found[1], found[2], found[3]) if found is not None else None


def occasion_of_visit(session: Session, visit_id: int) -> Occasion | None:
    found = load_visit(session, visit_id)
    if found is None:
        return None
    visit, pairing, household, station = found
    return of_visit(
        session,
        visit_id=visit.id,
        pairing=pairing,
        household=household,
        station=station,
        starts_at=visit.started_at,
        ends_at=visit.planned_end_at,
    )


def _loader(session: Session, row: Attendance) -> Occasion | None:
    return occasion_of_visit(session, row.visit_id) if row.visit_id is not None else None


register("visit", _loader)
