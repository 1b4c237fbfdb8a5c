"""Errors of batch dispatch, reported per item when a reviewed plan is applied."""

from __future__ import annotations

from app.errors import Conflict, NotFound


class WishNotApproved(Conflict):
    code = "WISH_NOT_APPROVED"
    message = "该心愿已不是待派单状态（可能已派单、被接单或取消），未发出邀请"


class VolunteerNotEligible(Conflict):
    code = "VOLUNTEER_NOT_ELIGIBLE"
    message = "该志愿者不满足此心愿的条件，未发出邀请"


class MatchingUnavailable(Conflict):
    code = "MATCHING_LIMIT"
    message = "技能或服务类别超过 64 项，暂不能自动匹配"


class BatchApplyNotFound(NotFound):
    code = "BATCH_APPLY_NOT_FOUND"
    message = "批量派单记录不存在"
