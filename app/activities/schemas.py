"""Request and response bodies of activities."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.activities.state import ActivityStatus, Recurrence, SignupRole, SignupStatus
from app.matching.scoring import Reason
from app.schemas import (
    Code,
    Id,
    Instant,
    Lat,
    LatOut,
    Lng,
    LngOut,
    Located,
    LongText,
    RequiredAddress,
    Schema,
    ShortReason,
    ShortText,
)

Headcount = Annotated[int, Field(ge=1, le=10000)]
Age = Annotated[int, Field(ge=0, le=120)]
FestivalYear = Annotated[int, Field(ge=1901, le=2099)]


class ActivityFields(Located):
    """What a unit says of an activity (every field optional: PATCH sends only what changes)."""

    title: ShortText | None = None
    description: LongText | None = None
    category_code: Code | None = None
    programme_code: Code | None = None
    season_code: Code | None = Field(
        default=None, description="四季红季节主题；不填时按首场日期所在季节"
    )
    festival_code: Code | None = Field(
        default=None,
        description="我们的节日：节日代码（spring_festival、double_ninth…，见 /festivals）",
    )
    place: RequiredAddress | None = Field(default=None, description="公共场所，按原样公开")
    lat: Lat | None = None
    lng: Lng | None = None
    starts_at: Instant | None = Field(
        default=None, description="首场开始时间；按节日定日期时可不填，改填 start_time/end_time"
    )
    ends_at: Instant | None = None
    festival_year: FestivalYear | None = Field(
        default=None, description="按节日定日期：节日所在年份（默认今天及以后最近的一次）"
    )
    start_time: time | None = Field(default=None, description="按节日定日期：当天开始时间（本地）")
    end_time: time | None = Field(default=None, description="按节日定日期：当天结束时间（本地）")
    recurrence: Recurrence | None = None
    repeat_until: Instant | None = Field(default=None, description="重复活动的最后日期（含）")
    headcount: Headcount | None = None
    skill_codes: list[Code] | None = Field(default=None, max_length=20)
    min_age: Age | None = None
    max_age: Age | None = None
    needs_insurance: bool | None = Field(
        default=None, description="有风险的活动须志愿者在保期内；不填时按服务类别"
    )
    signup_opens_at: Instant | None = None
    signup_closes_at: Instant | None = Field(default=None, description="默认首场开始时截止")
    residents_may_join: bool | None = None
    participant_limit: Annotated[int, Field(ge=1, le=10000)] | None = None


class ActivityCreate(ActivityFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unit_id": 12,
                    "title": "重阳节敬老志愿服务",
                    "description": "为村里老人义诊、理发、包饺子",
                    "category_code": "elderly_orphan_care",
                    "festival_code": "double_ninth",
                    "start_time": "09:00",
                    "end_time": "11:30",
                    "place": "余村文化礼堂",
                    "lat": 30.5236,
                    "lng": 119.6432,
                    "headcount": 20,
                    "min_age": 16,
                    "residents_may_join": True,
                    "participant_limit": 30,
                },
                {
                    "unit_id": 12,
                    "title": "每周六垃圾分类宣传",
                    "place": "余村村民广场",
                    "starts_at": "2027-03-06T09:00:00+08:00",
                    "ends_at": "2027-03-06T11:00:00+08:00",
                    "recurrence": "weekly",
                    "repeat_until": "2027-03-27T23:59:00+08:00",
                    "headcount": 8,
                    "publish": False,
                },
            ]
        }
    )

    unit_id: Id = Field(description="发布单位（中心、所或站）")
    title: ShortText
    place: RequiredAddress
    headcount: Headcount
    publish: bool = Field(default=True, description="false 时保存为草稿")


class ActivityUpdate(ActivityFields):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"headcount": 30, "place": "余村文化礼堂二楼"}]}
    )


class ActivityCancelIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "台风预警，活动取消"}]})

    reason: ShortReason


class SignupCancelIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "家中有事，去不了"}]})

    reason: ShortReason | None = None


class TeamSignupIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"team_id": 3, "volunteer_ids": [41, 42, 57]}]}
    )

    team_id: Id
    volunteer_ids: list[Id] = Field(min_length=1, max_length=200)


class NearMe(Located):
    lat: Lat
    lng: Lng


class UnitRef(BaseModel):
    id: int
    name: str


class FestivalRef(BaseModel):
    code: str
    name: str
    gregorian_date: date | None = Field(description="该活动年份的节日日期（农历推算）")
    lunar_date: str | None = None


class SessionOut(BaseModel):
    id: int
    starts_at: datetime
    ends_at: datetime


class ActivityOut(BaseModel):
    id: int
    unit: UnitRef
    title: str
    description: str
    status: ActivityStatus
    category_code: str | None
    programme_code: str | None
    season_code: str | None
    festival: FestivalRef | None
    place: str
    lat: LatOut | None
    lng: LngOut | None
    distance_m: int | None = Field(default=None, description="距查询位置（米）")
    starts_at: datetime
    ends_at: datetime
    recurrence: Recurrence
    repeat_until: datetime | None
    sessions: list[SessionOut]
    headcount: int
    admitted: int
    waiting: int
    skill_codes: list[str]
    min_age: int | None
    max_age: int | None
    needs_insurance: bool
    signup_opens_at: datetime
    signup_closes_at: datetime
    signup_open: bool = Field(description="现在是否可以报名")
    residents_may_join: bool
    participant_limit: int | None
    published_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    my_signup: SignupOut | None = Field(default=None, description="本人的报名（如有）")


class SignupOut(BaseModel):
    id: int
    activity_id: int
    user_id: int
    volunteer_id: int | None
    name: str
    role: SignupRole
    status: SignupStatus
    position: int | None = Field(description="候补位次（1 为下一个递补）；非候补时为空")
    team_id: int | None
    queued_at: datetime
    admitted_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None


class ReasonOut(BaseModel):
    code: Reason
    text: str


class ActivityCallupOut(BaseModel):
    id: int
    team_id: int
    activity_id: int
    volunteer_id: int
    status: str
    answered_at: datetime | None


class TeamSignupOut(BaseModel):
    callups: list[ActivityCallupOut]


class MyActivityOut(BaseModel):
    signup: SignupOut
    activity: ActivityOut


class CallupAnswerOut(BaseModel):
    callup: ActivityCallupOut
    signup: SignupOut | None


ActivityOut.model_rebuild()
