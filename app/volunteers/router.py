from __future__ import annotations

from typing import Annotated

from fastapi import Query

from app.auth.deps import CurrentUser, StaffUser, VolunteerUser
from app.auth.separation import refuse_self
from app.db import SessionDep
from app.models.enums import VolunteerStatus
from app.pagination import Page, PageDep, make_page
from app.routing import make_router
from app.schemas import Code, Id, IdPath
from app.volunteers import service
from app.volunteers.schemas import (
    InsuranceIn,
    QualificationIn,
    SuspendIn,
    VolunteerOut,
    VolunteerRegister,
    VolunteerUpdate,
)

router = make_router(tags=["志愿者"])


@router.post(
    "/me/volunteer", response_model=VolunteerOut, status_code=201, summary="注册成为志愿者"
)
def register(body: VolunteerRegister, session: SessionDep, actor: CurrentUser) -> VolunteerOut:
    volunteer = service.register(session=session, actor=actor, body=body)
    return service.volunteer_out(session, volunteer)


@router.get("/me/volunteer", response_model=VolunteerOut, summary="我的志愿者资料")
def my_profile(session: SessionDep, actor: VolunteerUser) -> VolunteerOut:
    assert actor.volunteer_id is not None
    volunteer, station = service.get_volunteer(session=session, volunteer_id=actor.volunteer_id)
    return service.volunteer_out(session, volunteer, station)


@router.patch("/me/volunteer", response_model=VolunteerOut, summary="修改我的志愿者资料")
def update_profile(
    body: VolunteerUpdate, session: SessionDep, actor: VolunteerUser
) -> VolunteerOut:
    assert actor.volunteer_id is not None
    volunteer, _ = service.get_volunteer(session=session, volunteer_id=actor.volunteer_id)
    service.update(session=session, volunteer=volunteer, body=body)
    return service.volunteer_out(session, volunteer)


@router.get("/volunteers", response_model=Page[VolunteerOut], summary="协调员：辖区内的志愿者")
def list_volunteers(
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    station_id: Annotated[Id | None, Query()] = None,
    skill_code: Annotated[Code | None, Query()] = None,
    status: VolunteerStatus | None = None,
) -> Page[VolunteerOut]:
    rows = service.staff_list(
        session=session,
        actor=actor,
        station_id=station_id,
        skill_code=skill_code,
        status=status,
        after_id=page.after_id,
        limit=page.limit,
    )
    return make_page(rows, page, lambda v: service.volunteer_out(session, v))


@router.get("/volunteers/{volunteer_id}", response_model=VolunteerOut, summary="志愿者详情")
def get_volunteer(volunteer_id: IdPath, session: SessionDep, actor: CurrentUser) -> VolunteerOut:
    volunteer, station = service.visible_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    return service.volunteer_out(session, volunteer, station)


@router.post(
    "/volunteers/{volunteer_id}/suspend",
    response_model=VolunteerOut,
    summary="协调员：暂停志愿者资格",
)
def suspend(
    volunteer_id: IdPath, body: SuspendIn, session: SessionDep, actor: StaffUser
) -> VolunteerOut:
    volunteer, station = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    refuse_self(session, actor, action="suspend_volunteer", user_id=volunteer.user_id)
    service.set_status(
        session=session, volunteer=volunteer, status=VolunteerStatus.SUSPENDED, reason=body.reason
    )
    return service.volunteer_out(session, volunteer, station)


@router.post(
    "/volunteers/{volunteer_id}/reinstate",
    response_model=VolunteerOut,
    summary="协调员：恢复志愿者资格",
)
def reinstate(volunteer_id: IdPath, session: SessionDep, actor: StaffUser) -> VolunteerOut:
    volunteer, station = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    refuse_self(session, actor, action="reinstate_volunteer", user_id=volunteer.user_id)
    service.set_status(
        session=session, volunteer=volunteer, status=VolunteerStatus.ACTIVE, reason=None
    )
    return service.volunteer_out(session, volunteer, station)


@router.put(
    "/volunteers/{volunteer_id}/qualification",
    response_model=VolunteerOut,
    summary="协调员：登记志愿者的技能资质及有效期",
)
def record_qualification(
    volunteer_id: IdPath, body: QualificationIn, session: SessionDep, actor: StaffUser
) -> VolunteerOut:
    volunteer, station = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    refuse_self(session, actor, action="record_qualification", user_id=volunteer.user_id)
    service.record_qualification(session=session, volunteer=volunteer, body=body)
    return service.volunteer_out(session, volunteer, station)


@router.put(
    "/volunteers/{volunteer_id}/insurance",
    response_model=VolunteerOut,
    summary="协调员：登记志愿者的意外保险有效期",
)
def record_insurance(
    volunteer_id: IdPath, body: InsuranceIn, session: SessionDep, actor: StaffUser
) -> VolunteerOut:
    volunteer, station = service.managed_volunteer(
        session=session, actor=actor, volunteer_id=volunteer_id
    )
    refuse_self(session, actor, action="record_insurance", user_id=volunteer.user_id)
    service.record_insurance(session=session, volunteer=volunteer, body=body)
    return service.volunteer_out(session, volunteer, station)
