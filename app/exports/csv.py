"""One sheet as CSV for Excel and WPS: UTF-8 with a byte-order mark (without it both read the
Chinese as GBK), CRLF line ends, the header row, then the rows.

Only the table goes out (no title or notes lines), so the file reads back as a plain table. Dates
are ISO (2026-12-02; date-times in the city's local time, 2026-12-02 09:30:00), numbers as plain
numbers (a percentage column holds the fraction, 0.125), and a text cell beginning with = + - @,
a tab or a carriage return gets a leading apostrophe so that a spreadsheet never runs it as a
formula (CSV injection). So does one whose first character after leading spaces (ASCII,
no-break, ideographic) or line breaks is one of those, or their full-width forms ＝ ＋ － ＠
(spreadsheets that trim spaces on import, and CJK input that reads the full-width sign as a
formula's start).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from app.exports.cells import finite, is_number, local_naive
from app.exports.sheets import Cell, Sheet

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
LEADING_BLANKS = " \n\u00a0\u3000"


def csv_bytes(sheet: Sheet) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    width = len(sheet.columns)
    writer.writerow([escape(column.header) for column in sheet.columns])
    for values in sheet.rows:
        if len(values) > width:
            raise ValueError(f"a row of {sheet.name!r} has {len(values)} cells for {width} columns")
        cells = [*values, *([None] * (width - len(values)))]
        writer.writerow([text_of(value) for value in cells])
    return (BOM + out.getvalue()).encode("utf-8")


def text_of(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if is_number(value):
        if not finite(value):
            return ""
        return str(value) if isinstance(value, int) else repr(round(value, 9))
    if isinstance(value, datetime):
        return local_naive(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return escape(str(value))


def escape(text: str) -> str:
    """A text cell that a spreadsheet would read as a formula, made inert."""
    if text.startswith(FORMULA_STARTS) or text.lstrip(LEADING_BLANKS).startswith(FORMULA_STARTS):
        return "'" + text
    return text
