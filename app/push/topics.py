"""The topics a user may opt out of, with the names the mini-program shows."""

from __future__ import annotations

KNOWN_TOPICS: dict[str, str] = {
    "wish.submitted": "心愿提交成功",
    "wish.approved": "心愿通过审核",
    "wish.rejected": "心愿未通过审核",
    "wish.accepted": "志愿者接单",
    "wish.in_service": "志愿者到达服务",
    "wish.completed": "服务完成",
    "wish.cancelled": "心愿取消",
    "wish.withdrawn": "志愿者退单",
    "wish.back_to_dispatch": "心愿重新派单",
    "wish.rated": "收到评价",
    "wish.escalated": "心愿上报待处理",
    "wish.open_for_grab": "附近可抢的心愿",
    "wish.taken": "心愿已由他人接单",
    "offer.received": "派单邀请",
    "offer.declined": "派单被婉拒",
    "offer.expired": "派单邀请过期",
    "task.released": "任务被收回",
    "task.check_in_due": "签到提醒",
    "task.check_out_due": "签退提醒",
    "record.to_confirm": "服务记录待确认",
    "star.awarded": "星级认定",
    "star.held": "星级暂缓",
    "star.revoked": "星级撤销",
}
