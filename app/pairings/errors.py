"""The pairings domain's errors: each a stable code and a Chinese message."""

from __future__ import annotations

from app.errors import BadRequest, Conflict, Forbidden, NotFound


class HouseholdNotFound(NotFound):
    code = "HOUSEHOLD_NOT_FOUND"
    message = "困难家庭不存在"


class HouseholdCategoryNotFound(NotFound):
    code = "HOUSEHOLD_CATEGORY_NOT_FOUND"
    message = "困难家庭类别不存在"


class HouseholdCategoryExists(Conflict):
    code = "HOUSEHOLD_CATEGORY_EXISTS"
    message = "该困难家庭类别代码或名称已存在"


class UnknownHouseholdCategory(BadRequest):
    code = "UNKNOWN_HOUSEHOLD_CATEGORY"
    message = "困难家庭类别不存在或已停用"


class UnknownServiceCategory(BadRequest):
    code = "UNKNOWN_CATALOGUE_ENTRY"
    message = "服务类别不存在或已停用"


class HouseholdClosed(Conflict):
    code = "HOUSEHOLD_CLOSED"
    message = "该困难家庭已停止帮扶，不能再结对"


class HouseholdHasPairings(Conflict):
    code = "HOUSEHOLD_HAS_PAIRINGS"
    message = "该家庭仍有进行中的结对，请先结束结对"


class NotAStation(BadRequest):
    code = "NOT_A_STATION"
    message = "困难家庭须登记在村（社区）实践站"


class PairingNotFound(NotFound):
    code = "PAIRING_NOT_FOUND"
    message = "结对不存在"


class VisitNotFound(NotFound):
    code = "VISIT_NOT_FOUND"
    message = "走访记录不存在"


class HelperNotFound(BadRequest):
    code = "HELPER_NOT_FOUND"
    message = "帮扶人不存在、不在本辖区或当前不能结对"


class HelperIsHousehold(BadRequest):
    code = "HELPER_IS_HOUSEHOLD"
    message = "帮扶家庭不能是被帮扶家庭本身"


class InvalidDates(BadRequest):
    code = "INVALID_PAIRING_DATES"
    message = "结对结束日期不能早于开始日期"


class PairingTransitionNotAllowed(Conflict):
    code = "PAIRING_TRANSITION_NOT_ALLOWED"
    message = "结对当前状态不能执行该操作"


class PairingChanged(Conflict):
    code = "PAIRING_CHANGED"
    message = "结对刚被他人修改，请刷新后重试"


class PairingNotActive(Conflict):
    code = "PAIRING_NOT_ACTIVE"
    message = "结对已暂停或已结束，不能登记走访"


class NotTheHelper(Forbidden):
    code = "NOT_THE_HELPER"
    message = "您不是该结对的帮扶人"


class VisitInProgress(Conflict):
    code = "VISIT_IN_PROGRESS"
    message = "您在该结对有一次尚未签退的走访，请先签退"


class VisitAlreadyEnded(Conflict):
    code = "VISIT_ALREADY_ENDED"
    message = "该走访已签退"


class VisitHasNoRecord(Conflict):
    code = "VISIT_HAS_NO_RECORD"
    message = "该走访没有签到记录（由协调员登记），无需签退"


class VolunteerRequired(BadRequest):
    code = "VISIT_VOLUNTEER_REQUIRED"
    message = "请指明走访的志愿者（结对帮扶人或帮扶队伍的在队成员）"


class InvalidVisitTimes(BadRequest):
    code = "INVALID_VISIT_TIMES"
    message = "走访结束时间须晚于开始时间，且不能晚于现在"


class VisitWishExists(Conflict):
    code = "VISIT_WISH_EXISTS"
    message = "该走访记录的需求已转为心愿"


class HouseholdNotLocated(Conflict):
    code = "HOUSEHOLD_NOT_LOCATED"
    message = "该家庭未登记详细地址和位置，不能代为点单，请先补全"


class RevealNotAllowed(Forbidden):
    code = "HOUSEHOLD_REVEAL_NOT_ALLOWED"
    message = "只有辖区协调员和该家庭进行中结对的帮扶志愿者可以查看完整信息"
