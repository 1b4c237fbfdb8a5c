"""Sheets as an Excel workbook (.xlsx), written in memory with xlsxwriter.

One worksheet per Sheet: an optional title line, a bold header row that stays in view (frozen
panes) with an autofilter, typed cells (numbers as numbers, dates and date-times as Excel dates in
the city's local time, fractions shown as percentages), column widths from the content, and the
sheet's notes below the table. Text is always written as text, so a value beginning with "="
never becomes a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter

from app.exports.cells import column_width, finite, is_number, local_naive, sheet_names
from app.exports.sheets import Cell, ColumnKind, Sheet

EXCEL_TEXT_MAX = 32767
EXCEL_FIRST_YEAR = 1900
NUMBER_FORMATS = {
    ColumnKind.TEXT: None,
    ColumnKind.INTEGER: "0",
    ColumnKind.NUMBER: "#,##0.00",
    ColumnKind.PERCENT: "0.0%",
    ColumnKind.DATE: "yyyy-mm-dd",
    ColumnKind.DATETIME: "yyyy-mm-dd hh:mm",
}
FONT = "等线"  # the default CJK font of Excel and WPS


class _Formats:
    """The workbook's cell formats, made once per workbook."""

    def __init__(self, book: Any) -> None:
        base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.header = book.add_format(
            {**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
        )
        self.note = book.add_format({**base, "italic": True, "font_color": "#595959"})
        self.kind = {
            kind: book.add_format({**base, "num_format": fmt} if fmt else base)
            for kind, fmt in NUMBER_FORMATS.items()
        }
        self.text = self.kind[ColumnKind.TEXT]


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as the bytes of an .xlsx file."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    book.set_properties({"title": sheets[0].title or sheets[0].name} if sheets else {})
    formats = _Formats(book)
    for sheet, name in zip(sheets, sheet_names(s.name for s in sheets), strict=True):
        _write_sheet(book.add_worksheet(name), sheet, formats)
    if not sheets:
        book.add_worksheet()
    book.close()
    return buffer.getvalue()


def _write_sheet(ws: Any, sheet: Sheet, formats: _Formats) -> None:
    columns = list(sheet.columns)
    width = len(columns)
    row = 0
    if sheet.title:
        ws.set_row(row, 24)
        ws.write_string(row, 0, _text(sheet.title), formats.title)
        row += 1
    header_row = row
    for col, column in enumerate(columns):
        ws.write_string(header_row, col, column.header, formats.header)
    for values in sheet.rows:
        row += 1
        if len(values) > width:
            raise ValueError(f"a row of {sheet.name!r} has {len(values)} cells for {width} columns")
        for col, column in enumerate(columns):
            value = values[col] if col < len(values) else None
            _write_cell(ws, row, col, value, formats.kind[column.kind], formats)
    if width:
        ws.freeze_panes(header_row + 1, 0)
        ws.autofilter(header_row, 0, max(row, header_row), width - 1)
        for col, column in enumerate(columns):
            cells = (values[col] for values in sheet.rows if col < len(values))
            ws.set_column(col, col, column_width(column, cells), formats.kind[column.kind])
    if sheet.notes:
        row += 1
        for note in sheet.notes:
            row += 1
            ws.write_string(row, 0, _text(note), formats.note)


def _write_cell(ws: Any, row: int, col: int, value: Cell, fmt: Any, formats: _Formats) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", formats.text)
    elif is_number(value):
        if finite(value):
            ws.write_number(row, col, value, fmt)
        else:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, datetime):
        moment = local_naive(value)
        if moment.year < EXCEL_FIRST_YEAR:
            ws.write_string(row, col, moment.isoformat(sep=" ", timespec="minutes"), formats.text)
        else:
            ws.write_datetime(row, col, moment, _date_format(fmt, formats, ColumnKind.DATETIME))
    elif isinstance(value, date):
        if value.year < EXCEL_FIRST_YEAR:
            ws.write_string(row, col, value.isoformat(), formats.text)
        else:
            ws.write_datetime(row, col, value, _date_format(fmt, formats, ColumnKind.DATE))
    else:
        ws.write_string(row, col, _text(str(value)), formats.text)


def _date_format(fmt: Any, formats: _Formats, fallback: ColumnKind) -> Any:
    """The column's format if it shows dates, else the value's own (a date in a text column)."""
    if fmt in (formats.kind[ColumnKind.DATE], formats.kind[ColumnKind.DATETIME]):
        return fmt
    return formats.kind[fallback]


def _text(text: str) -> str:
    return text[:EXCEL_TEXT_MAX]
