"""Workbooks as a coordinator fills them, for the import tests."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from app.imports.columns import COLUMNS, SHEET_NAMES
from app.imports.schemas import ImportKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(
    kind: ImportKind, rows: list[dict[str, Any]], *, headers: list[str] | None = None
) -> bytes:
    """An xlsx with the template's headers (or `headers`) and one line per row, each a mapping
    of column key to value."""
    columns = COLUMNS[kind]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_NAMES[kind]
    sheet.append(headers or [c.header for c in columns])
    for row in rows:
        sheet.append([row.get(c.key) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_cell_at(data: bytes, row: int, value: str | None) -> bytes:
    """The workbook with one more cell, in column A of `row`: a value, or (None) an empty cell
    that only carries a format, as a sheet formatted further down than it was filled."""
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    cell = sheet.cell(row=row, column=1, value=value)
    cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, name: str = "名单.xlsx") -> dict[str, Any]:
    return {"file": (name, data, XLSX)}
