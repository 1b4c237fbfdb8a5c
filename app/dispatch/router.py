from __future__ import annotations

from app.auth.deps import StaffUser
from app.db import SessionDep
from app.dispatch.policy import POLICIES
from app.dispatch.schemas import PolicyFields, PolicyOut, PolicyUpdate
from app.errors import BadRequest
from app.models import OrgUnit
from app.org_units.service import managed_unit
from app.routing import make_router
from app.schemas import IdPath

router = make_router(tags=["匹配与派单"])


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
)
def get_policy(unit_id: IdPath, session: SessionDep, actor: StaffUser) -> PolicyOut:
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    return _out(session, unit)


@router.put(
    "/org-units/{unit_id}/dispatch-policy",
    response_model=PolicyOut,
    summary="修改本单位的派单阶梯设置（下级单位未设置的项沿用本单位）",
)
def set_policy(
    unit_id: IdPath, body: PolicyUpdate, session: SessionDep, actor: StaffUser
) -> PolicyOut:
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    values = body.model_dump(exclude_unset=True)
    start, end = values.get("quiet_start"), values.get("quiet_end")
    if (start is None) != (end is None) and ("quiet_start" in values or "quiet_end" in values):
        raise BadRequest("免打扰时段的开始和结束须同时设置", code="QUIET_HOURS_INCOMPLETE")
    POLICIES.save(session, unit, body)
    return _out(session, unit)
