"""Enumerations stored as strings. The wish state machine's enums live in `wishes/state.py`."""

from __future__ import annotations

from enum import StrEnum


class OrgLevel(StrEnum):
    CITY = "city"  # 市：文明办 / 志愿服务联合会
    COUNTY = "county"  # 县(区)：新时代文明实践中心
    TOWNSHIP = "township"  # 乡镇(街道)：新时代文明实践所
    VILLAGE = "village"  # 村(社区)：新时代文明实践站


# Parent level of each level; the tree is city → county → township → village.
PARENT_LEVEL: dict[OrgLevel, OrgLevel | None] = {
    OrgLevel.CITY: None,
    OrgLevel.COUNTY: OrgLevel.CITY,
    OrgLevel.TOWNSHIP: OrgLevel.COUNTY,
    OrgLevel.VILLAGE: OrgLevel.TOWNSHIP,
}


class AccountRole(StrEnum):
    RESIDENT = "resident"  # 群众
    VOLUNTEER = "volunteer"  # 志愿者
    COORDINATOR = "coordinator"  # 站/所/中心的协调员，作用于其单位及下级
    ADMIN = "admin"  # 系统管理员
    GRID_WORKER = "grid_worker"  # 网格员：为本村(社区)群众代点单


# Roles granted for one org unit (the grant names it).
SCOPED_ROLES = frozenset({AccountRole.COORDINATOR, AccountRole.GRID_WORKER})


class VolunteerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # 心愿已被他人接单、取消或被协调员收回


class Urgency(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting to be delivered (claimed by a worker while locked_until holds)
    SENT = "sent"  # delivered (delivered_via says how)
    SKIPPED = "skipped"  # nothing to push (opt-out, no channel); the inbox still lists it
    DEAD = "dead"  # dead-lettered after its attempts or a permanent failure; admins re-drive it


class SessionKind(StrEnum):
    """How a session was opened (tokens carry it as `kind`)."""

    CONSUMER = "consumer"  # WeChat login, or the development phone login: residents, volunteers
    STAFF = "staff"  # username + password: coordinators and admins


class WishStatus(StrEnum):
    SUBMITTED = "submitted"  # 已提交，待审核
    APPROVED = "approved"  # 已审核，待派单
    REJECTED = "rejected"  # 审核未通过
    DISPATCHING = "dispatching"  # 派单中（定向派单或开放抢单）
    ACCEPTED = "accepted"  # 已接单
    IN_SERVICE = "in_service"  # 服务中（已签到）
    COMPLETED = "completed"  # 服务完成（已签退），待评价
    RATED = "rated"  # 已评价
    CLOSED = "closed"  # 已办结
    CANCELLED = "cancelled"  # 已取消


# Statuses in which a volunteer holds the wish as a task.
TASK_STATUSES = frozenset({WishStatus.ACCEPTED, WishStatus.IN_SERVICE})


class AttendanceStatus(StrEnum):
    """A service record's status: one per volunteer per wish (the lead's and each team member's)."""

    ASSIGNED = "assigned"  # 已安排，未签到
    IN_SERVICE = "in_service"  # 已签到，服务中
    CHECKED_OUT = "checked_out"  # 已签退，待确认时长
    CREDITED = "credited"  # 已确认，时长已入账
    REJECTED = "rejected"  # 确认未通过，不计时长
