"""Activity endpoints: publish and manage, browse, sign up and cancel, team call-ups,
check-in and check-out at a session, and the organisers' lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy import select

from app import clock
from app.activities import attending, callups, publishing, queries, signups
from app.activities.errors import ActivityNotFound
from app.activities.schemas import (
    ActivityCancelIn,
    ActivityCreate,
    ActivityOut,
    ActivityUpdate,
    CallupAnswerOut,
    MyActivityOut,
    SignupCancelIn,
    SignupOut,
    TeamSignupIn,
    TeamSignupOut,
)
from app.activities.state import ActivityEvent, ActivityStatus, SignupStatus
from app.activities.views import activities_out, activity_out, callup_out, signup_out, signups_out
from app.attendance.schemas import AttendanceIn, AttendanceOut
from app.attendance.views import attendance_out, attendances_out
from app.auth.deps import CurrentUser, StaffUser, VolunteerUser
from app.auth.principal import Principal
from app.db import SessionDep
from app.geo import CoordSystem, to_gcj02
from app.models import Activity, OrgUnit
from app.org_units.errors import OrgUnitNotFound
from app.pagination import Page, PageDep, make_page
from app.routing import make_router
from app.schemas import Code, Id, IdPath, Lat, Lng, RadiusM

router = make_router(tags=["活动"])


def _visible(session: SessionDep, activity_id: int, actor: Principal) -> Activity:
    found = session.execute(
        select(Activity, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Activity.unit_id)
        .where(Activity.id == activity_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None or not signups.visible(found[0], found[1], actor):
        raise ActivityNotFound()
    return found[0]


def _detail(session: SessionDep, activity: Activity, actor: Principal) -> ActivityOut:
    return activity_out(session, activity, user_id=actor.user_id)


# ---------------------------------------------------------------- publishing


@router.post("/activities", response_model=ActivityOut, status_code=201, summary="发布活动")
def create(body: ActivityCreate, session: SessionDep, actor: StaffUser) -> ActivityOut:
    """本单位及下级单位的协调员发布活动（publish=false 保存为草稿）：标题、内容、季节主题或节日
    （填 festival_code 而不填 starts_at 时，按农历推算节日日期，再填当天 start_time、end_time）、
    地点、时间（一次或每日/每周/每月重复）、名额、所需技能、年龄、是否需保险、报名时间、
    是否接受居民参加。可带 Idempotency-Key 请求头安全重试。"""
    activity = publishing.create(session=session, body=body, actor=actor)
    return _detail(session, activity, actor)


@router.patch("/activities/{activity_id}", response_model=ActivityOut, summary="修改活动详情")
def update(
    activity_id: IdPath, body: ActivityUpdate, session: SessionDep, actor: StaffUser
) -> ActivityOut:
    """草稿或尚无人报名的活动可修改详情；已有报名返回 409 ACTIVITY_HAS_SIGNUPS（可取消活动）。"""
    activity = publishing.update_details(
        session=session, activity_id=activity_id, body=body, actor=actor
    )
    return _detail(session, activity, actor)


@router.post("/activities/{activity_id}/publish", response_model=ActivityOut, summary="发布草稿")
def publish(activity_id: IdPath, session: SessionDep, actor: StaffUser) -> ActivityOut:
    """草稿发布后开始接受报名（在报名时间内）。"""
    activity, unit = publishing.managed(session, activity_id, actor)
    publishing.transition(
        session=session, activity=activity, unit=unit, event=ActivityEvent.PUBLISH
    )
    return _detail(session, activity, actor)


@router.post("/activities/{activity_id}/cancel", response_model=ActivityOut, summary="取消活动")
def cancel(
    activity_id: IdPath, body: ActivityCancelIn, session: SessionDep, actor: StaffUser
) -> ActivityOut:
    """取消活动，须说明原因；已报名和候补的人都会收到通知。"""
    activity, unit = publishing.managed(session, activity_id, actor)
    publishing.transition(
        session=session,
        activity=activity,
        unit=unit,
        event=ActivityEvent.CANCEL,
        reason=body.reason,
    )
    return _detail(session, activity, actor)


# ---------------------------------------------------------------- browsing


@router.get(
    "/activities", response_model=Page[ActivityOut], summary="活动列表（附近、按季节节日等）"
)
def browse(
    session: SessionDep,
    actor: CurrentUser,
    page: PageDep,
    lat: Annotated[Lat | None, Query()] = None,
    lng: Annotated[Lng | None, Query()] = None,
    coord_system: CoordSystem = CoordSystem.GCJ02,
    radius_m: Annotated[RadiusM, Query(description="附近：以 lat/lng 为中心的半径（米）")] = 10_000,
    season: Annotated[Code | None, Query(description="四季红季节主题")] = None,
    festival: Annotated[Code | None, Query(description="节日代码")] = None,
    programme: Annotated[Code | None, Query()] = None,
    category: Annotated[Code | None, Query()] = None,
    unit_id: Annotated[Id | None, Query(description="该单位及下级单位发布的")] = None,
    status: Annotated[list[ActivityStatus] | None, Query(description="默认：已发布")] = None,
    include_past: bool = False,
) -> Page[ActivityOut]:
    """居民、志愿者与协调员浏览活动，最新发布的在前。
    带 lat/lng 时只列出 radius_m 内的活动并给出距离。
    草稿只有发布单位（及上级）的协调员能看到。"""
    near = None
    if lat is not None and lng is not None:
        near = to_gcj02(lat, lng, coord_system)
    unit = None
    if unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            raise OrgUnitNotFound()
    filters = queries.ActivityFilters(
        statuses=status or [ActivityStatus.PUBLISHED],
        season_code=season,
        festival_code=festival,
        programme_code=programme,
        category_code=category,
        unit=unit,
        ends_after=None if include_past else clock.now(),
        near=near,
        radius_m=radius_m if near is not None else None,
    )
    rows = queries.activities(session, actor=actor, filters=filters, page=page)
    page_rows = rows[: page.limit]
    shown = {a.id: a for a in activities_out(session, page_rows, user_id=actor.user_id, near=near)}
    return make_page(rows, page, lambda a: shown[a.id])


@router.get("/activities/{activity_id}", response_model=ActivityOut, summary="活动详情")
def detail(activity_id: IdPath, session: SessionDep, actor: CurrentUser) -> ActivityOut:
    """活动详情，含各场次、已录取与候补人数，以及本人的报名（如有）。"""
    return _detail(session, _visible(session, activity_id, actor), actor)


# ---------------------------------------------------------------- signing up


@router.post("/activities/{activity_id}/signup", response_model=SignupOut, summary="报名活动")
def sign_up(activity_id: IdPath, session: SessionDep, actor: CurrentUser) -> SignupOut:
    """志愿者报名（须符合与派单相同的硬性条件，不符合返回 403 NOT_ELIGIBLE 与各项原因）；
    活动接受居民参加时居民也可报名。名额已满时进入候补（status=waiting，position 为候补位次），
    有人取消时按顺序递补并通知。不在报名时间内返回 409 SIGNUP_CLOSED，
    已报名返回 409 ALREADY_SIGNED_UP。可带 Idempotency-Key 请求头安全重试。"""
    outcome = signups.sign_up(session, activity_id=activity_id, actor=actor)
    return signup_out(session, outcome.row)


@router.post(
    "/activities/{activity_id}/signup/cancel", response_model=SignupOut, summary="取消报名"
)
def cancel_signup(
    activity_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    body: SignupCancelIn | None = None,
) -> SignupOut:
    """取消本人的报名或候补；空出的名额由候补第一位递补。报名截止后取消已录取的名额，
    计入志愿者的退出记录（《志愿服务条例》第二十二条：及时告知）。"""
    outcome = signups.cancel(
        session, activity_id=activity_id, actor=actor, reason=body.reason if body else None
    )
    return signup_out(session, outcome.row)


@router.get(
    "/activities/{activity_id}/signups", response_model=Page[SignupOut], summary="活动报名名单"
)
def signup_list(
    activity_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    status: Annotated[list[SignupStatus] | None, Query()] = None,
) -> Page[SignupOut]:
    """发布单位（及上级）的协调员查看报名：已录取、候补（含位次）、已取消、未到。"""
    publishing.managed(session, activity_id, actor)
    rows = queries.signups(session, activity_id=activity_id, statuses=status, page=page)
    shown = {s.id: s for s in signups_out(session, rows[: page.limit])}
    return make_page(rows, page, lambda r: shown[r.id])


@router.get("/me/activities", response_model=Page[MyActivityOut], summary="我报名的活动")
def my_activities(session: SessionDep, actor: CurrentUser, page: PageDep) -> Page[MyActivityOut]:
    """本人的报名（含候补、已取消与未到），最近的在前。"""
    rows = queries.my_signups(session, user_id=actor.user_id, page=page)
    head = rows[: page.limit]
    ids = {r.activity_id for r in head}
    acts = {
        a.id: a
        for a in activities_out(
            session, list(session.scalars(select(Activity).where(Activity.id.in_(ids))))
        )
    }
    shown = {s.id: s for s in signups_out(session, head)}
    return make_page(
        rows, page, lambda r: MyActivityOut(signup=shown[r.id], activity=acts[r.activity_id])
    )


# ---------------------------------------------------------------- as a team


@router.post(
    "/activities/{activity_id}/team-signup",
    response_model=TeamSignupOut,
    status_code=201,
    summary="团队报名：负责人点名队员",
)
def team_signup(
    activity_id: IdPath, body: TeamSignupIn, session: SessionDep, actor: VolunteerUser
) -> TeamSignupOut:
    """已认证团队（或组织）的负责人为团队报名，点名在册队员；每位队员收到邀请，
    由本人接受（接受即本人报名，同样须符合条件、占用名额）或婉拒，不得强行指派
    （《志愿服务条例》第二十五条）。非负责人返回 403 NOT_TEAM_LEAD。"""
    rows = callups.call_up(
        session,
        activity_id=activity_id,
        team_id=body.team_id,
        volunteer_ids=body.volunteer_ids,
        actor=actor,
    )
    return TeamSignupOut(callups=[callup_out(c) for c in rows])


@router.post(
    "/activity-callups/{callup_id}/accept",
    response_model=CallupAnswerOut,
    summary="队员接受团队报名邀请（即本人报名）",
)
def accept_callup(callup_id: IdPath, session: SessionDep, actor: VolunteerUser) -> CallupAnswerOut:
    """队员本人接受：按本人报名处理（条件、名额、候补），报名记录带团队。"""
    callup, outcome = callups.accept(session, callup_id=callup_id, actor=actor)
    return CallupAnswerOut(callup=callup_out(callup), signup=signup_out(session, outcome.row))


@router.post(
    "/activity-callups/{callup_id}/decline",
    response_model=CallupAnswerOut,
    summary="队员婉拒团队报名邀请",
)
def decline_callup(callup_id: IdPath, session: SessionDep, actor: VolunteerUser) -> CallupAnswerOut:
    """队员本人婉拒，不报名；负责人可看到回复。已回复过返回 409 CALLUP_ALREADY_ANSWERED。"""
    callup = callups.decline(session, callup_id=callup_id, actor=actor)
    return CallupAnswerOut(callup=callup_out(callup), signup=None)


# ---------------------------------------------------------------- attendance


def _attend(
    session: SessionDep,
    activity_id: int,
    session_id: int,
    actor: Principal,
    body: AttendanceIn | None,
    *,
    out: bool,
) -> AttendanceOut:
    row = attending.attend(
        session,
        activity_id=activity_id,
        session_id=session_id,
        actor=actor,
        body=body or AttendanceIn(),
        out=out,
    )
    return attendance_out(session, row)


@router.post(
    "/activities/{activity_id}/sessions/{session_id}/check-in",
    response_model=AttendanceOut,
    summary="活动签到（须在活动地点附近、场次时间内；协调员可代签并说明原因）",
)
def check_in(
    activity_id: IdPath,
    session_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    body: AttendanceIn | None = None,
) -> AttendanceOut:
    """已录取的志愿者带手机定位签到（须已授权位置信息）；协调员代签须填 volunteer_id 与 reason。
    未录取返回 403 NOT_ADMITTED。同一 nonce 不会重复记录。"""
    return _attend(session, activity_id, session_id, actor, body, out=False)


@router.post(
    "/activities/{activity_id}/sessions/{session_id}/check-out",
    response_model=AttendanceOut,
    summary="活动签退（待发布单位确认后计入服务时长）",
)
def check_out(
    activity_id: IdPath,
    session_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    body: AttendanceIn | None = None,
) -> AttendanceOut:
    """签退后服务记录待确认（POST /service-records/{id}/confirm），按单位规则计入时长。"""
    return _attend(session, activity_id, session_id, actor, body, out=True)


@router.get(
    "/activities/{activity_id}/attendance",
    response_model=Page[AttendanceOut],
    summary="活动签到记录",
)
def attendance(
    activity_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    page: PageDep,
    session_id: Annotated[Id | None, Query(description="只看某一场次")] = None,
) -> Page[AttendanceOut]:
    """发布单位（及上级）的协调员查看各场次的签到签退与确认情况。"""
    publishing.managed(session, activity_id, actor)
    rows = queries.attendance(session, activity_id=activity_id, session_id=session_id, page=page)
    shown = {r.id: r for r in attendances_out(session, rows[: page.limit])}
    return make_page(rows, page, lambda r: shown[r.id])
