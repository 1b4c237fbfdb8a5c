"""Endpoints of the units' rules: the dispatch policy and the service-record rules, each read
(the unit's own values and those in force) and set per unit."""

from __future__ import annotations

from enum import Enum

from app.auth.deps import StaffUser
from app.db import SessionDep
from app.errors import BadRequest
from app.models import OrgUnit, StarLadder
from app.org_units.service import managed_unit
from app.routing import make_router
from app.rules.dispatch import POLICIES
from app.rules.records import RULES
from app.rules.schemas import (
    PolicyFields,
    PolicyOut,
    PolicyUpdate,
    RulesFields,
    RulesOut,
    RulesUpdate,
)
from app.schemas import IdPath

router = make_router()

DISPATCH_TAGS: list[str | Enum] = ["匹配与派单"]
RECORDS_TAGS: list[str | Enum] = ["服务记录与激励"]


# ---------------------------------------------------------------- dispatch policy


def _out(session: SessionDep, unit: OrgUnit) -> PolicyOut:
    return PolicyOut(
        org_unit_id=unit.id,
        own=PolicyFields(**POLICIES.own(session, unit)),
        effective=POLICIES.effective(session, unit),
    )


@router.get(
    "/org-units/{unit_id}/dispatch-policy",
    response_model=PolicyOut,
    summary="派单阶梯设置（本单位及实际生效值）",
    tags=DISPATCH_TAGS,
)
def get_policy(unit_id: IdPath, session: SessionDep, actor: StaffUser) -> PolicyOut:
    """本单位或上级单位的协调员、管理员：
    本单位自己的派单阶梯设置（邀请时长、无人响应后开放抢单与上报的等待时间、免打扰时段等），
    以及沿上级继承后实际生效的值。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    return _out(session, unit)


@router.put(
    "/org-units/{unit_id}/dispatch-policy",
    response_model=PolicyOut,
    summary="修改本单位的派单阶梯设置（下级单位未设置的项沿用本单位）",
    tags=DISPATCH_TAGS,
)
def set_policy(
    unit_id: IdPath, body: PolicyUpdate, session: SessionDep, actor: StaffUser
) -> PolicyOut:
    """本单位或上级单位的协调员、管理员：修改本单位的派单阶梯设置，只改所填的项，
    填 null 表示沿用上级；下级未设置的项沿用本单位。
    免打扰时段的开始与结束须同时设置（400 QUIET_HOURS_INCOMPLETE）。
    返回本单位设置与实际生效值。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    values = body.model_dump(exclude_unset=True)
    start, end = values.get("quiet_start"), values.get("quiet_end")
    if (start is None) != (end is None) and ("quiet_start" in values or "quiet_end" in values):
        raise BadRequest("免打扰时段的开始和结束须同时设置", code="QUIET_HOURS_INCOMPLETE")
    POLICIES.save(session, unit, body)
    return _out(session, unit)


# ---------------------------------------------------------------- service-record rules


def _rules_out(session: SessionDep, unit: OrgUnit) -> RulesOut:
    return RulesOut(
        org_unit_id=unit.id,
        own=RulesFields(**RULES.own(session, unit)),
        effective=RULES.effective(session, unit),
    )


@router.get(
    "/org-units/{unit_id}/record-rules",
    response_model=RulesOut,
    summary="服务记录规则（签到围栏、时长计算、积分、星级；本单位及实际生效值）",
    tags=RECORDS_TAGS,
)
def get_rules(unit_id: IdPath, session: SessionDep, actor: StaffUser) -> RulesOut:
    """本单位或上级单位的协调员、管理员：
    本单位自己的服务记录规则（签到围栏、时长计算、确认方式、积分、星级标准），
    以及沿上级继承后实际生效的值。
    """
    return _rules_out(session, managed_unit(session=session, actor=actor, unit_id=unit_id))


@router.put(
    "/org-units/{unit_id}/record-rules",
    response_model=RulesOut,
    summary="修改本单位的服务记录规则（下级单位未设置的项沿用本单位）",
    tags=RECORDS_TAGS,
)
def set_rules(
    unit_id: IdPath, body: RulesUpdate, session: SessionDep, actor: StaffUser
) -> RulesOut:
    """本单位或上级单位的协调员、管理员：修改本单位的服务记录规则，只改所填的项，
    填 null 表示沿用上级；下级未设置的项沿用本单位。
    星级标准不存在返回 400 UNKNOWN_STAR_LADDER。返回本单位设置与实际生效值。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    if body.star_ladder is not None and session.get(StarLadder, body.star_ladder) is None:
        raise BadRequest("星级标准不存在", code="UNKNOWN_STAR_LADDER")
    RULES.save(session, unit, body)
    return _rules_out(session, unit)
