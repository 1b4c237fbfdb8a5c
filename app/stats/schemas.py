"""Response bodies of the statistics API. A period's ends are named `from` and `to` (local
dates, `to` inclusive), as in the query; `from` is a Python keyword, so the fields are `first`
and `last` under those aliases."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models.enums import OrgLevel
from app.stats.figures import DrillKind
from app.stats.periods import BucketKind

_FROM = Field(alias="from", description="起始日期（本地日期，含）")
_TO = Field(alias="to", description="结束日期（本地日期，含）")


class StatsUnit(BaseModel):
    id: int
    name: str
    level: OrgLevel


class FigureOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "outcomes.acceptance_rate",
                    "label": "接单率",
                    "value": 0.875,
                    "unit": "%",
                    "drill": "wishes",
                    "group": None,
                    "group_label": None,
                },
                {
                    "key": "intake.by_category",
                    "label": "按服务类别",
                    "value": 12,
                    "unit": "件",
                    "drill": "wishes",
                    "group": "elderly_orphan_care",
                    "group_label": "扶老救孤",
                },
            ]
        }
    )

    key: str = Field(description="稳定的指标键，如 intake.wishes；分组指标按 group 重复出现")
    label: str
    value: float | int | None = Field(
        description="数值；比率为 0–1 的小数（unit 为 %）；无法计算时（如分母为零）为 null"
    )
    unit: str = Field(description="件、人、人次、分钟、小时、%、分、个、指数")
    drill: DrillKind = Field(
        description="下钻列出的是什么：心愿、事件、时长记录、志愿者、单位、活动、活动报名、服务记录"
    )
    group: str | None = Field(default=None, description="分组代码（如服务类别）；总数为 null")
    group_label: str | None = None


class SectionOut(BaseModel):
    key: str = Field(description="板块：intake、speed、outcomes、people、coverage、seasons")
    label: str
    figures: list[FigureOut]


class StatsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    unit: StatsUnit
    first: date = _FROM
    last: date = _TO
    sections: list[SectionOut]


class PointOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    label: str = Field(description="如 2026年11月、2026年第47周、2026年丰收季")
    first: date = _FROM
    last: date = _TO
    value: float | int | None = Field(description="该时段的数值；该时段没有此指标或无法计算为 null")


class SeriesOut(BaseModel):
    key: str
    group: str | None
    label: str
    unit: str
    bucket: BucketKind
    value: float | int | None = Field(description="整个时段的数值")
    points: list[PointOut]


class DrillItemOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": 4021, "label": "帮独居老人买菜（扶老救孤）", "at": "2026-11-23T02:15:00Z"}
            ]
        }
    )

    id: int = Field(
        description="心愿、事件、时长记录、志愿者、单位、活动、活动报名或服务记录的编号（见 kind）"
    )
    label: str = Field(
        description="心愿的标题与类别、事件类型、服务内容与时长、脱敏姓名、单位名称、"
        "活动名称与发布单位，或活动名称与脱敏姓名（活动报名、服务记录）"
    )
    at: datetime | None = Field(
        description="心愿提交、事件发生、服务开始、志愿者注册、活动首场开始、报名排队或签到的时间"
    )


class DrillOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "intake.by_category",
                    "group": "elderly_orphan_care",
                    "kind": "wishes",
                    "total": 12,
                    "items": [
                        {
                            "id": 4021,
                            "label": "帮独居老人买菜（扶老救孤）",
                            "at": "2026-11-23T02:15:00Z",
                        }
                    ],
                }
            ]
        }
    )

    key: str
    group: str | None
    kind: DrillKind
    total: int = Field(description="该指标计入的全部条数（与指标数值一致的计数类指标）")
    items: list[DrillItemOut]
