from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from app.geo import DistanceBand, band_of
from app.models.enums import OfferStatus, Urgency, WishStatus
from app.privacy.schemas import ConsentVersion
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
    Name,
    OptionalNote,
    Phone,
    ReadSchema,
    Reason,
    RequiredAddress,
    Schema,
    ShortNote,
    ShortText,
)
from app.wishes import examples
from app.wishes.state import STATUS_LABELS, ActorRole, WishEvent


class ProxyConsent(Schema):
    """How the resident's consent to the processing of their personal information was
    obtained by whoever orders for them, and which text they were told
    (`GET /consent-texts/personal_info`)."""

    method: Literal["verbal", "written", "in_person"] = Field(
        description="verbal 口头同意 · written 书面同意（纸质留存于站点）· in_person 当面确认"
    )
    version: ConsentVersion = Field(description="向居民说明的授权文本版本")


class OnBehalfOf(Schema):
    """The resident a grid worker or coordinator orders for (代点单), and their consent."""

    phone: Phone
    name: Name
    consent: ProxyConsent


class WishCreate(Located):
    model_config = ConfigDict(json_schema_extra={"examples": examples.WISH_CREATE})

    category_code: Code
    title: ShortText
    description: LongText = ""
    skill_codes: Annotated[list[Code], Field(max_length=10)] = []
    coarse_address: ShortText = Field(description="公开显示的大致地址，如“余村 3 组附近”")
    full_address: RequiredAddress = Field(description="详细地址，仅接单志愿者与协调员可见")
    contact_phone: Phone | None = None
    lat: Lat
    lng: Lng
    wanted_start_at: Instant
    wanted_end_at: Instant
    urgency: Urgency = Urgency.NORMAL
    programme_code: Code | None = None
    season_code: Code | None = None
    station_id: Id | None = Field(
        default=None, description="所属实践站；不填则按地点自动匹配最近的站点"
    )
    on_behalf_of: OnBehalfOf | None = None

    @field_validator("skill_codes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class NoteIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "已电话核实，情况属实"}]})

    note: OptionalNote = ""


class ReasonIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "心愿涉及代缴电费，不属于志愿服务范围，请联系村委会"}]
        }
    )

    reason: Reason


class OptionalReasonIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "周六要加班，去不了"}]})

    reason: OptionalNote = ""


class OfferIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "volunteer_ids": [42, 57],
                    "expires_in_minutes": 120,
                    "note": "离老人家最近的两位，谁先接单谁去",
                }
            ]
        }
    )

    volunteer_ids: Annotated[list[Id], Field(min_length=1, max_length=20)]
    expires_in_minutes: Annotated[int, Field(ge=5, le=7 * 24 * 60)] | None = None
    note: ShortNote = ""

    @field_validator("volunteer_ids")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))


class RateIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"score": 5, "comment": "小王很耐心，菜买得很新鲜，谢谢！"}]
        }
    )

    score: Annotated[int, Field(ge=1, le=5)]
    comment: OptionalNote = ""


class StationRef(BaseModel):
    id: int
    name: str


class PersonRef(BaseModel):
    id: int
    name: str
    phone: str | None = None


class MyOfferOut(BaseModel):
    id: int
    status: OfferStatus
    expires_at: datetime


class DistanceOut(BaseModel):
    """How far a wish is from the volunteer's home, as a band (never metres)."""

    band: DistanceBand = Field(description="距离档位代码")
    label: str = Field(description="中文说明，如“1–3 公里”")
    min_m: int = Field(description="档位下限（米，含）")
    max_m: int | None = Field(description="档位上限（米，不含）；最远一档为 null")

    @classmethod
    def of(cls, metres: float) -> DistanceOut:
        band, low, high, label = band_of(metres)
        return cls(band=band, label=label, min_m=low, max_m=high)


class NextStepOut(BaseModel):
    """What the dispatch ladder will do to the wish by itself, and when."""

    action: str = Field(
        description=(
            "escalate 上报上级单位 · dispatch 自动派出下一轮邀请或开放抢单 · expire 邀请到期 · "
            "cancel 超过期望时段自动取消 · remind 提醒志愿者签到或签退 · "
            "release 未签到收回并重新派单 · close 自动办结"
        )
    )
    label: str = Field(description="中文说明，如“超时未审核，上报上级单位”")
    at: datetime = Field(description="到期时间；已到期时为当前时间（定时任务随即执行）")


class WishOut(BaseModel):
    """A wish as the caller may see it. Volunteers who have not accepted it see no requester,
    no contact and only its coarse place: the centre of the 0.01° cell that holds it (about
    1 km), from which everything they are told (distance band, whether they may take it) is
    computed (`redacted`). Others who may see it get names, masked phones, the coarse place and
    no full address (`masked`): `POST /wishes/{id}/reveal` gives the full contact to whoever
    needs it, and logs it. The requester sees their own wish in full."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.WISH_OUT]})

    id: int
    title: str
    description: str
    category_code: str
    programme_code: str | None
    season_code: str | None
    skill_codes: list[str]
    station: StationRef
    coarse_address: str
    full_address: str | None
    contact_phone: str | None
    lat: LatOut
    lng: LngOut
    wanted_start_at: datetime
    wanted_end_at: datetime
    urgency: Urgency
    status: WishStatus
    version: int
    grab_open: bool
    requester: PersonRef | None
    proxy_id: int | None
    assignee: PersonRef | None
    reject_reason: str | None
    cancel_reason: str | None
    rating: int | None
    rating_comment: str | None
    submitted_at: datetime | None
    approved_at: datetime | None
    rejected_at: datetime | None
    dispatching_at: datetime | None
    accepted_at: datetime | None
    in_service_at: datetime | None
    completed_at: datetime | None
    rated_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    redacted: bool = Field(
        description="尚未接单的志愿者所见：不含发起人与联系方式，位置与距离均按粗略位置计算"
    )
    masked: bool = Field(description="个人信息已脱敏；如需完整联系方式请调用 reveal 接口")
    can_reveal: bool = Field(description="当前用户此刻可否查看完整联系方式（查看会留痕）")
    my_roles: list[ActorRole]
    allowed_events: list[WishEvent] = Field(description="当前用户此刻可执行的操作")
    my_offer: MyOfferOut | None = None
    distance: DistanceOut | None = Field(
        default=None,
        description=(
            "志愿者本人住址到心愿的距离档位；未接单时按心愿的大致位置（约 1 公里网格中心）计算"
        ),
    )
    distance_m: float | None = Field(
        default=None,
        description="志愿者本人住址到心愿确切位置的距离（米），仅接单（及同组服务）的志愿者可见",
    )
    next_step: NextStepOut | None = Field(
        default=None,
        description=(
            "仅辖区协调员与管理员可见：派单流程下一步将自动执行的操作及其时间"
            "（每次状态变化后重新计算）；已结束的心愿为 null"
        ),
    )
    subscribe_hint: list[str] = Field(
        default_factory=list,
        description=(
            "点单与接单的响应中：建议此刻以 wx.requestSubscribeMessage 请求订阅的模板 id"
            "（至多 3 个，见 GET /me/subscriptions）"
        ),
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        """The status in words, e.g. “派单中”."""
        return STATUS_LABELS[self.status]


class WishSummary(BaseModel):
    """A row in a list."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.WISH_SUMMARY]})

    id: int
    title: str
    category_code: str
    station_id: int
    coarse_address: str
    wanted_start_at: datetime
    wanted_end_at: datetime
    urgency: Urgency
    status: WishStatus
    grab_open: bool
    created_at: datetime
    distance: DistanceOut | None = Field(
        default=None,
        description=(
            "附近可抢、派单邀请列表中：本人住址到心愿大致位置（约 1 公里网格中心）的距离档位"
        ),
    )
    next_step: NextStepOut | None = Field(
        default=None,
        description=(
            "仅 GET /wishes（协调员、管理员）：派单流程下一步将自动执行的操作及其时间，"
            "与心愿详情的 next_step 相同；已结束的心愿为 null"
        ),
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        """The status in words, e.g. “派单中”."""
        return STATUS_LABELS[self.status]


class OfferOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 77,
                    "wish_id": 1024,
                    "volunteer_id": 42,
                    "status": "pending",
                    "note": "离老人家最近，麻烦跑一趟",
                    "created_at": "2026-12-02T03:45:00Z",
                    "expires_at": "2026-12-02T05:45:00Z",
                    "responded_at": None,
                    "response_reason": None,
                    "wish": examples.WISH_SUMMARY,
                }
            ]
        }
    )

    id: int
    wish_id: int
    volunteer_id: int
    status: OfferStatus
    note: str | None
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    response_reason: str | None
    wish: WishSummary | None = None


class EventOut(ReadSchema):
    id: int
    event: str
    from_status: str | None
    to_status: str
    actor_id: int | None
    actor_role: str
    reason: str | None
    data: dict[str, object]
    created_at: datetime
