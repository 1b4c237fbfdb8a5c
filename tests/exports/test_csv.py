from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from app.exports.csv import csv_bytes
from app.exports.sheets import Column, ColumnKind, Sheet

COLUMNS = (
    Column("志愿者"),
    Column("次数", ColumnKind.INTEGER),
    Column("时长", ColumnKind.NUMBER),
    Column("好评率", ColumnKind.PERCENT),
    Column("日期", ColumnKind.DATE),
    Column("确认时间", ColumnKind.DATETIME),
)


def _read(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_bom_crlf_chinese_header_and_typed_cells() -> None:
    sheet = Sheet(
        "志愿者时长",
        COLUMNS,
        [
            ("张*", 3, 4.5, 0.125, date(2026, 11, 2), datetime(2026, 11, 2, 16, 0, tzinfo=UTC)),
            ("李*, 王*", 0, 0.1 + 0.2, 1, None, None),
        ],
        title="不写入 CSV 的标题",
        notes=("也不写入的说明",),
    )
    data = csv_bytes(sheet)
    assert data.count(b"\r\n") == 3 and b"\n" not in data.replace(b"\r\n", b"")
    rows = _read(data)
    assert rows == [
        ["志愿者", "次数", "时长", "好评率", "日期", "确认时间"],
        ["张*", "3", "4.5", "0.125", "2026-11-02", "2026-11-03 00:00:00"],
        ["李*, 王*", "0", "0.3", "1", "", ""],
    ]


def test_formula_starts_are_escaped_with_an_apostrophe() -> None:
    hostile = ["=1+1", "+86 138", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']
    sheet = Sheet(
        "表", (Column("备注"), Column("数", ColumnKind.INTEGER)), [(v, -2) for v in hostile]
    )
    rows = _read(csv_bytes(sheet))[1:]
    assert [r[0] for r in rows] == ["'" + v for v in hostile]
    assert all(r[1] == "-2" for r in rows)  # a negative number is a number, not a formula
    safe = Sheet("表", (Column("备注"),), [("a=1",), ("东门站",), ("  张三",)])
    assert [r[0] for r in _read(csv_bytes(safe))[1:]] == ["a=1", "东门站", "  张三"]


def test_formulas_behind_blanks_or_in_full_width_are_escaped_too() -> None:
    # A wish title or a name typed with leading spaces, or with the full-width sign a Chinese
    # input method gives, is as hostile once a spreadsheet trims or reads it.
    hostile = [
        " =1+1",
        "  +86 138",
        '\n=HYPERLINK("http://x")',
        "\u3000=1+1",
        "\u00a0@SUM(A1)",
        "＝1+1",
        "＋1",
        "－1",
        "＠SUM(A1)",
        '　＝HYPERLINK("http://x")',
    ]
    sheet = Sheet("表", (Column("心愿"),), [(v,) for v in hostile])
    rows = _read(csv_bytes(sheet))[1:]
    assert [r[0] for r in rows] == ["'" + v for v in hostile]


def test_headers_are_escaped_too_and_short_rows_padded() -> None:
    sheet = Sheet("表", (Column("=甲"), Column("乙")), [("一",)])
    assert _read(csv_bytes(sheet)) == [["'=甲", "乙"], ["一", ""]]
