from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pypdfium2 as pdfium

from app.exports.pdf import cell_text, document
from app.exports.sheets import Column, ColumnKind, Sheet

COLUMNS = (
    Column("日期", ColumnKind.DATE),
    Column("站点"),
    Column("心愿"),
    Column("时长", ColumnKind.NUMBER),
    Column("好评率", ColumnKind.PERCENT),
)


def _pages(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        return [
            re.sub(r"\s+", "", doc[i].get_textpage().get_text_bounded()) for i in range(len(doc))
        ]
    finally:
        doc.close()


def _ledger(rows: int) -> Sheet:
    return Sheet(
        "服务台账",
        COLUMNS,
        [
            (
                date(2026, 11, 1 + i % 28),
                "东门新时代文明实践站",
                f"为独居老人代购药品第{i}号",
                1.5,
                0.875,
            )
            for i in range(rows)
        ],
        title="2026-11-01 至 2026-11-30",
        notes=("时长单位：小时",),
    )


def test_chinese_text_title_and_values_appear() -> None:
    data = document(
        [_ledger(3), Sheet("汇总", (Column("项目"), Column("数值")), [])], "东门站台账", "东门站"
    )
    assert data.startswith(b"%PDF")
    (page,) = _pages(data)
    for expected in (
        "东门站台账",
        "服务台账",
        "东门新时代文明实践站",
        "为独居老人代购药品第2号",
        "1.50",
        "87.5%",
        "2026-11-03",
        "时长单位：小时",
        "汇总",
        "（无记录）",
        "第1页/共1页",
    ):
        assert expected in page, expected
    doc = pdfium.PdfDocument(data)
    try:
        assert doc.get_metadata_dict()["Title"] == "东门站台账"
        assert doc.get_metadata_dict()["Author"] == "东门站"
        width, height = doc[0].get_size()
        assert width > height  # landscape
    finally:
        doc.close()


def test_a_long_table_repeats_its_header_and_numbers_its_pages() -> None:
    pages = _pages(document([_ledger(120)], "台账", "东门站"))
    assert len(pages) > 2
    for number, text in enumerate(pages, start=1):
        assert "日期站点心愿时长好评率" in text
        assert f"第{number}页/共{len(pages)}页" in text
    assert "为独居老人代购药品第119号" in pages[-1]


def test_markup_characters_and_formulas_are_shown_as_text() -> None:
    sheet = Sheet("表", (Column("备注"),), [("<b>粗</b> & =SUM(A1)",)])
    (page,) = _pages(document([sheet], "a<b", "x&y"))
    assert "<b>粗</b>&=SUM(A1)" in page


def test_cells_read_as_in_the_workbook() -> None:
    assert cell_text(1234.5, ColumnKind.NUMBER) == "1,234.50"
    assert cell_text(0.125, ColumnKind.PERCENT) == "12.5%"
    assert cell_text(7, ColumnKind.INTEGER) == "7"
    assert (
        cell_text(datetime(2026, 11, 3, 16, 30, tzinfo=UTC), ColumnKind.DATETIME)
        == "2026-11-04 00:30"
    )
    assert cell_text(None, ColumnKind.TEXT) == ""
