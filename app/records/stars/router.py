"""Star volunteers (星级志愿者): standings, the public notice (公示), objections, ladders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path

from app import clock
from app.auth.deps import AdminUser, CurrentUser, StaffUser, VolunteerUser
from app.db import SessionDep
from app.models import OrgUnit, StarAward
from app.org_units.service import get_unit
from app.pagination import Page, PageDep, make_page
from app.records.stars import service as stars
from app.records.stars.ladders import Ladder, list_ladders, put_ladder
from app.records.stars.schemas import (
    AwardOut,
    LadderIn,
    LadderOut,
    ObjectionIn,
    ResolveIn,
    StarNoticeOut,
    StarStandingOut,
    UnitWithLevel,
)
from app.routing import make_router
from app.schemas import IdPath, hours_of
from app.volunteers.service import get_volunteer, visible_volunteer

router = make_router(tags=["服务记录与激励"])

LadderCodePath = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$", description="星级标准代码")
]


# ---------------------------------------------------------------- converters


def _unit(unit: OrgUnit) -> UnitWithLevel:
    return UnitWithLevel(id=unit.id, name=unit.name, level=unit.level)


def _ladder(ladder: Ladder) -> LadderOut:
    return LadderOut(
        code=ladder.code,
        name=ladder.name,
        thresholds=ladder.thresholds,
        certifying_levels=ladder.levels,
    )


def _award(award: StarAward, unit: OrgUnit, now: datetime) -> AwardOut:
    return AwardOut(
        id=award.id,
        star=award.star,
        ladder_code=award.ladder_code,
        hours_at_award=hours_of(award.minutes_at_award),
        certifying_unit=_unit(unit),
        status=stars.award_status(award, now),
        notice_starts_at=award.notice_starts_at,
        notice_ends_at=award.notice_ends_at,
        objection=award.objection,
        objection_at=award.objection_at,
        resolution=award.resolution,
        resolved_at=award.resolved_at,
    )


def _standing(found: stars.StarStanding) -> StarStandingOut:
    step = found.next_step
    return StarStandingOut(
        volunteer_id=found.volunteer.id,
        name=found.name,
        current_star=found.current_star,
        total_hours=hours_of(found.minutes),
        ladder=_ladder(found.ladder) if found.ladder is not None else None,
        next_star=step.star if step is not None else None,
        next_threshold_hours=step.hours if step is not None else None,
        hours_to_go=hours_of(step.minutes - found.minutes) if step is not None else None,
        awards=[_award(a, u, found.now) for a, u in found.awards],
    )


def _award_for(session: SessionDep, award: StarAward) -> AwardOut:
    unit = session.get(OrgUnit, award.certifying_unit_id)
    assert unit is not None  # foreign key
    return _award(award, unit, clock.now())


# ---------------------------------------------------------------- routes


@router.get("/me/stars", response_model=StarStandingOut, summary="我的星级与累计时长")
def my_stars(session: SessionDep, actor: VolunteerUser) -> StarStandingOut:
    """志愿者本人：当前星级、累计服务时长、距下一星级还差的时长，以及各次星级认定及其公示状态。
    未注册志愿者返回 403 NOT_A_VOLUNTEER。
    """
    assert actor.volunteer_id is not None
    volunteer, station = get_volunteer(session=session, volunteer_id=actor.volunteer_id)
    found = stars.standing(session=session, volunteer=volunteer, station=station, now=clock.now())
    return _standing(found)


@router.get(
    "/volunteers/{volunteer_id}/stars",
    response_model=StarStandingOut,
    summary="志愿者的星级与累计时长（本人或其所属站点的协调员）",
)
def volunteer_stars(
    volunteer_id: IdPath, session: SessionDep, actor: CurrentUser
) -> StarStandingOut:
    """志愿者本人或其所属站点（及上级）的协调员：该志愿者的星级、累计时长与星级认定记录。
    看不到的志愿者返回 404 VOLUNTEER_NOT_FOUND。
    """
    volunteer, station = visible_volunteer(session=session, actor=actor, volunteer_id=volunteer_id)
    found = stars.standing(session=session, volunteer=volunteer, station=station, now=clock.now())
    return _standing(found)


@router.get(
    "/org-units/{unit_id}/star-notices",
    response_model=Page[StarNoticeOut],
    summary="星级认定公示：本单位及下级认定、公示中或异议处理中的星级",
)
def star_notices(
    unit_id: IdPath, session: SessionDep, _actor: CurrentUser, page: PageDep
) -> Page[StarNoticeOut]:
    """任何已登录用户：本单位及下级单位正在公示、或因异议暂缓的星级认定，分页返回；
    公示期内可对其提出异议。
    """
    # A public notice: any logged-in user may read it, for any unit that exists.
    unit = get_unit(session=session, unit_id=unit_id)
    now = clock.now()
    rows = stars.notices(
        session=session, unit=unit, now=now, after_id=page.after_id, limit=page.limit
    )

    def convert(row: stars.NoticeRow) -> StarNoticeOut:
        award = row.award
        return StarNoticeOut(
            id=award.id,
            volunteer_id=award.volunteer_id,
            volunteer_name=row.volunteer_name,
            station=_unit(row.station),
            star=award.star,
            hours_at_award=hours_of(award.minutes_at_award),
            certifying_unit=_unit(row.certifying_unit),
            status=stars.award_status(award, now),
            notice_starts_at=award.notice_starts_at,
            notice_ends_at=award.notice_ends_at,
        )

    return make_page(rows, page, convert)


@router.post(
    "/star-awards/{award_id}/objection",
    response_model=AwardOut,
    summary="对公示中的星级认定提出异议（认定暂缓）",
)
def object_to_award(
    award_id: IdPath, body: ObjectionIn, session: SessionDep, actor: CurrentUser
) -> AwardOut:
    """任何已登录用户：对公示中的星级认定提出异议（须说明理由），认定暂缓，待协调员处理；
    每项认定只受理一次异议。
    不在公示期返回 409 STAR_AWARD_NOT_IN_NOTICE，已有异议返回 409 STAR_AWARD_ALREADY_HELD。
    返回该认定。
    """
    award = stars.object_to(
        session=session, award_id=award_id, actor=actor, reason=body.reason, now=clock.now()
    )
    return _award_for(session, award)


@router.post(
    "/star-awards/{award_id}/resolve",
    response_model=AwardOut,
    summary="协调员：处理星级认定异议（成立则撤销，不成立则恢复公示）",
)
def resolve_objection(
    award_id: IdPath, body: ResolveIn, session: SessionDep, actor: StaffUser
) -> AwardOut:
    """辖区协调员、管理员：处理暂缓中的星级认定异议（须说明理由）：uphold=true 异议成立，
    撤销认定；false 恢复公示。
    不能处理本人的认定（403 SELF_APPROVAL），认定不在暂缓中返回 409 STAR_AWARD_NOT_HELD。
    返回该认定。
    """
    award = stars.resolve(
        session=session,
        award_id=award_id,
        actor=actor,
        uphold=body.uphold,
        reason=body.reason,
        now=clock.now(),
    )
    return _award_for(session, award)


@router.get("/star-ladders", response_model=list[LadderOut], summary="星级标准")
def star_ladders(session: SessionDep, _actor: CurrentUser) -> list[LadderOut]:
    """任何已登录用户：全部星级标准（各星级所需的累计服务时长）。"""
    return [_ladder(ladder) for ladder in list_ladders(session=session)]


@router.put("/star-ladders/{code}", response_model=LadderOut, summary="管理员：新增或替换星级标准")
def put_star_ladder(
    code: LadderCodePath, body: LadderIn, session: SessionDep, _actor: AdminUser
) -> LadderOut:
    """管理员：新增或整体替换一个星级标准；
    标准不合理（如各级时长未递增）返回 400 STAR_LADDER_INVALID。
    返回该标准。
    """
    ladder = put_ladder(
        session=session,
        code=code,
        name=body.name,
        thresholds=body.thresholds,
        levels=body.certifying_levels,
    )
    return _ladder(ladder)
