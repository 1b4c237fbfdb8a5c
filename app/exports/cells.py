"""What the formats share: a date-time in the city's local time, the display width of a cell
(CJK characters count double), a valid and unique sheet name."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from typing import TypeGuard

from app.clock import zone
from app.exports.sheets import Cell, Column, ColumnKind

SHEET_NAME_MAX = 31
FORBIDDEN_IN_SHEET_NAME = frozenset("[]:*?/\\")
MIN_WIDTH = 6
MAX_WIDTH = 60


def local_naive(moment: datetime) -> datetime:
    """An aware instant as the city's wall-clock time without a zone (what Excel holds); a naive
    one is taken as already local."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone()).replace(tzinfo=None)


def is_number(value: Cell) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def finite(value: float) -> bool:
    return not (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def display_width(text: str) -> int:
    """Columns the text takes on screen: wide (CJK, full-width) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def shown(value: Cell, kind: ColumnKind) -> str:
    """The text a cell shows, for measuring its width."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return "2000-01-01 00:00"
    if isinstance(value, date):
        return "2000-01-01"
    if is_number(value):
        if kind is ColumnKind.PERCENT:
            return f"{float(value) * 100:.1f}%"
        if kind is ColumnKind.NUMBER:
            return f"{float(value):,.2f}"
        return str(value)
    return str(value)


def column_width(column: Column, values: Iterable[Cell]) -> int:
    if column.width is not None:
        return column.width
    widest = display_width(column.header)
    for value in values:
        widest = max(
            widest, *(display_width(line) for line in shown(value, column.kind).split("\n"))
        )
    return max(MIN_WIDTH, min(MAX_WIDTH, widest + 2))


def sheet_names(names: Iterable[str]) -> list[str]:
    """Excel's rules: 1..31 characters, none of []:*?/\\, no apostrophe at either end, not
    "History", unique without regard to case. Forbidden characters become "_"; a long name is
    cut; a repeated one gets " (2)", " (3)" within the limit."""
    taken: set[str] = set()
    result: list[str] = []
    for raw in names:
        name = "".join("_" if ch in FORBIDDEN_IN_SHEET_NAME or ch < " " else ch for ch in raw)
        name = name.strip().strip("'").strip() or "Sheet"
        if name.casefold() == "history":
            name = "History_"
        name = name[:SHEET_NAME_MAX]
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            candidate = name[: SHEET_NAME_MAX - len(suffix)].rstrip().rstrip("'") + suffix
        taken.add(candidate.casefold())
        result.append(candidate)
    return result
