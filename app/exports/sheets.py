"""A table to export, independent of the format: Excel (`xlsx.py`), CSV (`csv.py`).

Cells keep their types so that a workbook opened in WPS or Excel holds numbers as numbers and
dates as dates; headers are Chinese.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

Cell = str | int | float | date | datetime | None


class ColumnKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"  # two decimals
    PERCENT = "percent"  # a fraction, shown as 12.5%
    DATE = "date"
    DATETIME = "datetime"  # shown in the city's local time


@dataclass(frozen=True)
class Column:
    header: str
    kind: ColumnKind = ColumnKind.TEXT
    width: int | None = None  # characters; None: from the header and the values


@dataclass(frozen=True)
class Sheet:
    name: str  # at most 31 characters (Excel's limit), no []:*?/\
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    title: str | None = None  # a line above the header row (unit, period)
    notes: Sequence[str] = field(default_factory=tuple)  # lines below the table
