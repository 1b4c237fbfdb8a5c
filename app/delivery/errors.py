"""Errors of delivery administration."""

from __future__ import annotations

from app.errors import Conflict, NotFound


class MessageNotFound(NotFound):
    code = "MESSAGE_NOT_FOUND"
    message = "消息不存在"


class MessageNotDead(Conflict):
    code = "MESSAGE_NOT_DEAD"
    message = "只有投递失败（死信）的消息才能重新投递"
