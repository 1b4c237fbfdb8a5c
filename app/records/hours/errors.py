"""The errors of confirmation and the hours ledger, with their stable codes."""

from __future__ import annotations

from app.errors import BadRequest, Conflict, Forbidden, NotFound


class AlreadyConfirmed(Conflict):
    code = "RECORD_ALREADY_CONFIRMED"
    message = "该服务记录已确认或已驳回"


class NotConfirmable(Conflict):
    code = "RECORD_NOT_CHECKED_OUT"
    message = "志愿者签退后才能确认服务时长"


class ConfirmerNotAllowed(Forbidden):
    code = "CONFIRMER_NOT_ALLOWED"
    message = "按本单位规则，您不能确认此服务时长"


class EntryNotFound(NotFound):
    code = "HOURS_ENTRY_NOT_FOUND"
    message = "记录不存在"


class AlreadyReversed(Conflict):
    code = "ENTRY_ALREADY_REVERSED"
    message = "该记录已被冲销"


class ReversalNotReversible(Conflict):
    code = "REVERSAL_NOT_REVERSIBLE"
    message = "冲销记录不能再次冲销"


class HoursOverCap(BadRequest):
    code = "HOURS_OVER_CAP"
    message = "时长超过本单位单次活动的计入上限"
