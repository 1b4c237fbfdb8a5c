"""Request and response bodies of teams and organisations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.records.honour.schemas import UnitRef
from app.schemas import Id, LongText, Name, OptionalNote, Phone, Schema, ShortReason, UnitName


class TeamKind(StrEnum):
    TEAM = "team"  # 志愿服务队（属于一个单位）
    ENTERPRISE = "enterprise"  # 企业
    SCHOOL = "school"  # 学校
    DEPARTMENT = "department"  # 机关部门
    SOCIAL_GROUP = "social_group"  # 社会组织

    @property
    def is_organisation(self) -> bool:
        return self != TeamKind.TEAM


class TeamStatus(StrEnum):
    PENDING = "pending"  # 待认证
    VERIFIED = "verified"  # 已认证 / 在册
    REJECTED = "rejected"  # 未通过
    SUSPENDED = "suspended"  # 暂停


class MemberStatus(StrEnum):
    APPLIED = "applied"
    ACTIVE = "active"
    REFUSED = "refused"
    LEFT = "left"


class CallupStatus(StrEnum):
    NAMED = "named"  # 已召集，待本人答复
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # 心愿退回或取消，召集随之撤回


KIND_LABELS = {
    TeamKind.TEAM: "志愿服务队",
    TeamKind.ENTERPRISE: "企业",
    TeamKind.SCHOOL: "学校",
    TeamKind.DEPARTMENT: "机关部门",
    TeamKind.SOCIAL_GROUP: "社会组织",
}

CreditCode = Annotated[
    str,
    Field(
        min_length=18,
        max_length=18,
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
        description="统一社会信用代码（18 位）",
    ),
]


class TeamCreate(Schema):
    """A team set up by a unit's coordinator, or an organisation registering with a centre."""

    kind: TeamKind
    name: UnitName
    unit_id: Id = Field(description="志愿服务队：所属单位；组织：认证它的县（区）实践中心")
    description: LongText = ""
    credit_code: CreditCode | None = None
    contact_name: Name | None = None
    contact_phone: Phone | None = None
    lead_volunteer_id: Id | None = Field(
        default=None, description="负责人（志愿者）；不填时注册人本人是志愿者即为负责人"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "enterprise",
                    "name": "安吉竹海生态科技有限公司",
                    "unit_id": 2,
                    "description": "员工志愿服务队，每月到结对村开展助老服务",
                    "credit_code": "91330523MA2B3C4D5E",
                    "contact_name": "王经理",
                    "contact_phone": "13900001234",
                }
            ]
        }
    )


class DecisionIn(Schema):
    reason: ShortReason

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "营业执照信息与申报不符"}]}
    )


class OptionalDecisionIn(Schema):
    reason: ShortReason | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "资料齐全，同意"}]})


class TeamOut(BaseModel):
    id: int
    kind: TeamKind
    kind_label: str
    name: str
    description: str
    status: TeamStatus
    unit: UnitRef
    credit_code: str | None = None
    contact_name: str | None = Field(default=None, description="联系人（负责人与协调员以外脱敏）")
    contact_phone: str | None = Field(default=None, description="联系电话（脱敏）")
    lead_volunteer_id: int | None = None
    lead_name: str | None = None
    member_count: int = Field(description="在册成员数（含负责人）")
    verified_at: datetime | None = None
    decision_reason: str | None = None
    created_at: datetime
    my_membership: MemberStatus | None = Field(
        default=None, description="调用者本人在该队的成员状态"
    )
    i_lead: bool = Field(default=False, description="调用者是否为负责人")
    i_manage: bool = Field(default=False, description="调用者是否为所属单位（或上级）的协调员")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "kind": "enterprise",
                    "kind_label": "企业",
                    "name": "安吉竹海生态科技有限公司",
                    "description": "员工志愿服务队",
                    "status": "verified",
                    "unit": {"id": 2, "name": "安吉县新时代文明实践中心"},
                    "credit_code": "91330523MA2B3C4D5E",
                    "contact_name": "王经理",
                    "contact_phone": "139****1234",
                    "lead_volunteer_id": 7,
                    "lead_name": "王建国",
                    "member_count": 12,
                    "verified_at": "2026-11-02T02:00:00Z",
                    "decision_reason": None,
                    "created_at": "2026-11-01T02:00:00Z",
                    "my_membership": None,
                    "i_lead": False,
                    "i_manage": True,
                }
            ]
        }
    )


class MemberApply(Schema):
    note: OptionalNote = ""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "我是公司员工，想参加"}]})


class MemberOut(BaseModel):
    id: int
    team_id: int
    volunteer_id: int
    name: str
    station: UnitRef
    role: str = Field(description="lead 负责人 | member 成员")
    status: MemberStatus
    reason: str | None = None
    decided_at: datetime | None = None
    created_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "team_id": 1,
                    "volunteer_id": 9,
                    "name": "李*",
                    "station": {"id": 8, "name": "余村新时代文明实践站"},
                    "role": "member",
                    "status": "applied",
                    "reason": None,
                    "decided_at": None,
                    "created_at": "2026-11-03T02:00:00Z",
                }
            ]
        }
    )


class AcceptAsTeamIn(Schema):
    team_id: Id
    member_ids: list[Id] = Field(
        min_length=1, max_length=30, description="召集的成员（志愿者 id），每人自行接受或谢绝"
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"team_id": 1, "member_ids": [9, 12]}]}
    )


class CallupOut(BaseModel):
    id: int
    team_id: int
    team_name: str
    wish_id: int | None = None
    activity_id: int | None = None
    volunteer_id: int
    name: str
    status: CallupStatus
    answered_at: datetime | None = None
    created_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "team_id": 1,
                    "team_name": "安吉竹海生态科技有限公司",
                    "wish_id": 42,
                    "activity_id": None,
                    "volunteer_id": 9,
                    "name": "李*",
                    "status": "named",
                    "answered_at": None,
                    "created_at": "2026-11-05T02:00:00Z",
                }
            ]
        }
    )


class AcceptedAsTeamOut(BaseModel):
    wish_id: int
    team_id: int
    status: str = Field(description="心愿状态（accepted）")
    callups: list[CallupOut]


class MemberHours(BaseModel):
    volunteer_id: int
    name: str
    hours: float


class TeamHoursOut(BaseModel):
    team_id: int
    start_date: date
    end_date: date
    hours: float = Field(description="成员期内经确认的服务时长之和（入队后）")
    members: list[MemberHours]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "team_id": 1,
                    "start_date": "2026-01-01",
                    "end_date": "2026-12-31",
                    "hours": 7.5,
                    "members": [
                        {"volunteer_id": 9, "name": "李*", "hours": 4.5},
                        {"volunteer_id": 12, "name": "赵*", "hours": 3.0},
                    ],
                }
            ]
        }
    )


class TeamWishRow(BaseModel):
    wish_id: int
    title: str
    status: str
    accepted_at: datetime | None = None
    members_accepted: int


class TeamRecordOut(BaseModel):
    team: TeamOut
    start_date: date
    end_date: date
    wishes_taken: int = Field(description="期内以团队名义接下的心愿")
    wishes_completed: int = Field(description="其中已完成服务的")
    activities_joined: int = Field(description="期内以团队名义报名的活动")
    hours: float
    active_members: int
    wishes: list[TeamWishRow] = Field(description="期内接下的心愿（最近的在前，至多 50 条）")


class TeamHonourRow(BaseModel):
    rank: int = Field(description="名次；时长相同者名次相同（1、2、2、4）")
    volunteer_id: int
    name: str
    hours: float


class TeamHonourOut(BaseModel):
    team_id: int
    period: str
    start_date: date
    end_date: date
    items: list[TeamHonourRow]


class AdoptionIn(Schema):
    household_id: Id | None = Field(default=None, description="结对的困难家庭（与村二选一）")
    village_id: Id | None = Field(default=None, description="结对的村（社区）实践站")
    start_date: date | None = Field(default=None, description="开始日期，默认今天")
    note: OptionalNote = ""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"village_id": 8, "note": "帮扶村里的竹制品销售"}]}
    )


class AdoptionOut(BaseModel):
    id: int
    team_id: int
    household_id: int | None = None
    household: str | None = Field(default=None, description="家庭的大致地址（不含姓名门牌）")
    village: UnitRef | None = None
    status: str
    start_date: date
    end_date: date | None = None
    note: str | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "team_id": 1,
                    "household_id": None,
                    "household": None,
                    "village": {"id": 8, "name": "余村新时代文明实践站"},
                    "status": "active",
                    "start_date": "2026-03-01",
                    "end_date": None,
                    "note": "帮扶村里的竹制品销售",
                }
            ]
        }
    )


class TeamHelpOut(BaseModel):
    """万企帮万户: what one organisation has done, counted from the records."""

    team_id: int
    name: str
    kind: TeamKind
    start_date: date
    end_date: date
    wishes_served: int = Field(description="以团队名义接下并完成服务的心愿")
    activities_joined: int = Field(description="以团队名义参加的活动（个）")
    hours: float = Field(description="成员期内经确认的服务时长之和")
    households_adopted: int = Field(description="结对中的困难家庭（期内任一天在结对）")
    villages_adopted: int = Field(description="结对中的村（社区）")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "team_id": 1,
                    "name": "安吉竹海生态科技有限公司",
                    "kind": "enterprise",
                    "start_date": "2026-01-01",
                    "end_date": "2026-12-31",
                    "wishes_served": 3,
                    "activities_joined": 5,
                    "hours": 21.5,
                    "households_adopted": 2,
                    "villages_adopted": 1,
                }
            ]
        }
    )
