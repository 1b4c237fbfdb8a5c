"""Activities' errors: each a stable code and a Chinese message."""

from __future__ import annotations

from app.errors import BadRequest, Conflict, Forbidden, NotFound


class ActivityNotFound(NotFound):
    code = "ACTIVITY_NOT_FOUND"
    message = "活动不存在或不可见"


class SessionNotFound(NotFound):
    code = "ACTIVITY_SESSION_NOT_FOUND"
    message = "活动场次不存在"


class SignupNotFound(NotFound):
    code = "SIGNUP_NOT_FOUND"
    message = "您没有报名该活动"


class CallupNotFound(NotFound):
    code = "CALLUP_NOT_FOUND"
    message = "没有这条团队报名邀请"


class InvalidActivity(BadRequest):
    code = "INVALID_ACTIVITY"
    message = "活动信息不合理"


class ActivityStatusConflict(Conflict):
    code = "ACTIVITY_STATUS_CONFLICT"
    message = "活动当前状态不允许此操作"


class ActivityChanged(Conflict):
    code = "ACTIVITY_CHANGED"
    message = "活动已被他人修改，请刷新后重试"


class ActivityHasSignups(Conflict):
    code = "ACTIVITY_HAS_SIGNUPS"
    message = "已有人报名，活动详情不能再修改（可取消活动）"


class SignupClosed(Conflict):
    code = "SIGNUP_CLOSED"
    message = "不在报名时间内"


class AlreadySignedUp(Conflict):
    code = "ALREADY_SIGNED_UP"
    message = "您已报名该活动"


class SignupNotCancellable(Conflict):
    code = "SIGNUP_NOT_CANCELLABLE"
    message = "该报名当前不能取消"


class NotEligible(Forbidden):
    code = "NOT_ELIGIBLE"
    message = "您不符合该活动的报名条件"


class ParticipantsNotAllowed(Forbidden):
    code = "PARTICIPANTS_NOT_ALLOWED"
    message = "该活动不接受居民参加，请先注册成为志愿者"


class NotAdmitted(Forbidden):
    code = "NOT_ADMITTED"
    message = "该志愿者没有该活动的名额，不能签到签退"


class NotTeamLead(Forbidden):
    code = "NOT_TEAM_LEAD"
    message = "只有已认证团队的负责人可以团队报名"


class NotTeamMember(BadRequest):
    code = "NOT_TEAM_MEMBER"
    message = "所点名的志愿者不是该团队的在册队员"


class CallupAnswered(Conflict):
    code = "CALLUP_ALREADY_ANSWERED"
    message = "这条邀请已经回复过了"
