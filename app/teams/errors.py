"""Errors of teams and organisations: stable codes, Chinese messages."""

from __future__ import annotations

from app.errors import BadRequest, Conflict, Forbidden, NotFound


class TeamNotFound(NotFound):
    code = "TEAM_NOT_FOUND"
    message = "志愿服务队或组织不存在或不可见"


class MembershipNotFound(NotFound):
    code = "TEAM_MEMBERSHIP_NOT_FOUND"
    message = "入队申请或成员记录不存在或不可见"


class CallupNotFound(NotFound):
    code = "TEAM_CALLUP_NOT_FOUND"
    message = "团队召集不存在或不是发给您的"


class AdoptionNotFound(NotFound):
    code = "TEAM_ADOPTION_NOT_FOUND"
    message = "结对帮扶记录不存在或不可见"


class HouseholdNotFound(NotFound):
    code = "HOUSEHOLD_NOT_FOUND"
    message = "困难家庭不存在或不在您的辖区"


class VillageNotFound(NotFound):
    code = "VILLAGE_NOT_FOUND"
    message = "村（社区）实践站不存在或不在您的辖区"


class NotACentre(BadRequest):
    code = "NOT_A_CENTRE"
    message = "组织须由县（区）新时代文明实践中心认证，请选择一个实践中心"


class LeadRequired(BadRequest):
    code = "TEAM_LEAD_REQUIRED"
    message = "请指定一名志愿者为负责人（注册人不是志愿者时须指定）"


class LeadNotFound(BadRequest):
    code = "TEAM_LEAD_NOT_FOUND"
    message = "指定的负责人不是在册的志愿者"


class CreditCodeTaken(Conflict):
    code = "CREDIT_CODE_TAKEN"
    message = "该统一社会信用代码已有组织注册"


class TeamNotVerified(Conflict):
    code = "TEAM_NOT_VERIFIED"
    message = "该组织尚未通过认证或已被暂停，暂不能开展此项工作"


class TeamStatusConflict(Conflict):
    code = "TEAM_STATUS_CONFLICT"
    message = "该组织当前状态不能执行此操作"


class StaffCreatesTeams(Forbidden):
    code = "TEAM_NEEDS_COORDINATOR"
    message = "志愿服务队由所属单位的协调员建立；企业、学校等组织可自行注册"


class NotTeamLead(Forbidden):
    code = "NOT_TEAM_LEAD"
    message = "只有该队负责人或所属单位的协调员可以执行此操作"


class AlreadyMember(Conflict):
    code = "ALREADY_TEAM_MEMBER"
    message = "您已是该队成员或已提交申请"


class MembershipStatusConflict(Conflict):
    code = "TEAM_MEMBERSHIP_CONFLICT"
    message = "该成员记录当前状态不能执行此操作"


class LeadCannotLeave(Conflict):
    code = "TEAM_LEAD_CANNOT_LEAVE"
    message = "负责人不能退出本队"


class NotActiveMembers(BadRequest):
    code = "NOT_ACTIVE_TEAM_MEMBERS"
    message = "被召集的人须是本队在册成员（负责人本人已接单，无须召集）"


class MemberNotEligible(BadRequest):
    code = "MEMBER_NOT_ELIGIBLE"
    message = "被召集的成员不符合该心愿的硬性条件（年龄、技能资质、保险等）"


class CallupClosed(Conflict):
    code = "TEAM_CALLUP_CLOSED"
    message = "该召集已答复或已撤回"


class AlreadyAdopted(Conflict):
    code = "ALREADY_ADOPTED"
    message = "该组织已在结对帮扶这一对象"


class AdoptionEnded(Conflict):
    code = "ADOPTION_ENDED"
    message = "该结对帮扶已结束"


class PeriodInvalid(BadRequest):
    code = "TEAM_PERIOD_INVALID"
    message = "统计期无效：开始日期须不晚于结束日期，且不超过一年"


class OneTarget(BadRequest):
    code = "ADOPTION_TARGET_REQUIRED"
    message = "请指定一个困难家庭或一个村（社区），二者选一"
