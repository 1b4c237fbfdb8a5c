"""Teams and organisations: registration and verification, membership, wishes taken as a team,
the team's hours, record, honour list and export, and 万企帮万户 adoptions.

Size: one router for the domain's routes, in sections by subject; each section only converts
and calls its service module (service, membership, callups, records, export, adoptions).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import Query, Response

from app.auth.deps import CurrentUser, StaffUser, VolunteerUser
from app.db import SessionDep
from app.exports.csv import csv_bytes
from app.exports.router import BINARY, MEDIA_TYPES, LedgerFormat, attachment
from app.exports.xlsx import workbook
from app.heavy import HEAVY
from app.models import OrgUnit, Team, TeamAdoption, TeamCallup, TeamMember
from app.org_units.service import get_unit
from app.pagination import Page, PageDep, make_page
from app.privacy.masking import mask_phone, shown_name
from app.records.honour import service as honour
from app.records.honour.schemas import UnitRef
from app.records.honour.service import HonourPeriod
from app.routing import make_router
from app.schemas import Id, IdPath, hours_of
from app.seasons.service import local_date
from app.teams import adoptions, callups, export, membership, records, service
from app.teams.errors import NotTeamLead
from app.teams.schemas import (
    KIND_LABELS,
    AcceptAsTeamIn,
    AcceptedAsTeamOut,
    AdoptionIn,
    AdoptionOut,
    CallupOut,
    CallupStatus,
    DecisionIn,
    MemberApply,
    MemberHours,
    MemberOut,
    MemberStatus,
    OptionalDecisionIn,
    TeamCreate,
    TeamHelpOut,
    TeamHonourOut,
    TeamHonourRow,
    TeamHoursOut,
    TeamKind,
    TeamOut,
    TeamRecordOut,
    TeamStatus,
    TeamWishRow,
)
from app.wishes.access import visible_wish
from app.wishes.errors import WishNotFound

router = make_router(tags=["志愿服务队与组织"])

FromQ = Annotated[
    date | None, Query(alias="from", description="起始日期（本市日期，含）；默认当年 1 月 1 日")
]
ToQ = Annotated[date | None, Query(alias="to", description="结束日期（本市日期，含）；默认今天")]


def team_out(session: SessionDep, seen: service.Seen, count: int | None = None) -> TeamOut:
    team = seen.team
    if count is None:
        count = service.member_counts(session, [team.id]).get(team.id, 0)
    membership = seen.membership
    return TeamOut(
        id=team.id,
        kind=TeamKind(team.kind),
        kind_label=KIND_LABELS[TeamKind(team.kind)],
        name=team.name,
        description=team.description,
        status=TeamStatus(team.status),
        unit=UnitRef(id=seen.unit.id, name=seen.unit.name),
        credit_code=team.credit_code,
        contact_name=team.contact_name if seen.manages or seen.leads else _name(team.contact_name),
        contact_phone=mask_phone(team.contact_phone),
        lead_volunteer_id=team.lead_volunteer_id,
        lead_name=_name(service.lead_name(session, team)),
        member_count=count,
        verified_at=team.verified_at,
        decision_reason=team.decision_reason,
        created_at=team.created_at,
        my_membership=MemberStatus(membership.status) if membership is not None else None,
        i_lead=seen.leads,
        i_manage=seen.manages,
    )


def _name(name: str | None) -> str | None:
    return shown_name(name) if name is not None else None


def _member_out(session: SessionDep, row: TeamMember) -> MemberOut:
    found = [
        m for m in service.members(session, team_id=row.team_id, status=None) if m[0].id == row.id
    ]
    member, name, unit = found[0]
    return MemberOut(
        id=member.id,
        team_id=member.team_id,
        volunteer_id=member.volunteer_id,
        name=shown_name(name),
        station=UnitRef(id=unit.id, name=unit.name),
        role=member.role,
        status=MemberStatus(member.status),
        reason=member.reason,
        decided_at=member.decided_at,
        created_at=member.created_at,
    )


def _callup_out(row: TeamCallup, team_name: str, name: str) -> CallupOut:
    return CallupOut(
        id=row.id,
        team_id=row.team_id,
        team_name=team_name,
        wish_id=row.wish_id,
        activity_id=row.activity_id,
        volunteer_id=row.volunteer_id,
        name=shown_name(name),
        status=CallupStatus(row.status),
        answered_at=row.answered_at,
        created_at=row.created_at,
    )


def _one_callup(session: SessionDep, row: TeamCallup) -> CallupOut:
    [(found, team_name, name)] = [
        r for r in callups.callup_rows(session, volunteer_id=row.volunteer_id, wish_id=row.wish_id)
        if r[0].id == row.id
    ]  # fmt: skip
    return _callup_out(found, team_name, name)


# ---------------------------------------------------------------- teams and organisations


@router.post("/teams", response_model=TeamOut, status_code=201, summary="建立志愿服务队或注册组织")
def create(body: TeamCreate, session: SessionDep, actor: CurrentUser) -> TeamOut:
    """志愿服务队（kind=team）由所属单位的协调员建立，建立即在册；
    企业、学校、机关部门、社会组织由任何已登录用户向县（区）新时代文明实践中心注册，待中心认证。
    负责人：注册人本人是志愿者时默认为负责人，否则须指定 lead_volunteer_id。
    组织的认证单位不是实践中心返回 400 NOT_A_CENTRE，缺负责人返回 400 TEAM_LEAD_REQUIRED，
    信用代码已注册返回 409 CREDIT_CODE_TAKEN；协调员建队并自任负责人返回 403 SELF_APPROVAL。
    可带 Idempotency-Key 请求头安全重试。
    """
    team = service.create_team(session, body=body, actor=actor)
    return team_out(session, service.seen_team(session, team_id=team.id, actor=actor))


@router.get("/teams", response_model=Page[TeamOut], summary="志愿服务队与组织列表")
def list_teams(
    session: SessionDep,
    actor: CurrentUser,
    page: PageDep,
    unit_id: Annotated[Id | None, Query(description="只看该单位及下级的")] = None,
    kind: TeamKind | None = None,
    status: TeamStatus | None = None,
    mine: Annotated[bool, Query(description="只看本人注册、加入或申请加入的")] = False,
) -> Page[TeamOut]:
    """已认证的队伍与组织对所有已登录用户公开；协调员另可看到辖区内待认证、未通过与暂停的；
    本人注册或加入的总能看到。按建立先后分页。
    """
    unit = get_unit(session=session, unit_id=unit_id) if unit_id is not None else None
    rows = service.list_teams(
        session, actor=actor, page=page, unit=unit, kind=kind, status=status, mine=mine
    )
    counts = service.member_counts(session, [row.id for row in rows])

    def convert(team: Team) -> TeamOut:
        seen = service.seen_team(session, team_id=team.id, actor=actor)
        return team_out(session, seen, counts.get(team.id, 0))

    return make_page(rows, page, convert)


@router.get("/teams/{team_id}", response_model=TeamOut, summary="志愿服务队或组织详情")
def read(team_id: IdPath, session: SessionDep, actor: CurrentUser) -> TeamOut:
    """已认证的对所有已登录用户公开；其余只对注册人、成员与所属单位的协调员可见，否则 404
    TEAM_NOT_FOUND。联系电话脱敏。
    """
    return team_out(session, service.seen_team(session, team_id=team_id, actor=actor))


@router.post("/teams/{team_id}/verify", response_model=TeamOut, summary="实践中心认证组织")
def verify(
    team_id: IdPath, session: SessionDep, actor: StaffUser, body: OptionalDecisionIn | None = None
) -> TeamOut:
    """认证单位（县级实践中心）或上级的协调员认证待认证的组织。本人注册或担任负责人的组织
    返回 403 SELF_APPROVAL；不是待认证返回 409 TEAM_STATUS_CONFLICT。可带 Idempotency-Key 安全重试。
    """
    reason = body.reason if body is not None else None
    service.decide(session, team_id=team_id, actor=actor, verify=True, reason=reason)
    return team_out(session, service.seen_team(session, team_id=team_id, actor=actor))


@router.post(
    "/teams/{team_id}/reject", response_model=TeamOut, summary="实践中心不予认证（须说明理由）"
)
def reject(team_id: IdPath, body: DecisionIn, session: SessionDep, actor: StaffUser) -> TeamOut:
    """认证单位的协调员不予认证，理由告知注册人。本人注册或担任负责人的组织返回 403
    SELF_APPROVAL；不是待认证返回 409 TEAM_STATUS_CONFLICT。可带 Idempotency-Key 安全重试。
    """
    service.decide(session, team_id=team_id, actor=actor, verify=False, reason=body.reason)
    return team_out(session, service.seen_team(session, team_id=team_id, actor=actor))


# ---------------------------------------------------------------- membership


@router.get("/teams/{team_id}/members", response_model=list[MemberOut], summary="成员与入队申请")
def list_members(
    team_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    status: MemberStatus | None = None,
) -> list[MemberOut]:
    """负责人与所属单位协调员：全部成员与申请；其他人只看到在册成员。姓名脱敏。"""
    seen = service.seen_team(session, team_id=team_id, actor=actor)
    if not (seen.manages or seen.leads):
        if status not in (None, MemberStatus.ACTIVE):
            raise NotTeamLead()
        status = MemberStatus.ACTIVE
    return [
        MemberOut(
            id=m.id,
            team_id=m.team_id,
            volunteer_id=m.volunteer_id,
            name=shown_name(name),
            station=UnitRef(id=unit.id, name=unit.name),
            role=m.role,
            status=MemberStatus(m.status),
            reason=m.reason,
            decided_at=m.decided_at,
            created_at=m.created_at,
        )
        for m, name, unit in service.members(session, team_id=team_id, status=status)
    ]


@router.post(
    "/teams/{team_id}/members", response_model=MemberOut, status_code=201, summary="志愿者申请入队"
)
def apply(
    team_id: IdPath, session: SessionDep, actor: VolunteerUser, body: MemberApply | None = None
) -> MemberOut:
    """志愿者申请加入已认证的队伍或组织，由负责人或所属单位协调员审批。已是成员或已申请返回
    409 ALREADY_TEAM_MEMBER，组织未认证返回 409 TEAM_NOT_VERIFIED。可带 Idempotency-Key 安全重试。
    """
    row = membership.apply(session, team_id=team_id, actor=actor, note=body.note if body else "")
    return _member_out(session, row)


@router.post("/team-members/{member_id}/approve", response_model=MemberOut, summary="批准入队")
def approve_member(
    member_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    body: OptionalDecisionIn | None = None,
) -> MemberOut:
    """负责人或所属单位协调员批准入队申请。不能批准本人（403 SELF_APPROVAL）；
    不是待审批返回 409 TEAM_MEMBERSHIP_CONFLICT。可带 Idempotency-Key 安全重试。
    """
    row = membership.answer_application(
        session,
        member_id=member_id,
        actor=actor,
        approve=True,
        reason=body.reason if body else None,
    )
    return _member_out(session, row)


@router.post("/team-members/{member_id}/refuse", response_model=MemberOut, summary="不同意入队")
def refuse_member(
    member_id: IdPath, body: DecisionIn, session: SessionDep, actor: CurrentUser
) -> MemberOut:
    """负责人或所属单位协调员不同意入队申请（须说明理由）。不能审批本人（403 SELF_APPROVAL）。
    可带 Idempotency-Key 请求头安全重试。
    """
    row = membership.answer_application(
        session, member_id=member_id, actor=actor, approve=False, reason=body.reason
    )
    return _member_out(session, row)


@router.post(
    "/team-members/{member_id}/leave", response_model=MemberOut, summary="退出队伍或撤回申请"
)
def leave(member_id: IdPath, session: SessionDep, actor: VolunteerUser) -> MemberOut:
    """成员本人退出队伍（或撤回入队申请）；负责人不能直接退出（409 TEAM_LEAD_CANNOT_LEAVE）。
    退出后其时长不再计入队伍。可带 Idempotency-Key 请求头安全重试。
    """
    row = membership.leave(session, member_id=member_id, actor=actor)
    return _member_out(session, row)


# ---------------------------------------------------------------- a wish taken as a team


@router.post(
    "/wishes/{wish_id}/accept-as-team",
    response_model=AcceptedAsTeamOut,
    summary="负责人代表团队接单并召集成员（成员各自确认）",
)
def accept_as_team(
    wish_id: IdPath, body: AcceptAsTeamIn, session: SessionDep, actor: VolunteerUser
) -> AcceptedAsTeamOut:
    """队伍负责人以本人的派单邀请或抢单接下心愿（与普通接单同样的规则，同一心愿只有一人接得到），
    同时记为团队接单并召集所列成员；每位成员须自己接受召集才加入服务团队（不强行指派）。
    成员须是本队在册成员（NOT_ACTIVE_TEAM_MEMBERS）并符合心愿的硬性条件（400 MEMBER_NOT_ELIGIBLE，
    details 列出每人的原因）；只有负责人可代表团队接单（403 NOT_TEAM_LEAD）。
    可带 Idempotency-Key 请求头安全重试。
    """
    outcome, rows = callups.accept_as_team(session, wish_id=wish_id, body=body, actor=actor)
    return AcceptedAsTeamOut(
        wish_id=wish_id,
        team_id=body.team_id,
        status=outcome.loaded.wish.status,
        callups=[_one_callup(session, row) for row in rows],
    )


@router.get(
    "/wishes/{wish_id}/team-callups", response_model=list[CallupOut], summary="心愿的团队召集"
)
def wish_callups(wish_id: IdPath, session: SessionDep, actor: CurrentUser) -> list[CallupOut]:
    """能看到心愿服务信息的人（接单负责人、服务团队成员、点单人、辖区协调员）：
    团队召集了谁、各自的答复。
    """
    outcome = visible_wish(session, wish_id=wish_id, actor=actor)
    if outcome.access.redacted:
        raise WishNotFound()
    return [_callup_out(*row) for row in callups.callup_rows(session, wish_id=wish_id)]


@router.get("/me/team-callups", response_model=list[CallupOut], summary="我收到的团队召集")
def my_callups(
    session: SessionDep, actor: VolunteerUser, status: CallupStatus | None = None
) -> list[CallupOut]:
    """志愿者本人：所在队伍负责人召集本人参加的心愿，最近的在前（至多 100 条）。"""
    rows = callups.callup_rows(session, volunteer_id=actor.volunteer_id, status=status)
    return [_callup_out(*row) for row in rows]


@router.post("/team-callups/{callup_id}/accept", response_model=CallupOut, summary="接受团队召集")
def accept_callup(callup_id: IdPath, session: SessionDep, actor: VolunteerUser) -> CallupOut:
    """被召集的成员本人接受，加入该心愿的服务团队（本人签到签退、单独记录时长）。
    不符合心愿硬性条件返回 400 MEMBER_NOT_ELIGIBLE；已答复或已撤回返回 409 TEAM_CALLUP_CLOSED；
    服务已结束返回 409 TEAM_CLOSED。可带 Idempotency-Key 请求头安全重试。
    """
    row = callups.accept_callup(session, callup_id=callup_id, actor=actor)
    return _one_callup(session, row)


@router.post("/team-callups/{callup_id}/decline", response_model=CallupOut, summary="谢绝团队召集")
def decline_callup(callup_id: IdPath, session: SessionDep, actor: VolunteerUser) -> CallupOut:
    """被召集的成员本人谢绝，其他人不受影响。已答复或已撤回返回 409 TEAM_CALLUP_CLOSED。
    可带 Idempotency-Key 请求头安全重试。
    """
    row = callups.decline_callup(session, callup_id=callup_id, actor=actor)
    return _one_callup(session, row)


# ---------------------------------------------------------------- hours, record, honour, export


@router.get("/teams/{team_id}/hours", response_model=TeamHoursOut, summary="队伍服务时长")
def team_hours(
    team_id: IdPath, session: SessionDep, actor: CurrentUser, first: FromQ = None, last: ToQ = None
) -> TeamHoursOut:
    """在册成员入队后、期内开始并经确认的服务时长（按服务记录台账求和，含更正），每人一行。
    统计期最长 3 年，无效返回 400 TEAM_PERIOD_INVALID。
    """
    seen = service.seen_team(session, team_id=team_id, actor=actor)
    p = records.period(first, last)
    rows = records.member_minutes(
        session, team_id=seen.team.id, starts_at=p.starts_at, ends_at=p.ends_at
    )
    return TeamHoursOut(
        team_id=seen.team.id,
        start_date=p.start_date,
        end_date=p.end_date,
        hours=hours_of(sum(r.minutes for r in rows)),
        members=[
            MemberHours(
                volunteer_id=r.volunteer_id, name=shown_name(r.name), hours=hours_of(r.minutes)
            )
            for r in rows
        ],
    )


@router.get("/teams/{team_id}/record", response_model=TeamRecordOut, summary="队伍或组织的服务记录")
def team_record(
    team_id: IdPath, session: SessionDep, actor: CurrentUser, first: FromQ = None, last: ToQ = None
) -> TeamRecordOut:
    """期内以团队名义接下与完成的心愿、参加的活动、成员服务时长之和、在册人数，
    以及接下的心愿清单（最近的在前）。统计期无效返回 400 TEAM_PERIOD_INVALID。
    """
    seen = service.seen_team(session, team_id=team_id, actor=actor)
    p = records.period(first, last)
    c = records.counts(session, team=seen.team, p=p)
    return TeamRecordOut(
        team=team_out(session, seen),
        start_date=p.start_date,
        end_date=p.end_date,
        wishes_taken=c.wishes_taken,
        wishes_completed=c.wishes_served,
        activities_joined=c.activities_joined,
        hours=hours_of(c.minutes),
        active_members=service.member_counts(session, [seen.team.id]).get(seen.team.id, 0),
        wishes=[
            TeamWishRow(
                wish_id=wish.id,
                title=wish.title,
                status=wish.status,
                accepted_at=wish.accepted_at,
                members_accepted=n,
            )
            for wish, n in records.team_wishes(session, team_id=seen.team.id, p=p)
        ],
    )


@router.get("/teams/{team_id}/honour-list", response_model=TeamHonourOut, summary="队伍光荣榜")
def team_honour(
    team_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    period: Annotated[
        HonourPeriod, Query(description="month 自然月 | season 四季红季节 | year 自然年")
    ] = HonourPeriod.MONTH,
    on: Annotated[
        date | None, Query(alias="date", description="统计期内的任一天，默认今天（本市时区）")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="最多返回条数")] = 20,
) -> TeamHonourOut:
    """在册成员按期内服务时长排行（入队后的时长），名次并列时相同。日期超出范围返回 400
    HONOUR_DATE_OUT_OF_RANGE，所选日期不在任何季节返回 404 NO_SEASON_ON_DATE。
    """
    seen = service.seen_team(session, team_id=team_id, actor=actor)
    window = honour.window(session=session, period=period, day=on or local_date())
    rows = records.member_minutes(
        session, team_id=seen.team.id, starts_at=window.starts_at, ends_at=window.ends_at
    )
    return TeamHonourOut(
        team_id=seen.team.id,
        period=period,
        start_date=window.start_date,
        end_date=window.end_date,
        items=[
            TeamHonourRow(
                rank=rank,
                volunteer_id=r.volunteer_id,
                name=shown_name(r.name),
                hours=hours_of(r.minutes),
            )
            for rank, r in records.ranked(rows)[:limit]
        ],
    )


class TeamFileFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@router.get(
    "/teams/{team_id}/export",
    dependencies=[HEAVY],
    response_class=Response,
    responses={
        200: {
            "content": {MEDIA_TYPES[LedgerFormat.XLSX]: BINARY, "text/csv": BINARY},
            "description": "Excel 工作簿（成员时长、团队接单、汇总）或成员时长的 CSV",
        }
    },
    summary="导出队伍或组织的服务记录（Excel 或 CSV）",
)
def team_export(
    team_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    first: FromQ = None,
    last: ToQ = None,
    fmt: Annotated[
        TeamFileFormat, Query(alias="format", description="xlsx（默认）或 csv")
    ] = TeamFileFormat.XLSX,
) -> Response:
    """负责人与所属单位协调员：Excel 含成员时长（排行）、团队接单与汇总三张表；CSV 只含成员时长
    （UTF-8 带 BOM）。姓名脱敏。统计期无效返回 400 TEAM_PERIOD_INVALID。
    """
    seen = service.led_team(session, team_id=team_id, actor=actor)
    p = records.period(first, last)
    tables = export.sheets(session, seen.team, p)
    content = workbook(tables) if fmt == TeamFileFormat.XLSX else csv_bytes(tables[0])
    media = MEDIA_TYPES[LedgerFormat.XLSX if fmt == TeamFileFormat.XLSX else LedgerFormat.CSV]
    span = f"{p.start_date.isoformat()}-{p.end_date.isoformat()}"
    return Response(
        content=content,
        media_type=media,
        headers={
            "Content-Disposition": attachment(
                f"team-{seen.team.id}-{span}.{fmt.value}", f"{seen.team.name}{span}.{fmt.value}"
            ),
            "Cache-Control": "private, no-store",
        },
    )


# ---------------------------------------------------------------- 万企帮万户


def _adoption_out(row: TeamAdoption, address: str | None, unit: OrgUnit | None) -> AdoptionOut:
    return AdoptionOut(
        id=row.id,
        team_id=row.team_id,
        household_id=row.household_id,
        household=address,
        village=UnitRef(id=unit.id, name=unit.name) if unit is not None else None,
        status=row.status,
        start_date=row.start_date,
        end_date=row.end_date,
        note=row.note,
    )


def _one_adoption(session: SessionDep, row: TeamAdoption) -> AdoptionOut:
    [found] = [r for r in adoptions.adoptions(session, team_id=row.team_id) if r[0].id == row.id]
    return _adoption_out(*found)


@router.post(
    "/teams/{team_id}/adoptions",
    response_model=AdoptionOut,
    status_code=201,
    summary="万企帮万户：组织结对帮扶困难家庭或村",
)
def adopt(team_id: IdPath, body: AdoptionIn, session: SessionDep, actor: StaffUser) -> AdoptionOut:
    """困难家庭所在站点（或该村）的协调员登记已认证组织的结对帮扶，家庭与村二选一
    （400 ADOPTION_TARGET_REQUIRED）。已在结对返回 409 ALREADY_ADOPTED；
    协调员本人注册或负责的组织返回 403 SELF_APPROVAL。可带 Idempotency-Key 请求头安全重试。
    """
    row = adoptions.adopt(session, team_id=team_id, body=body, actor=actor)
    return _one_adoption(session, row)


@router.get(
    "/teams/{team_id}/adoptions", response_model=list[AdoptionOut], summary="组织的结对帮扶"
)
def list_adoptions(team_id: IdPath, session: SessionDep, actor: CurrentUser) -> list[AdoptionOut]:
    """组织结对的困难家庭（只显示大致地址）与村，最近的在前。"""
    seen = service.seen_team(session, team_id=team_id, actor=actor)
    return [_adoption_out(*row) for row in adoptions.adoptions(session, team_id=seen.team.id)]


@router.post(
    "/team-adoptions/{adoption_id}/end", response_model=AdoptionOut, summary="结束结对帮扶"
)
def end_adoption(adoption_id: IdPath, session: SessionDep, actor: StaffUser) -> AdoptionOut:
    """家庭所在站点（或该村）的协调员结束结对帮扶。已结束返回 409 ADOPTION_ENDED。
    可带 Idempotency-Key 请求头安全重试。
    """
    row = adoptions.end(session, adoption_id=adoption_id, actor=actor)
    return _one_adoption(session, row)


@router.get(
    "/teams/{team_id}/help", response_model=TeamHelpOut, summary="万企帮万户：组织的帮扶统计"
)
def team_help(
    team_id: IdPath, session: SessionDep, actor: CurrentUser, first: FromQ = None, last: ToQ = None
) -> TeamHelpOut:
    """按组织统计的帮扶成效：以团队名义完成服务的心愿、参加的活动、成员服务时长、
    期内在结对的困难家庭与村。统计期无效返回 400 TEAM_PERIOD_INVALID。
    """
    seen = service.seen_team(session, team_id=team_id, actor=actor)
    p = records.period(first, last)
    c = records.counts(session, team=seen.team, p=p)
    return TeamHelpOut(
        team_id=seen.team.id,
        name=seen.team.name,
        kind=TeamKind(seen.team.kind),
        start_date=p.start_date,
        end_date=p.end_date,
        wishes_served=c.wishes_served,
        activities_joined=c.activities_joined,
        hours=hours_of(c.minutes),
        households_adopted=c.households,
        villages_adopted=c.villages,
    )
