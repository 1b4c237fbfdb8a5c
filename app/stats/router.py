"""Endpoints of the statistics: a unit's figures over a period, one figure's series, the rows
behind a figure, and the figures as a workbook or CSV. Coordinators of the unit or of a unit
above it, and admins; a unit outside the caller's subtree is 404, as everywhere."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Response

from app.auth.deps import StaffUser
from app.db import SessionDep
from app.exports.csv import csv_bytes
from app.exports.xlsx import workbook
from app.heavy import HEAVY
from app.models import OrgUnit
from app.org_units.service import managed_unit
from app.routing import make_router
from app.schemas import IdPath
from app.stats import service
from app.stats.errors import SectionRequired
from app.stats.figures import Figure
from app.stats.periods import BucketKind, asked_period, check_period
from app.stats.schemas import (
    DrillItemOut,
    DrillOut,
    FigureOut,
    PointOut,
    SectionOut,
    SeriesOut,
    StatsOut,
    StatsUnit,
)

# Every statistics read is expensive: each holds one of the heavy slots (app/heavy.py).
router = make_router(prefix="/org-units/{unit_id}/stats", tags=["统计与考核"], dependencies=[HEAVY])

From = Annotated[
    date | None, Query(alias="from", description="起始日期（本地，含）；默认本月 1 日")
]
To = Annotated[date | None, Query(alias="to", description="结束日期（本地，含）；默认今天")]
FigureKey = Annotated[
    str,
    Query(
        min_length=3,
        max_length=80,
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$",
        description="指标键，如 intake.wishes、speed.review.p50_minutes",
    ),
]
Group = Annotated[
    str | None,
    Query(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.:-]+$", description="分组代码"),
]
SectionKey = Annotated[
    str | None,
    Query(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$", description="统计板块"),
]


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


MEDIA_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}

PERIOD_EXAMPLE = {"from": "2026-11-01", "to": "2026-11-30"}
STATS_EXAMPLE: dict[str, Any] = {
    "unit": {"id": 3, "name": "递铺街道新时代文明实践所", "level": "township"},
    **PERIOD_EXAMPLE,
    "sections": [
        {
            "key": "intake",
            "label": "点单",
            "figures": [
                {
                    "key": "intake.wishes",
                    "label": "点单数",
                    "value": 30,
                    "unit": "件",
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
            ],
        }
    ],
}
SERIES_EXAMPLE: dict[str, Any] = {
    "key": "intake.wishes",
    "group": None,
    "label": "点单数",
    "unit": "件",
    "bucket": "week",
    "value": 30,
    "points": [
        {"label": "2026年第44周", "from": "2026-11-01", "to": "2026-11-01", "value": 2},
        {"label": "2026年第45周", "from": "2026-11-02", "to": "2026-11-08", "value": 9},
        {"label": "2026年第46周", "from": "2026-11-09", "to": "2026-11-15", "value": 7},
        {"label": "2026年第47周", "from": "2026-11-16", "to": "2026-11-22", "value": 8},
        {"label": "2026年第48周", "from": "2026-11-23", "to": "2026-11-29", "value": 4},
        {"label": "2026年第49周", "from": "2026-11-30", "to": "2026-11-30", "value": 0},
    ],
}


def _example(value: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": value}}}}


def _unit_out(unit: OrgUnit) -> StatsUnit:
    return StatsUnit(id=unit.id, name=unit.name, level=unit.level)


def _figure_out(figure: Figure) -> FigureOut:
    return FigureOut(
        key=figure.key,
        label=figure.label,
        value=figure.value,
        unit=figure.unit,
        drill=figure.drill,
        group=figure.group,
        group_label=figure.group_label,
    )


@router.get(
    "",
    response_model=StatsOut,
    responses=_example(STATS_EXAMPLE),
    summary="协调员：本单位及下级的统计指标（按时段）",
)
def summary(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    first: From = None,
    last: To = None,
) -> StatsOut:
    """本单位或上级单位的协调员、管理员：该单位及其全部下级在时段内（本地日期，`to` 含当天；
    默认本月 1 日至今天）的各板块统计指标：受理、时效、成效、人员、覆盖、四季。
    每个指标都可下钻（见 `/stats/drill`）到它计入的心愿、事件、时长记录、志愿者、单位、
    活动、活动报名或服务记录。
    比率为 0–1 的小数；无法计算的指标为 null。时段颠倒（STATS_PERIOD_INVERTED）、超过 3 年
    （STATS_PERIOD_TOO_LONG）或日期超出范围（STATS_DATE_OUT_OF_RANGE）返回 400；
    单位不在本人辖区返回 404。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    first, last = asked_period(first, last)
    computed = service.overview(session, unit, first, last)
    return StatsOut.model_validate(
        {
            "unit": _unit_out(unit),
            "from": first,
            "to": last,
            "sections": [
                SectionOut(
                    key=c.section.key,
                    label=c.section.label,
                    figures=[_figure_out(f) for f in c.figures],
                )
                for c in computed
            ],
        }
    )


@router.get(
    "/series",
    response_model=SeriesOut,
    responses=_example(SERIES_EXAMPLE),
    summary="协调员：一个指标按日、周、月、季、年的走势",
)
def series(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    key: FigureKey,
    group: Group = None,
    first: From = None,
    last: To = None,
    bucket: Annotated[
        BucketKind, Query(description="按日、周（周一起）、月、四季红季节或年分段")
    ] = BucketKind.MONTH,
) -> SeriesOut:
    """本单位或上级单位的协调员、管理员：一个指标（可带分组）在时段内逐段的数值，首尾两段
    截到时段内；季节按四季红的季节时段分段。计数类指标各段之和等于整个时段的数值（`value`）；
    比率、中位数等逐段各自计算。按日分段最多 366 天（STATS_TOO_MANY_BUCKETS）；
    指标或分组不存在返回 404 STATS_FIGURE_NOT_FOUND。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    first, last = asked_period(first, last)
    check_period(first, last, bucket)
    whole, points = service.series(
        session, unit, key=key, group=group, first=first, last=last, kind=bucket
    )
    return SeriesOut(
        key=whole.key,
        group=whole.group,
        label=whole.label if whole.group_label is None else f"{whole.label}（{whole.group_label}）",
        unit=whole.unit,
        bucket=bucket,
        value=whole.value,
        points=[
            PointOut.model_validate(
                {"label": p.label, "from": p.first, "to": p.last, "value": p.value}
            )
            for p in points
        ],
    )


@router.get("/drill", response_model=DrillOut, summary="协调员：指标明细（该指标计入了哪些记录）")
def drill(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    key: FigureKey,
    group: Group = None,
    first: From = None,
    last: To = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="跳过的条数")] = 0,
) -> DrillOut:
    """本单位或上级单位的协调员、管理员：一个指标（可带分组）计入的记录，按编号升序分页，
    `total` 为全部条数，供逐条核对：心愿（标题与类别）、事件（事件类型）、服务时长记录、
    志愿者（姓名脱敏）、单位、活动（名称与发布单位）、活动报名或服务记录（活动名称与脱敏姓名）。
    指标或分组不存在返回 404 STATS_FIGURE_NOT_FOUND。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    first, last = asked_period(first, last)
    found = service.drill(
        session, unit, key=key, group=group, first=first, last=last, limit=limit, offset=offset
    )
    return DrillOut(
        key=found.figure.key,
        group=found.figure.group,
        kind=found.figure.drill,
        total=found.total,
        items=[DrillItemOut(id=i.id, label=i.label, at=i.at) for i in found.items],
    )


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "content": {
                MEDIA_TYPES[ExportFormat.XLSX]: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "Excel 工作簿（每个板块一张表）或一个板块的 CSV",
        }
    },
    summary="协调员：导出统计指标（Excel 或 CSV）",
)
def export(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    first: From = None,
    last: To = None,
    fmt: Annotated[
        ExportFormat, Query(alias="format", description="xlsx 或 csv")
    ] = ExportFormat.XLSX,
    section: SectionKey = None,
) -> Response:
    """本单位或上级单位的协调员、管理员：把时段内的统计指标导出为 Excel 工作簿（每个板块一张
    表，首行为单位与时段，列为 指标、分组、数值、单位，比率以百分数表示）或 CSV（UTF-8 带 BOM，
    WPS 与 Excel 可直接打开）。CSV 只含一个板块，须指定 `section`（STATS_SECTION_REQUIRED）；
    Excel 指定 `section` 时只含该板块。板块不存在返回 404 STATS_SECTION_NOT_FOUND。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    first, last = asked_period(first, last)
    if fmt == ExportFormat.CSV and section is None:
        raise SectionRequired()
    computed = service.overview(session, unit, first, last, section=section)
    tables = service.sheets(computed, unit, first, last)
    content = workbook(tables) if fmt == ExportFormat.XLSX else csv_bytes(tables[0])
    stem = f"stats-{unit.id}-{first.isoformat()}-{last.isoformat()}"
    shown = f"{unit.name}统计{first.isoformat()}至{last.isoformat()}"
    if section is not None:
        stem, shown = f"{stem}-{section}", f"{shown}-{computed[0].section.label}"
    return Response(
        content=content,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": (
                f'attachment; filename="{stem}.{fmt.value}"; '
                f"filename*=UTF-8''{quote(f'{shown}.{fmt.value}')}"
            ),
            "Cache-Control": "private, no-store",
        },
    )
