"""Attendance's errors: each a stable code and a Chinese message."""

from __future__ import annotations

from app.errors import BadRequest, Conflict, NotFound


class ConsentRequired(Conflict):
    code = "LOCATION_CONSENT_REQUIRED"
    message = "您尚未同意签到时获取位置：请先授权，或请协调员人工确认"


class LocationRequired(BadRequest):
    code = "LOCATION_REQUIRED"
    message = "签到签退须提供当前位置；室内无法定位时请协调员人工确认"


class OutsideFence(BadRequest):
    code = "OUTSIDE_FENCE"
    message = "您不在服务地点附近，无法签到签退"


class OutsideWindow(BadRequest):
    code = "OUTSIDE_SERVICE_WINDOW"
    message = "不在心愿的服务时间范围内"


class ClientTimeInFuture(BadRequest):
    code = "CLIENT_TIME_IN_FUTURE"
    message = "手机时间晚于服务器时间，请校准手机时间"


class LateSyncExpired(BadRequest):
    code = "LATE_SYNC_EXPIRED"
    message = "离线签到签退已超过补传期限，请联系协调员人工确认"


class CheckOutBeforeCheckIn(BadRequest):
    code = "CHECK_OUT_BEFORE_CHECK_IN"
    message = "签退时间不能早于签到时间"


class NotCheckedIn(Conflict):
    code = "NOT_CHECKED_IN"
    message = "尚未签到，不能签退"


class AlreadyCheckedIn(Conflict):
    code = "ALREADY_CHECKED_IN"
    message = "已经签到"


class NotOnTeam(BadRequest):
    code = "NOT_ON_TEAM"
    message = "该志愿者不在此心愿的服务团队中"


class AlreadyOnTeam(Conflict):
    code = "ALREADY_ON_TEAM"
    message = "该志愿者已在服务团队中"


class TeamClosed(Conflict):
    code = "TEAM_CLOSED"
    message = "心愿当前状态不能调整服务团队"


class VolunteerUnavailable(BadRequest):
    code = "VOLUNTEER_NOT_AVAILABLE"
    message = "该志愿者不存在或已暂停资格"


class RecordNotFound(NotFound):
    code = "SERVICE_RECORD_NOT_FOUND"
    message = "服务记录不存在"


class NonceReused(Conflict):
    code = "CHECK_NONCE_REUSED"
    message = "该离线签到签退编号已用于另一个心愿的记录，请重新签到签退"


class AlreadyRated(Conflict):
    code = "ALREADY_RATED"
    message = "您已评价过这次服务"
