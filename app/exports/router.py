"""The station's activity ledger (台账) as a file: Excel, CSV or PDF. Coordinators of the unit or
of a unit above it, and admins; a unit outside the caller's subtree is 404, as everywhere."""

from __future__ import annotations

import threading
from datetime import date
from enum import StrEnum
from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Response

from app.auth.deps import StaffUser
from app.db import SessionDep
from app.exports import ledger
from app.exports.csv import csv_bytes
from app.exports.errors import LedgerPdfBusy, LedgerTooLargeForPdf
from app.exports.pdf import document
from app.exports.xlsx import workbook
from app.heavy import HEAVY
from app.org_units.service import managed_unit
from app.routing import make_router
from app.schemas import IdPath

router = make_router(tags=["导出与台账"])


class LedgerFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    PDF = "pdf"


MEDIA_TYPES = {
    LedgerFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    LedgerFormat.CSV: "text/csv; charset=utf-8",
    LedgerFormat.PDF: "application/pdf",
}
BINARY = {"schema": {"type": "string", "format": "binary"}}
# A PDF is laid out line by line (about 2.5 ms a row here) under the certificate font's lock:
# a ledger longer than this goes out as Excel or CSV, or in shorter periods.
PDF_MAX_ROWS = 2000
# One PDF ledger is laid out at a time per process: it holds that lock, which the volunteers'
# certificates share, for seconds. Another asked meanwhile is refused at once (429
# LEDGER_PDF_BUSY) rather than queued, so certificates wait behind one ledger at most.
PDF_SLOT = threading.Lock()
PDF_RETRY_AFTER_SECONDS = 10


def attachment(stem: str, shown: str) -> str:
    """A Content-Disposition naming the file in ASCII and, for clients that read it (RFC 6266
    with RFC 5987's encoding), in Chinese."""
    return f"attachment; filename=\"{stem}\"; filename*=UTF-8''{quote(shown, safe='')}"


@router.get(
    "/org-units/{unit_id}/ledger",
    dependencies=[HEAVY],
    response_class=Response,
    responses={
        200: {
            "content": {
                MEDIA_TYPES[LedgerFormat.XLSX]: BINARY,
                "text/csv": BINARY,
                MEDIA_TYPES[LedgerFormat.PDF]: BINARY,
            },
            "description": "台账文件：Excel 工作簿、服务台账的 CSV 或 PDF",
        }
    },
    summary="协调员：导出实践站活动台账（Excel、CSV 或 PDF）",
)
def ledger_file(
    unit_id: IdPath,
    session: SessionDep,
    actor: StaffUser,
    first: Annotated[
        date | None, Query(alias="from", description="起始日期（本市日期，含）；默认本月 1 日")
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="结束日期（本市日期，含）；默认今天")
    ] = None,
    fmt: Annotated[
        LedgerFormat, Query(alias="format", description="xlsx（默认）、csv 或 pdf")
    ] = LedgerFormat.XLSX,
) -> Response:
    """本单位或上级单位的协调员、管理员：导出本单位及下级实践站在时段内的活动台账。
    Excel 含三张表：服务台账（每次服务一行——心愿、活动的一场或结对走访：日期、单位、类型、
    编号、服务内容、类别、脱敏的志愿者姓名、计入时长、心愿的群众评价）、志愿者时长（按服务记录汇总的每位志愿者服务与培训时长）和汇总；
    CSV 只含服务台账（UTF-8 带 BOM，WPS 与 Excel 可直接打开）；PDF 为 A4 横向打印版。
    时段最长 1 年（LEDGER_PERIOD_TOO_LONG），开始晚于结束（LEDGER_PERIOD_INVERTED）或日期超出
    2000–2099 年（LEDGER_DATE_OUT_OF_RANGE）返回 400；PDF 合计最多 2000 行，超过返回 400
    LEDGER_TOO_LARGE_FOR_PDF（请缩短时段、选择下级单位或导出 Excel）；另一份 PDF 台账正在生成时
    返回 429 LEDGER_PDF_BUSY（带 Retry-After）；单位不在本人辖区返回 404。
    """
    unit = managed_unit(session=session, actor=actor, unit_id=unit_id)
    when = ledger.period(first, last)
    tables = ledger.sheets(session, unit, when)
    if fmt == LedgerFormat.XLSX:
        content = workbook(tables)
    elif fmt == LedgerFormat.CSV:
        content = csv_bytes(tables[0])
    else:
        rows = sum(len(table.rows) for table in tables)
        if rows > PDF_MAX_ROWS:
            raise LedgerTooLargeForPdf(details={"rows": rows, "max": PDF_MAX_ROWS})
        if not PDF_SLOT.acquire(blocking=False):
            raise LedgerPdfBusy(
                details={"retry_after_seconds": PDF_RETRY_AFTER_SECONDS},
                headers={"Retry-After": str(PDF_RETRY_AFTER_SECONDS)},
            )
        try:
            title = f"{unit.name}活动台账（{when.label}）"
            content = document(tables, title=title, author=unit.name)
        finally:
            PDF_SLOT.release()
    span = f"{when.first.isoformat()}-{when.last.isoformat()}"
    return Response(
        content=content,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": attachment(
                f"ledger-{unit.id}-{span}.{fmt.value}", f"{unit.name}台账{span}.{fmt.value}"
            ),
            "Cache-Control": "private, no-store",
        },
    )
