"""What a message says, per topic (Chinese), and how it may be pushed.

A minimal rendering: a title per topic and the payload's own words. The full templates per
event replace it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rendered:
    title: str  # short Chinese title (inbox list; SMS prefix)
    body: str  # full Chinese text (inbox, SMS)
    urgent: bool  # falls back to SMS without WeChat quota; never held by quiet hours
    kind: str  # subscription template kind: offer, wish_update, task, todo, record
    fields: dict[str, str]  # subject, status, time, place, person, note
    page: str | None  # mini-program page to open


# topic → (title, kind, urgent)
_TOPICS: dict[str, tuple[str, str, bool]] = {
    "wish.submitted": ("心愿已提交", "wish_update", False),
    "wish.approved": ("心愿已通过审核", "wish_update", False),
    "wish.rejected": ("心愿未通过审核", "wish_update", False),
    "offer.received": ("您收到一个派单邀请", "offer", True),
    "wish.open_for_grab": ("附近有可接的心愿", "offer", False),
    "wish.accepted": ("志愿者已接单", "wish_update", False),
    "wish.taken": ("已由他人接单", "offer", False),
    "offer.declined": ("志愿者婉拒了派单", "todo", False),
    "offer.expired": ("派单邀请已过期", "offer", False),
    "wish.withdrawn": ("志愿者已退单", "wish_update", False),
    "task.released": ("任务已收回", "task", False),
    "wish.back_to_dispatch": ("心愿重新派单中", "wish_update", False),
    "wish.in_service": ("志愿者已到达", "wish_update", False),
    "wish.completed": ("服务已完成", "wish_update", False),
    "record.to_confirm": ("服务记录待确认", "todo", False),
    "wish.rated": ("您收到一条评价", "record", False),
    "wish.cancelled": ("心愿已取消", "wish_update", False),
    "wish.escalated": ("心愿已上报待处理", "todo", True),
    "task.check_in_due": ("请按时签到", "task", True),
    "task.check_out_due": ("请记得签退", "task", False),
}


def render(topic: str, payload: dict[str, Any]) -> Rendered:
    title, kind, urgent = _TOPICS.get(topic, ("新的通知", "wish_update", False))
    subject = str(payload.get("title") or payload.get("wish_title") or title)
    reason = payload.get("reason")
    body = f"{title}：{subject}" + (f"（{reason}）" if reason else "")
    wish_id = payload.get("wish_id")
    return Rendered(
        title=title,
        body=body,
        urgent=urgent,
        kind=kind,
        fields={"subject": subject, "status": title, "note": str(reason or title)},
        page=f"pages/wish/detail?id={wish_id}" if wish_id else None,
    )
