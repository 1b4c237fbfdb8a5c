"""Attendance endpoints: check-in and check-out, the wish's service team and its records, and
the volunteer's feedback."""

from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.attendance import service
from app.attendance.schemas import AttendanceIn, AttendanceOut, FeedbackIn, TeamMemberIn
from app.attendance.views import attendance_out, attendances_out
from app.auth.deps import CurrentUser, VolunteerUser
from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.db import SessionDep
from app.models import Attendance
from app.routing import make_router
from app.schemas import IdPath
from app.wishes.access import visible_wish
from app.wishes.errors import WishNotFound
from app.wishes.router import WISH_ERRORS
from app.wishes.schemas import WishOut
from app.wishes.views import wish_out

router = make_router(tags=["签到签退"])


def _attend(
    session: SessionDep, wish_id: int, actor: Principal, body: AttendanceIn | None, *, out: bool
) -> WishOut:
    outcome = service.attend(
        session, wish_id=wish_id, actor=actor, body=body or AttendanceIn(), out=out
    )
    return wish_out(session, outcome)


@router.post(
    "/wishes/{wish_id}/check-in",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="签到，开始服务（须在服务地点附近、服务时间内；协调员可代签并说明原因）",
)
def check_in(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: AttendanceIn | None = None
) -> WishOut:
    """接单志愿者到达后签到，心愿进入“服务中”；服务团队成员签到只记入本人的服务记录。
    须带手机定位，在服务地点的签到范围内、服务时间段内；离线时可稍后补传并附 client_time。
    协调员代签须填 volunteer_id 与 reason（会被标记复核）。超出范围返回 400 OUTSIDE_FENCE，
    不在时间段返回 400 OUTSIDE_SERVICE_WINDOW，
    未授权位置信息返回 409 LOCATION_CONSENT_REQUIRED。
    同一 nonce 不会重复记录；可带 Idempotency-Key 请求头安全重试。
    """
    return _attend(session, wish_id, actor, body, out=False)


@router.post(
    "/wishes/{wish_id}/check-out",
    response_model=WishOut,
    responses=WISH_ERRORS,
    summary="签退，服务完成（待确认后计入服务时长）",
)
def check_out(
    wish_id: IdPath, session: SessionDep, actor: CurrentUser, body: AttendanceIn | None = None
) -> WishOut:
    """服务结束后签退，可填服务内容简述；接单志愿者签退后心愿进入“待评价”，
    服务团队成员签退只记入本人的服务记录。
    服务时长待确认后计入（见服务记录确认）。
    未签到返回 409 NOT_CHECKED_IN；协调员可代签（volunteer_id + reason）。
    同一 nonce 不会重复记录；可带 Idempotency-Key 请求头安全重试。
    """
    return _attend(session, wish_id, actor, body, out=True)


@router.post(
    "/wishes/{wish_id}/team",
    response_model=AttendanceOut,
    status_code=201,
    summary="加入服务团队（协调员或接单志愿者添加队员；每人单独记录时长）",
)
def add_team_member(
    wish_id: IdPath, body: TeamMemberIn, session: SessionDep, actor: CurrentUser
) -> AttendanceOut:
    """辖区协调员或接单志愿者为心愿添加服务队员，每位队员单独签到签退、单独记录时长。
    队员已在团队中返回 409 ALREADY_ON_TEAM，服务已结束返回 409 TEAM_CLOSED，
    队员时间或条件不符返回 400 VOLUNTEER_NOT_AVAILABLE。可带 Idempotency-Key 请求头安全重试。
    """
    outcome = visible_wish(session, wish_id=wish_id, actor=actor)
    wish, station = outcome.loaded.wish, outcome.loaded.station
    lead = actor.volunteer_id is not None and actor.volunteer_id == wish.assignee_id
    if not (lead or actor.manages(station.path)):
        raise WishNotFound()
    # Team members are credited their own hours: nobody puts themselves on the team.
    refuse_self(session, actor, action="add_team_member", volunteer_id=body.volunteer_id)
    row = service.add_member(
        session, wish=wish, volunteer_id=body.volunteer_id, actor_id=actor.user_id
    )
    return attendance_out(session, row)


@router.get(
    "/wishes/{wish_id}/service-records",
    response_model=list[AttendanceOut],
    summary="心愿的服务记录（团队每人一条）",
)
def wish_records(wish_id: IdPath, session: SessionDep, actor: CurrentUser) -> list[AttendanceOut]:
    """点单人、服务团队成员与辖区协调员可查看：心愿的服务记录，
    团队每人一条（签到签退时间与方式、实际与确认的时长）。
    """
    outcome = visible_wish(session, wish_id=wish_id, actor=actor)
    if outcome.access.redacted:
        raise WishNotFound()
    rows = session.scalars(
        select(Attendance).where(Attendance.wish_id == wish_id).order_by(Attendance.id)
    ).all()
    return attendances_out(session, rows)


@router.post(
    "/wishes/{wish_id}/feedback",
    response_model=AttendanceOut,
    summary="志愿者评价这次服务（一次）",
)
def volunteer_feedback(
    wish_id: IdPath, body: FeedbackIn, session: SessionDep, actor: VolunteerUser
) -> AttendanceOut:
    """服务团队中的志愿者对这次服务评分（1–5 分，可留言），每人一次；用于发现异常服务。
    没有本人的服务记录返回 404 SERVICE_RECORD_NOT_FOUND，已评价返回 409 ALREADY_RATED。
    可带 Idempotency-Key 请求头安全重试。
    """
    row = service.feedback(session, wish_id=wish_id, actor=actor, body=body, now=clock.now())
    return attendance_out(session, row)
