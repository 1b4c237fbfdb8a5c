from __future__ import annotations

from app.errors import BadRequest, Conflict, Forbidden, NotFound


class WishNotFound(NotFound):
    code = "WISH_NOT_FOUND"
    message = "心愿不存在"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"
    message = "该心愿当前状态不能执行此操作"


class RoleNotAllowed(Forbidden):
    code = "ROLE_NOT_ALLOWED"
    message = "您无权对该心愿执行此操作"


class WishAlreadyTaken(Conflict):
    code = "WISH_ALREADY_TAKEN"
    message = "该心愿已被其他志愿者接单"


class WishChanged(Conflict):
    code = "WISH_CHANGED"
    message = "心愿状态已变化，请刷新后重试"


class NotOffered(Forbidden):
    code = "NOT_OFFERED"
    message = "该心愿未派给您，也未开放抢单"


class OfferExpired(Conflict):
    code = "OFFER_EXPIRED"
    message = "派单邀请已过期"


class NotEligible(Forbidden):
    code = "NOT_ELIGIBLE"
    message = "您不满足该心愿的接单条件"


class AtCapacity(Conflict):
    code = "AT_CAPACITY"
    message = "您进行中的任务已达上限，请先完成已接的心愿"


class VolunteerSuspended(Forbidden):
    code = "VOLUNTEER_SUSPENDED"
    message = "您的志愿者资格已暂停"


class NotAssignee(Forbidden):
    code = "NOT_ASSIGNEE"
    message = "该心愿不是由您接单的"


class ReasonRequired(BadRequest):
    code = "REASON_REQUIRED"
    message = "请填写理由"


class OutOfServiceArea(BadRequest):
    code = "OUT_OF_SERVICE_AREA"
    message = "该地点不在任何实践站的服务范围内"


class InvalidTimeWindow(BadRequest):
    code = "INVALID_TIME_WINDOW"
    message = "期望服务时间不符合要求"


class UnknownCatalogueEntry(BadRequest):
    code = "UNKNOWN_CATALOGUE_ENTRY"
    message = "所选类别、技能、项目或季节主题不存在或已停用"


class InvalidOfferTarget(BadRequest):
    code = "INVALID_OFFER_TARGET"
    message = "不能向所选志愿者派单"


class AlreadyOffered(Conflict):
    code = "ALREADY_OFFERED"
    message = "已向该志愿者派过此单，正在等待回复"


class GrabAlreadyOpen(Conflict):
    code = "GRAB_ALREADY_OPEN"
    message = "该心愿已开放抢单"


class ProxyNotAllowed(Forbidden):
    code = "PROXY_NOT_ALLOWED"
    message = "只有该站点的网格员或协调员可以代群众点单"


class NotAResident(Forbidden):
    code = "NOT_A_RESIDENT"
    message = "请以群众身份登录后点单"
