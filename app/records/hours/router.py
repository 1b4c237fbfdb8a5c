"""Endpoints of service records: team, confirmation, the hours ledger, ratings back,
review flags and export (the units' record rules: app/rules/router.py). Check-in and
check-out are the wish's verbs (app/wishes/router.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Query, Response
from sqlalchemy import select

from app import clock
from app.attendance.schemas import AttendanceOut
from app.attendance.views import attendance_out, attendances_out
from app.auth.deps import CurrentUser, StaffUser, VolunteerUser
from app.auth.principal import Principal
from app.db import SessionDep
from app.models import Attendance, HoursEntry, OrgUnit
from app.models.enums import AttendanceStatus
from app.org_units.service import in_subtree, managed_unit
from app.pagination import Page, PageDep, make_page
from app.privacy import access_log
from app.records import ratings
from app.records.hours import export, ledger, service
from app.records.hours.schemas import (
    ConfirmIn,
    CorrectionIn,
    CorrectionOut,
    FlagOut,
    HoursEntryOut,
    HoursSummary,
    RecordEntryIn,
    RejectIn,
)
from app.routing import make_router
from app.schemas import IdPath, hours_of
from app.volunteers.service import get_volunteer, managed_volunteer, visible_volunteer

router = make_router(tags=["服务记录与激励"])


def entry_out(entry: HoursEntry, unit: OrgUnit) -> HoursEntryOut:
    return HoursEntryOut(
        id=entry.id,
        volunteer_id=entry.volunteer_id,
        category=entry.category,
        unit_id=entry.unit_id,
        unit_name=unit.name,
        wish_id=entry.wish_id,
        attendance_id=entry.attendance_id,
        content=entry.content,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        hours=hours_of(entry.minutes),
        verification=entry.verification,
        confirmed_by_id=entry.confirmed_by_id,
        reverses_id=entry.reverses_id,
        replaces_id=entry.replaces_id,
        reason=entry.reason,
        approved_by_id=entry.approved_by_id,
        created_at=entry.created_at,
    )


@router.post(
    "/service-records/{record_id}/confirm",
    response_model=AttendanceOut,
    summary="确认服务时长（按本单位规则由协调员或点单人确认，只计一次）",
)
def confirm_record(
    record_id: IdPath, session: SessionDep, actor: CurrentUser, body: ConfirmIn | None = None
) -> AttendanceOut:
    """确认一条已签退的服务记录，按本单位的记录规则计入服务时长（取整、封顶，实际时长不足计划
    比例时不计）。由谁确认看单位规则 `confirm_by`：辖区协调员、点单人或两者皆可；不得确认本人
    的记录（SELF_APPROVAL），不在规则许可之列返回 403 CONFIRMER_NOT_ALLOWED。每条记录只入账
    一次：重复确认返回 409 RECORD_ALREADY_CONFIRMED，未签退的返回 409 RECORD_NOT_CHECKED_OUT；
    看不到该记录返回 404 SERVICE_RECORD_NOT_FOUND。可带 Idempotency-Key 安全重试。"""
    ctx, _entry = service.confirm(
        session, attendance_id=record_id, actor=actor, body=body or ConfirmIn(), now=clock.now()
    )
    return attendance_out(session, ctx.row)


@router.post(
    "/service-records/{record_id}/reject",
    response_model=AttendanceOut,
    summary="驳回服务记录（不计时长，须说明理由）",
)
def reject_record(
    record_id: IdPath, body: RejectIn, session: SessionDep, actor: StaffUser
) -> AttendanceOut:
    """辖区协调员驳回一条已签退的服务记录（如可疑的补传），须说明理由；该记录不计时长，
    志愿者会收到通知。已确认或已驳回的返回 409 RECORD_ALREADY_CONFIRMED；不得驳回本人的记录。"""
    ctx = service.reject(
        session, attendance_id=record_id, actor=actor, reason=body.reason, now=clock.now()
    )
    return attendance_out(session, ctx.row)


@router.get(
    "/org-units/{unit_id}/service-records",
    response_model=Page[AttendanceOut],
    summary="协调员：辖区内的服务记录（默认待确认）",
)
def unit_records(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    status: AttendanceStatus = AttendanceStatus.CHECKED_OUT,
    flagged: bool = False,
) -> Page[AttendanceOut]:
    """辖区协调员按状态列出服务记录（默认已签退、待确认的），按编号分页；`flagged=true` 只列
    代签或离线补传的记录，供复核。单位不在本人辖区返回 404。"""
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    query = (
        select(Attendance)
        .join(OrgUnit, OrgUnit.id == Attendance.unit_id)
        .where(in_subtree(OrgUnit.path, unit.path), Attendance.status == status)
    )
    if flagged:
        query = query.where(Attendance.manual | Attendance.late_sync)
    if page.after_id is not None:
        query = query.where(Attendance.id > page.after_id)
    rows = list(session.scalars(query.order_by(Attendance.id).limit(page.limit + 1)))
    shown = {out.id: out for out in attendances_out(session, rows[: page.limit])}
    return make_page(rows, page, lambda row: shown[row.id])


@router.get(
    "/org-units/{unit_id}/record-flags",
    response_model=list[FlagOut],
    summary="协调员：需要复核的记录（代签、补传、异常评价、同秒签到）",
)
def record_flags(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> list[FlagOut]:
    """辖区协调员查看近 `days` 天需要复核的情况：代签、离线补传、签退后很快给出的满分评价、
    同一秒内的多次签到。只是提示，不改变任何记录。"""
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    return ratings.flags(session, unit, clock.now() - timedelta(days=days))


# ---------------------------------------------------------------- the hours ledger


def _summary(session: SessionDep, volunteer_id: int) -> HoursSummary:
    rows = ledger.entries(session, volunteer_id)
    sums = ledger.sums(rows)
    return HoursSummary(
        volunteer_id=volunteer_id,
        service_hours=hours_of(sums.get("service", 0)),
        training_hours=hours_of(sums.get("training", 0)),
        entries=[entry_out(e, u) for e, u in rows],
    )


@router.get("/me/hours", response_model=HoursSummary, summary="我的志愿服务记录与累计时长")
def my_hours(session: SessionDep, actor: VolunteerUser) -> HoursSummary:
    """志愿者本人的服务记录台账与累计服务时长、培训时长（只计已确认的记录；更正以冲销和
    新记录体现，原记录保留）。"""
    assert actor.volunteer_id is not None
    return _summary(session, actor.volunteer_id)


@router.get(
    "/volunteers/{volunteer_id}/hours",
    response_model=HoursSummary,
    summary="志愿者的服务记录与累计时长",
)
def volunteer_hours(volunteer_id: IdPath, session: SessionDep, actor: CurrentUser) -> HoursSummary:
    """某位志愿者的服务记录台账与累计时长：本人、其所属站点及上级单位的协调员、管理员可见，
    其他人返回 404。"""
    volunteer, _ = visible_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    return _summary(session, volunteer.id)


@router.post(
    "/volunteers/{volunteer_id}/record-entries",
    response_model=HoursEntryOut,
    status_code=201,
    summary="协调员：登记培训、表彰或评价记录",
)
def add_record_entry(
    volunteer_id: IdPath, body: RecordEntryIn, session: SessionDep, actor: StaffUser
) -> HoursEntryOut:
    """辖区协调员为志愿者登记培训（可计培训时长）、表彰或评价记录；服务时长只能经签到签退
    和确认产生。不得为本人登记。"""
    volunteer, station = managed_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    entry = service.add_entry(
        session, volunteer=volunteer, station=station, actor=actor, body=body, now=clock.now()
    )
    unit = session.get(OrgUnit, entry.unit_id)
    assert unit is not None
    return entry_out(entry, unit)


@router.post(
    "/hours-entries/{entry_id}/corrections",
    response_model=CorrectionOut,
    status_code=201,
    summary="协调员：更正记录（冲销原记录，可登记更正后的时长；原记录不修改、不删除）",
)
def correct_entry(
    entry_id: IdPath, body: CorrectionIn, session: SessionDep, actor: StaffUser
) -> CorrectionOut:
    """辖区协调员更正一条台账记录：写一条冲销记录，可再登记更正后的时长；原记录不修改、
    不删除，返回冲销、更正记录和更正后的累计服务时长。已冲销的记录不能再更正（409
    ENTRY_ALREADY_REVERSED），冲销记录本身也不能更正（409 REVERSAL_NOT_REVERSIBLE）；
    不得更正本人的记录。"""
    reversal, replacement = service.correct(
        session, entry_id=entry_id, actor=actor, body=body, now=clock.now()
    )
    unit = session.get(OrgUnit, reversal.unit_id)
    assert unit is not None
    return CorrectionOut(
        reversal=entry_out(reversal, unit),
        replacement=entry_out(replacement, unit) if replacement is not None else None,
        service_hours=hours_of(ledger.totals(session, reversal.volunteer_id).get("service", 0)),
    )


def _export(session: SessionDep, volunteer_id: int, fmt: str, actor: Principal) -> Response:
    volunteer, _ = get_volunteer(session=session, volunteer_id=volunteer_id)
    data = export.record(session, volunteer)
    if fmt == "json":
        # The basic information leaves the service in full: a reveal like any other.
        basic = data["basic"]
        access_log.record(
            session,
            actor_id=actor.user_id,
            actor_role="admin" if actor.is_admin else "coordinator",
            subject_user_id=volunteer.user_id,
            fields=[f for f in ("phone", "id_number", "birth_date") if basic[f] is not None],
            purpose=access_log.AccessPurpose.RECORD_EXPORT,
            volunteer_id=volunteer.id,
            now=clock.now(),
        )
    stamp = clock.now().strftime("%Y%m%d")
    if fmt == "csv":
        return Response(
            export.as_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="record-{volunteer.id}-{stamp}.csv"'
            },
        )
    return Response(
        export.json_bytes(data),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="record-{volunteer.id}-{stamp}.json"'
        },
    )


ExportFormat = Annotated[Literal["json", "csv"], Query(alias="format")]


@router.get(
    "/me/record-export",
    summary="导出我的志愿服务记录（JSON 或 CSV，格式见 docs/record-export.md）",
    response_class=Response,
)
def my_export(session: SessionDep, actor: VolunteerUser, fmt: ExportFormat = "json") -> Response:
    """志愿者导出本人的志愿服务记录（JSON 或 CSV 文件），内容与格式见 docs/record-export.md。"""
    assert actor.volunteer_id is not None
    return _export(session, actor.volunteer_id, fmt, actor)


@router.get(
    "/volunteers/{volunteer_id}/record-export",
    summary="协调员：导出志愿者的服务记录，供上传全国志愿服务信息系统",
    response_class=Response,
)
def volunteer_export(
    volunteer_id: IdPath, session: SessionDep, actor: StaffUser, fmt: ExportFormat = "json"
) -> Response:
    """辖区协调员导出志愿者的志愿服务记录（JSON 或 CSV 文件），供上传全国志愿服务信息系统；
    JSON 含完整的基本信息（电话、证件号、出生日期），每次导出都记入个人信息查看留痕。"""
    managed_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    return _export(session, volunteer_id, fmt, actor)
