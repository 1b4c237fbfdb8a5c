from __future__ import annotations

from app.errors import BadRequest, NotFound


class WebhookNotFound(NotFound):
    code = "WEBHOOK_NOT_FOUND"
    message = "回调订阅不存在"


class InvalidWebhookUrl(BadRequest):
    code = "WEBHOOK_URL_INVALID"
    message = "回调地址无效"


class UnknownWebhookEvent(BadRequest):
    code = "WEBHOOK_EVENT_UNKNOWN"
    message = "订阅的事件类型不存在"


class WebhookUnitNotFound(BadRequest):
    code = "WEBHOOK_UNIT_NOT_FOUND"
    message = "所选单位不存在"
