from __future__ import annotations

from app.errors import AppError


class UnknownTopic(AppError):
    status_code = 400
    code = "NOTIFICATION_TOPIC_UNKNOWN"
    message = "包含未知的通知类型"


class QuietHoursInvalid(AppError):
    status_code = 400
    code = "QUIET_HOURS_INVALID"
    message = "免打扰时段的开始与结束时间须同时填写且不能相同"


class UnknownTemplate(AppError):
    status_code = 400
    code = "SUBSCRIPTION_TEMPLATE_UNKNOWN"
    message = "包含本服务未使用的订阅消息模板"
