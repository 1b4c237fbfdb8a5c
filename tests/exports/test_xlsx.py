from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from app.exports.cells import display_width, sheet_names
from app.exports.sheets import Column, ColumnKind, Sheet
from app.exports.xlsx import workbook

COLUMNS = (
    Column("站点"),
    Column("人数", ColumnKind.INTEGER),
    Column("时长", ColumnKind.NUMBER),
    Column("接单率", ColumnKind.PERCENT),
    Column("日期", ColumnKind.DATE),
    Column("接单时间", ColumnKind.DATETIME),
)
LONG_TEXT = "新时代文明实践站" * 6


def _sheet(**kw: object) -> Sheet:
    rows = [
        ("东门站", 12, 3.5, 0.125, date(2026, 11, 3), datetime(2026, 11, 3, 16, 30, tzinfo=UTC)),
        (
            "=SUM(A1:A9)",
            0,
            0.0,
            1.0,
            date(2026, 11, 30),
            datetime(2026, 11, 30, 23, 59, tzinfo=UTC),
        ),
        (LONG_TEXT, None, None, None, None, None),
    ]
    return Sheet(**{"name": "服务台账", "columns": COLUMNS, "rows": rows, **kw})  # type: ignore[arg-type]


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_cells_keep_their_types_and_datetimes_are_local() -> None:
    ws = _open(workbook([_sheet()]))["服务台账"]
    assert [c.value for c in ws[1]] == [c.header for c in COLUMNS]
    assert all(c.font.b for c in ws[1])
    first = [c.value for c in ws[2]]
    assert first[:4] == ["东门站", 12, 3.5, 0.125]
    assert isinstance(first[1], int) and isinstance(first[2], float)
    assert first[4] == datetime(2026, 11, 3)  # Excel holds dates as date-times at midnight
    assert ws.cell(2, 5).is_date and ws.cell(2, 6).is_date
    # 16:30 UTC is half past midnight the next day in Shanghai; 23:59 UTC is 07:59
    assert first[5] == datetime(2026, 11, 4, 0, 30)
    assert ws.cell(3, 6).value == datetime(2026, 12, 1, 7, 59)
    assert ws.cell(2, 4).number_format == "0.0%"
    assert ws.cell(2, 3).number_format == "#,##0.00"


def test_text_that_looks_like_a_formula_stays_text() -> None:
    ws = _open(workbook([_sheet()]))["服务台账"]
    cell = ws.cell(3, 1)
    assert cell.value == "=SUM(A1:A9)" and cell.data_type == "s"


def test_header_is_frozen_and_filtered_and_the_title_sits_above() -> None:
    ws = _open(
        workbook([_sheet(title="东门站 2026-11-01 至 2026-11-30", notes=("注：时长单位为小时",))])
    )["服务台账"]
    assert ws["A1"].value == "东门站 2026-11-01 至 2026-11-30"
    assert ws["A1"].font.b
    assert [c.value for c in ws[2]] == [c.header for c in COLUMNS]
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:F5"
    assert ws["A7"].value == "注：时长单位为小时"
    assert ws["A6"].value is None


def test_frozen_below_the_header_without_a_title() -> None:
    ws = _open(workbook([_sheet()]))["服务台账"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"


def test_widths_come_from_the_content_with_chinese_counting_double() -> None:
    ws = _open(workbook([_sheet()]))["服务台账"]
    assert display_width("东门站") == 6 and display_width("abc") == 3
    site = ws.column_dimensions["A"].width
    count = ws.column_dimensions["B"].width
    assert site >= display_width(LONG_TEXT) or site >= 60
    assert count < site
    fixed = _open(workbook([Sheet("表", (Column("备注", width=40),), [("x",)])]))["表"]
    assert fixed.column_dimensions["A"].width == pytest.approx(40, abs=1)


def test_one_worksheet_per_sheet_with_valid_unique_names() -> None:
    names = ["汇总", "汇总", "a/b:c*d?e[f]", "x" * 40, "'引号'", "History", "SUMMARY", "summary"]
    book = _open(workbook([Sheet(n, (Column("列"),), [("值",)]) for n in names]))
    assert book.sheetnames == [
        "汇总",
        "汇总 (2)",
        "a_b_c_d_e_f_",
        "x" * 31,
        "引号",
        "History_",
        "SUMMARY",
        "summary (2)",
    ]
    assert all(len(n) <= 31 for n in book.sheetnames)
    assert sheet_names(["y" * 31, "y" * 31]) == ["y" * 31, "y" * 27 + " (2)"]


def test_rows_shorter_than_the_header_are_padded_and_longer_ones_refused() -> None:
    ws = _open(workbook([Sheet("表", (Column("甲"), Column("乙")), [("只有一格",)])]))["表"]
    assert [c.value for c in ws[2]] == ["只有一格", None]
    with pytest.raises(ValueError):
        workbook([Sheet("表", (Column("甲"),), [("a", "b")])])


def test_not_a_number_is_left_blank() -> None:
    ws = _open(workbook([Sheet("表", (Column("率", ColumnKind.PERCENT),), [(float("nan"),)])]))[
        "表"
    ]
    assert ws["A2"].value is None
