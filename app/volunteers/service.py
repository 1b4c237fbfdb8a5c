"""Volunteer profiles: registration, updates, suspension, and the coordinator's lists."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, false, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from app import clock
from app.auth.cache import forget_principal
from app.auth.principal import Principal
from app.auth.sessions import RevokeReason, end_user_sessions
from app.auth.users import ensure_role
from app.errors import BadRequest, Conflict, NotFound
from app.models import (
    Category,
    OrgUnit,
    Skill,
    User,
    Volunteer,
    VolunteerPreference,
    VolunteerSkill,
    Wish,
)
from app.models.enums import TASK_STATUSES, AccountRole, OrgLevel, VolunteerStatus
from app.org_units.service import in_subtree
from app.privacy.masking import age_band, mask_id_number, mask_phone
from app.volunteers import home
from app.volunteers.availability import masks_to_slots, slots_to_masks
from app.volunteers.schemas import (
    AvailabilitySlot,
    InsuranceIn,
    QualificationIn,
    StationBrief,
    VolunteerOut,
    VolunteerRegister,
    VolunteerUpdate,
)


class VolunteerNotFound(NotFound):
    code = "VOLUNTEER_NOT_FOUND"
    message = "志愿者不存在"


class AlreadyVolunteer(Conflict):
    code = "ALREADY_VOLUNTEER"
    message = "您已注册为志愿者"


class InvalidHomeStation(BadRequest):
    code = "INVALID_HOME_STATION"
    message = "所属站点必须是启用中的村(社区)实践站"


class UnknownCategory(BadRequest):
    code = "UNKNOWN_CATEGORY"
    message = "所选服务类别不存在或已停用"


class UnknownSkill(BadRequest):
    code = "UNKNOWN_SKILL"
    message = "所选技能不存在或已停用"


def _check_station(session: Session, station_id: int) -> OrgUnit:
    station = session.get(OrgUnit, station_id)
    if station is None or station.level != OrgLevel.VILLAGE or not station.is_active:
        raise InvalidHomeStation()
    return station


def _set_skills(session: Session, volunteer_id: int, codes: list[str]) -> None:
    """Replace the volunteer's skills; qualifications recorded for skills kept stay."""
    codes = list(dict.fromkeys(codes))
    if codes:
        found = set(
            session.scalars(
                select(Skill.code).where(Skill.code.in_(codes), Skill.is_active.is_(True))
            )
        )
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise UnknownSkill(details={"unknown": unknown})
    held = set(
        session.scalars(
            select(VolunteerSkill.skill_code).where(VolunteerSkill.volunteer_id == volunteer_id)
        )
    )
    dropped = held - set(codes)
    if dropped:
        session.execute(
            delete(VolunteerSkill).where(
                VolunteerSkill.volunteer_id == volunteer_id,
                VolunteerSkill.skill_code.in_(dropped),
            )
        )
    for code in codes:
        if code not in held:
            session.add(VolunteerSkill(volunteer_id=volunteer_id, skill_code=code))
    session.flush()
    _refresh_masks(session, volunteer_id)


def _set_preferences(session: Session, volunteer_id: int, codes: list[str]) -> None:
    codes = list(dict.fromkeys(codes))
    if codes:
        found = set(
            session.scalars(
                select(Category.code).where(Category.code.in_(codes), Category.is_active.is_(True))
            )
        )
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise UnknownCategory(details={"unknown": unknown})
    session.execute(
        delete(VolunteerPreference).where(VolunteerPreference.volunteer_id == volunteer_id)
    )
    for code in codes:
        session.add(VolunteerPreference(volunteer_id=volunteer_id, category_code=code))
    session.flush()
    _refresh_masks(session, volunteer_id)


def _refresh_masks(session: Session, volunteer_id: int) -> None:
    """Recompute the volunteer's skill and preference masks from their rows (matching reads
    the masks; the rows are the record)."""
    skill_bits = 0
    for bit in session.scalars(
        select(Skill.bit)
        .join(VolunteerSkill, VolunteerSkill.skill_code == Skill.code)
        .where(VolunteerSkill.volunteer_id == volunteer_id)
    ):
        skill_bits |= 1 << bit
    preference_bits = 0
    for bit in session.scalars(
        select(Category.bit)
        .join(VolunteerPreference, VolunteerPreference.category_code == Category.code)
        .where(VolunteerPreference.volunteer_id == volunteer_id)
    ):
        preference_bits |= 1 << bit
    session.execute(
        sql_update(Volunteer)
        .where(Volunteer.id == volunteer_id)
        .values(skill_bits=skill_bits, preference_bits=preference_bits)
    )


def _set_availability(volunteer: Volunteer, slots: list[AvailabilitySlot]) -> None:
    masks = slots_to_masks((slot.weekday, slot.start, slot.end) for slot in slots)
    for day, mask in enumerate(masks):
        setattr(volunteer, f"avail_{day}", mask)


def register(*, session: Session, actor: Principal, body: VolunteerRegister) -> Volunteer:
    if session.scalar(select(Volunteer.id).where(Volunteer.user_id == actor.user_id)) is not None:
        raise AlreadyVolunteer()
    _check_station(session, body.home_station_id)
    volunteer = Volunteer(
        user_id=actor.user_id,
        home_station_id=body.home_station_id,
        service_radius_m=body.service_radius_m,
        max_concurrent_tasks=body.max_concurrent_tasks,
        birth_date=body.birth_date,
        id_number=body.id_number,
        status=VolunteerStatus.ACTIVE,
    )
    _set_availability(volunteer, body.weekly_availability)
    home.set_home(session, volunteer=volunteer, lat=body.lat, lng=body.lng, actor_id=actor.user_id)
    _set_skills(session, volunteer.id, body.skill_codes)
    _set_preferences(session, volunteer.id, body.preferred_category_codes)
    ensure_role(session=session, user_id=actor.user_id, role=AccountRole.VOLUNTEER)
    forget_principal(session, actor.user_id)
    return volunteer


def update(
    *, session: Session, volunteer: Volunteer, body: VolunteerUpdate, actor_id: int | None
) -> Volunteer:
    values = body.model_dump(exclude_unset=True)
    if body.lat is not None and body.lng is not None:
        # First: a move over the limit refuses the whole update.
        home.set_home(session, volunteer=volunteer, lat=body.lat, lng=body.lng, actor_id=actor_id)
    if body.home_station_id is not None:
        _check_station(session, body.home_station_id)
    if "skill_codes" in values:
        _set_skills(session, volunteer.id, body.skill_codes or [])
    if "preferred_category_codes" in values:
        _set_preferences(session, volunteer.id, body.preferred_category_codes or [])
    for name in ("home_station_id", "service_radius_m", "max_concurrent_tasks"):
        if values.get(name) is not None:
            setattr(volunteer, name, values[name])
    if "birth_date" in values:
        volunteer.birth_date = body.birth_date
    if "id_number" in values:
        volunteer.id_number = body.id_number
    if body.weekly_availability is not None:
        _set_availability(volunteer, body.weekly_availability)
    session.flush()
    forget_principal(session, volunteer.user_id)
    return volunteer


def record_qualification(
    *, session: Session, volunteer: Volunteer, body: QualificationIn
) -> Volunteer:
    skill = session.get(Skill, body.skill_code)
    if skill is None or not skill.is_active:
        raise UnknownSkill(details={"unknown": [body.skill_code]})
    held = session.get(VolunteerSkill, (volunteer.id, body.skill_code))
    if held is None:
        held = VolunteerSkill(volunteer_id=volunteer.id, skill_code=body.skill_code)
        session.add(held)
    held.qualified_until = body.qualified_until
    session.flush()
    _refresh_masks(session, volunteer.id)
    return volunteer


def record_insurance(*, session: Session, volunteer: Volunteer, body: InsuranceIn) -> Volunteer:
    volunteer.insured_until = body.insured_until
    session.flush()
    return volunteer


def get_volunteer(*, session: Session, volunteer_id: int) -> tuple[Volunteer, OrgUnit]:
    row = session.execute(
        select(Volunteer, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Volunteer.home_station_id)
        .where(Volunteer.id == volunteer_id)
    ).one_or_none()
    if row is None:
        raise VolunteerNotFound()
    return row[0], row[1]


def lock_volunteer(session: Session, volunteer_id: int) -> None:
    """Lock the volunteer's row until the transaction ends. The points ledger takes it before
    reading a balance and writing an entry that lowers it, so two such writes never interleave.

    PostgreSQL: `SELECT … FOR UPDATE`. SQLite drops FOR UPDATE; there the writing transaction
    already holds the database's write lock (`BEGIN IMMEDIATE`, see app/db.py)."""
    found = session.scalar(
        select(Volunteer.id).where(Volunteer.id == volunteer_id).with_for_update()
    )
    if found is None:
        raise VolunteerNotFound()


def visible_volunteer(
    *, session: Session, actor: Principal, volunteer_id: int
) -> tuple[Volunteer, OrgUnit]:
    """Staff see volunteers whose home station is in their subtree; others only themselves."""
    volunteer, station = get_volunteer(session=session, volunteer_id=volunteer_id)
    if volunteer.id == actor.volunteer_id or actor.manages(station.path):
        return volunteer, station
    raise VolunteerNotFound()


def managed_volunteer(
    *, session: Session, actor: Principal, volunteer_id: int
) -> tuple[Volunteer, OrgUnit]:
    """A volunteer whose home station the caller manages; 404 otherwise, so that volunteers
    outside one's subtree cannot be probed."""
    volunteer, station = get_volunteer(session=session, volunteer_id=volunteer_id)
    if not actor.manages(station.path):
        raise VolunteerNotFound()
    return volunteer, station


def set_status(
    *, session: Session, volunteer: Volunteer, status: VolunteerStatus, reason: str | None
) -> Volunteer:
    volunteer.status = status
    volunteer.suspended_reason = reason if status == VolunteerStatus.SUSPENDED else None
    session.flush()
    if status == VolunteerStatus.SUSPENDED:
        # Suspension ends the volunteer's sessions in every process.
        end_user_sessions(session=session, user_id=volunteer.user_id, reason=RevokeReason.SUSPENDED)
    else:
        forget_principal(session, volunteer.user_id)
    return volunteer


def staff_list(
    *,
    session: Session,
    actor: Principal,
    station_id: int | None,
    skill_code: str | None,
    status: VolunteerStatus | None,
    after_id: int | None,
    limit: int,
    name: str | None = None,
) -> Sequence[Volunteer]:
    query = select(Volunteer).join(OrgUnit, OrgUnit.id == Volunteer.home_station_id)
    if not actor.is_admin:
        if not actor.coordinator_units:
            query = query.where(false())
        else:
            query = query.where(
                or_(*(in_subtree(OrgUnit.path, u.path) for u in actor.coordinator_units))
            )
    if station_id is not None:
        path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == station_id))
        if path is None:
            return []
        query = query.where(in_subtree(OrgUnit.path, path))
    if skill_code is not None:
        query = query.where(
            Volunteer.id.in_(
                select(VolunteerSkill.volunteer_id).where(VolunteerSkill.skill_code == skill_code)
            )
        )
    if status is not None:
        query = query.where(Volunteer.status == status)
    if name is not None:
        # Names are kept in the clear (phones and ID numbers are sealed); `%` and `_` typed
        # into the search match themselves.
        query = query.where(
            Volunteer.user_id.in_(
                select(User.id).where(User.name.contains(name.strip(), autoescape=True))
            )
        )
    if after_id is not None:
        query = query.where(Volunteer.id > after_id)
    return session.scalars(query.order_by(Volunteer.id).limit(limit + 1)).all()


def volunteer_out(
    session: Session, volunteer: Volunteer, station: OrgUnit | None = None, *, viewer_id: int
) -> VolunteerOut:
    """The profile as `viewer_id` sees it: the volunteer sees their own in full; coordinators
    see the phone and ID number masked, an age band for the birth date and the home to about
    100 m (`POST /volunteers/{id}/reveal` shows the rest, and logs it)."""
    own = volunteer.user_id == viewer_id
    if station is None:
        station = session.get(OrgUnit, volunteer.home_station_id)
        assert station is not None
    user = session.get(User, volunteer.user_id)
    assert user is not None
    skill_rows = session.execute(
        select(VolunteerSkill.skill_code, VolunteerSkill.qualified_until)
        .where(VolunteerSkill.volunteer_id == volunteer.id)
        .order_by(VolunteerSkill.skill_code)
    ).all()
    preferences = sorted(
        session.scalars(
            select(VolunteerPreference.category_code).where(
                VolunteerPreference.volunteer_id == volunteer.id
            )
        )
    )
    active = session.scalar(
        select(func.count())
        .select_from(Wish)
        .where(Wish.assignee_id == volunteer.id, Wish.status.in_(TASK_STATUSES))
    )
    lat, lng = (
        volunteer.home_point
        if own and volunteer.home_point is not None
        else (volunteer.lat, volunteer.lng)
    )
    return VolunteerOut(
        id=volunteer.id,
        user_id=volunteer.user_id,
        name=user.name,
        phone=user.phone if own else mask_phone(user.phone),
        home_station=StationBrief(id=station.id, name=station.name),
        lat=lat,
        lng=lng,
        service_radius_m=volunteer.service_radius_m,
        skill_codes=[code for code, _ in skill_rows],
        qualifications={code: until for code, until in skill_rows if until is not None},
        preferred_category_codes=preferences,
        insured_until=volunteer.insured_until,
        weekly_availability=[
            AvailabilitySlot(weekday=day, start=start, end=end)
            for day, start, end in masks_to_slots(volunteer.availability_masks)
        ],
        max_concurrent_tasks=volunteer.max_concurrent_tasks,
        active_tasks=active or 0,
        status=volunteer.status,
        suspended_reason=volunteer.suspended_reason,
        birth_date=volunteer.birth_date if own else None,
        age_band=age_band(volunteer.birth_date, clock.local_day(clock.now())),
        id_number=volunteer.id_number if own else mask_id_number(volunteer.id_number),
        masked=not own,
        completed_count=volunteer.completed_count,
        withdrawn_count=volunteer.withdrawn_count,
        released_count=volunteer.released_count,
        created_at=volunteer.created_at,
    )
