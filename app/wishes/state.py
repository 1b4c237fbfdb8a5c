"""The wish state machine as data. Imports nothing from the database (the statuses are
column values, so they live with the models in `app.models.enums`).

`TRANSITIONS[(status, event)]` says where an event takes a wish from a status, and which actor
roles may fire it. Anything not in the table is refused (409); a role not listed is refused
(403). The service applies every event through one entry point (`wishes.service.apply_event`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.models.enums import WishStatus


class WishEvent(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    OFFER = "offer"  # 定向派单：只是邀请，志愿者接单后才成为其任务
    OPEN_GRAB = "open_grab"  # 开放抢单
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"  # 志愿者接单后退单（须说明理由），心愿回到待派单
    RELEASE = "release"  # 协调员收回已接单的心愿，回到待派单
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    RATE = "rate"
    CANCEL = "cancel"
    CLOSE = "close"
    ESCALATE = "escalate"  # 上报：交上级单位（所、中心、市）处理
    EXPIRE = "expire"  # 派单邀请超时未答复
    REMIND = "remind"  # 提醒志愿者按时签到（已接单）或签退（服务中）


class ActorRole(StrEnum):
    """The role in which an actor fires an event on one wish."""

    REQUESTER = "requester"  # 点单群众，或代其点单的人
    VOLUNTEER = "volunteer"  # 受邀/可抢单/已接单的志愿者
    COORDINATOR = "coordinator"  # 心愿所在站点或其上级单位的协调员
    ADMIN = "admin"
    SYSTEM = "system"  # 定时任务


@dataclass(frozen=True)
class Transition:
    to: WishStatus
    roles: frozenset[ActorRole]


S = WishStatus
E = WishEvent
R = ActorRole

_STAFF = frozenset({R.COORDINATOR, R.ADMIN})
_STAFF_AND_SYSTEM = frozenset({R.COORDINATOR, R.ADMIN, R.SYSTEM})
_VOLUNTEER = frozenset({R.VOLUNTEER})
_VOLUNTEER_OR_STAFF = frozenset({R.VOLUNTEER, R.COORDINATOR, R.ADMIN})
_REQUESTER_OR_STAFF = frozenset({R.REQUESTER, R.COORDINATOR, R.ADMIN})
_ANYONE_ACCOUNTABLE = frozenset({R.REQUESTER, R.COORDINATOR, R.ADMIN, R.SYSTEM})
_SYSTEM = frozenset({R.SYSTEM})

# The status a new wish starts in; `submit` creates it and is not a transition between statuses.
INITIAL_STATUS = S.SUBMITTED

TRANSITIONS: dict[tuple[WishStatus, WishEvent], Transition] = {
    # 审单
    (S.SUBMITTED, E.APPROVE): Transition(S.APPROVED, _STAFF),
    (S.SUBMITTED, E.REJECT): Transition(S.REJECTED, _STAFF),
    # 派单
    (S.APPROVED, E.OFFER): Transition(S.DISPATCHING, _STAFF_AND_SYSTEM),
    (S.DISPATCHING, E.OFFER): Transition(S.DISPATCHING, _STAFF_AND_SYSTEM),
    (S.APPROVED, E.OPEN_GRAB): Transition(S.DISPATCHING, _STAFF_AND_SYSTEM),
    (S.DISPATCHING, E.OPEN_GRAB): Transition(S.DISPATCHING, _STAFF_AND_SYSTEM),
    # 接单
    (S.DISPATCHING, E.ACCEPT): Transition(S.ACCEPTED, _VOLUNTEER),
    (S.DISPATCHING, E.DECLINE): Transition(S.DISPATCHING, _VOLUNTEER),
    (S.ACCEPTED, E.WITHDRAW): Transition(S.APPROVED, _VOLUNTEER),
    (S.ACCEPTED, E.RELEASE): Transition(S.APPROVED, _STAFF_AND_SYSTEM),
    # 服务
    (S.ACCEPTED, E.CHECK_IN): Transition(S.IN_SERVICE, _VOLUNTEER_OR_STAFF),
    (S.IN_SERVICE, E.CHECK_OUT): Transition(S.COMPLETED, _VOLUNTEER_OR_STAFF),
    # 评单
    (S.COMPLETED, E.RATE): Transition(S.RATED, frozenset({R.REQUESTER})),
    (S.COMPLETED, E.CLOSE): Transition(S.CLOSED, _STAFF_AND_SYSTEM),
    (S.RATED, E.CLOSE): Transition(S.CLOSED, _STAFF_AND_SYSTEM),
    # 取消：群众在接单前可取消；协调员在完成前可取消（须说明理由）；期望时间已过仍无人接单时，
    # 系统取消并告知群众
    (S.SUBMITTED, E.CANCEL): Transition(S.CANCELLED, _ANYONE_ACCOUNTABLE),
    (S.APPROVED, E.CANCEL): Transition(S.CANCELLED, _ANYONE_ACCOUNTABLE),
    (S.DISPATCHING, E.CANCEL): Transition(S.CANCELLED, _ANYONE_ACCOUNTABLE),
    (S.ACCEPTED, E.CANCEL): Transition(S.CANCELLED, _STAFF),
    (S.IN_SERVICE, E.CANCEL): Transition(S.CANCELLED, _STAFF),
    # 派单阶梯：邀请超时、上报上级、提醒签到
    (S.DISPATCHING, E.EXPIRE): Transition(S.DISPATCHING, _SYSTEM),
    (S.SUBMITTED, E.ESCALATE): Transition(S.SUBMITTED, _STAFF_AND_SYSTEM),
    (S.APPROVED, E.ESCALATE): Transition(S.APPROVED, _STAFF_AND_SYSTEM),
    (S.DISPATCHING, E.ESCALATE): Transition(S.DISPATCHING, _STAFF_AND_SYSTEM),
    (S.ACCEPTED, E.REMIND): Transition(S.ACCEPTED, _STAFF_AND_SYSTEM),
    (S.IN_SERVICE, E.REMIND): Transition(S.IN_SERVICE, _STAFF_AND_SYSTEM),
}

TERMINAL_STATUSES = frozenset({S.REJECTED, S.CLOSED, S.CANCELLED})

# The timestamp column set when a wish enters each status.
STATUS_TIMESTAMP: dict[WishStatus, str] = {
    S.SUBMITTED: "submitted_at",
    S.APPROVED: "approved_at",
    S.REJECTED: "rejected_at",
    S.DISPATCHING: "dispatching_at",
    S.ACCEPTED: "accepted_at",
    S.IN_SERVICE: "in_service_at",
    S.COMPLETED: "completed_at",
    S.RATED: "rated_at",
    S.CLOSED: "closed_at",
    S.CANCELLED: "cancelled_at",
}


STATUS_LABELS: dict[WishStatus, str] = {
    S.SUBMITTED: "待审核",
    S.APPROVED: "待派单",
    S.REJECTED: "审核未通过",
    S.DISPATCHING: "派单中",
    S.ACCEPTED: "已接单",
    S.IN_SERVICE: "服务中",
    S.COMPLETED: "待评价",
    S.RATED: "已评价",
    S.CLOSED: "已办结",
    S.CANCELLED: "已取消",
}

EVENT_LABELS: dict[WishEvent, str] = {
    E.SUBMIT: "点单",
    E.APPROVE: "审核通过",
    E.REJECT: "审核不通过",
    E.OFFER: "派单",
    E.OPEN_GRAB: "开放抢单",
    E.ACCEPT: "接单",
    E.DECLINE: "婉拒派单",
    E.WITHDRAW: "退单",
    E.RELEASE: "收回",
    E.CHECK_IN: "签到",
    E.CHECK_OUT: "签退",
    E.RATE: "评价",
    E.CANCEL: "取消",
    E.CLOSE: "办结",
    E.ESCALATE: "上报",
    E.EXPIRE: "邀请超时",
    E.REMIND: "提醒",
}


def transition_for(status: WishStatus, event: WishEvent) -> Transition | None:
    return TRANSITIONS.get((status, event))
