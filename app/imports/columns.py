"""The columns of the two sheets, read by the template and by the upload alike, and the reading
of an uploaded workbook into rows of cell values keyed by column."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.imports.errors import BadHeader, EmptyImport, ImportFileTooLarge, NotAnXlsx, TooManyRows
from app.imports.schemas import ImportKind

# A sheet is a zip: its parts may expand at most this many times the file's own size (a
# spreadsheet's XML compresses about ten times; a zip bomb far more).
MAX_EXPANSION = 40
MAX_COLUMNS = 40
# Blank rows a sheet may run on past its data's limit (rows formatted but left empty). Beyond,
# the file is refused: the reader fills every gap between two rows with blank rows, so a cell at
# row 1,048,576 of a 5 KB file would cost a million rows of reading.
MAX_BLANK_ROWS = 5000


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header, as in the template
    required: bool
    note: str  # what to write, shown in the 说明 sheet
    example: str
    width: int = 14
    text: bool = False  # formatted as text in the template (phones, ID numbers, codes)


VOLUNTEER_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", True, "志愿者姓名", "王晓峰", 10),
    Column(
        "phone",
        "手机号",
        True,
        "11 位手机号；同一文件内及与已有账号均不能重复",
        "13957205678",
        14,
        text=True,
    ),
    Column(
        "id_number",
        "身份证号",
        False,
        "18 位居民身份证号码（选填，加密保存）",
        "330521199206180012",
        21,
        text=True,
    ),
    Column(
        "station_code",
        "所属站点代码",
        True,
        "村(社区)实践站的单位代码，见下方可选站点",
        "330521101200",
        15,
        text=True,
    ),
    Column(
        "skills",
        "技能",
        False,
        "技能代码或名称，多个用顿号或逗号分隔，见下方技能表",
        "代购代办、电脑手机教学",
        22,
    ),
    Column(
        "availability",
        "服务时段",
        False,
        "每周可服务时段，如“周六 08:30-11:30；周日 14:00-17:00”（半点为单位）",
        "周六 08:30-11:30；周日 14:00-17:00",
        30,
    ),
    Column("birth_date", "出生日期", False, "如 1992-06-18（选填）", "1992-06-18", 12, text=True),
    Column("service_radius_m", "服务半径（米）", False, "100–200000，默认 3000", "5000", 12),
    Column("max_concurrent_tasks", "同时接单上限", False, "1–50，默认 2", "2", 12),
    Column(
        "lat", "常住地纬度", False, "GCJ-02 坐标（选填；不填则取所属站点的位置）", "30.5912", 12
    ),
    Column("lng", "常住地经度", False, "GCJ-02 坐标（与纬度同时填写）", "119.8703", 12),
)

STAFF_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", True, "工作人员姓名", "沈丽华", 10),
    Column(
        "username",
        "用户名",
        True,
        "登录用户名：3–50 位字母、数字或 _ . -，不能与已有账号重复",
        "shen.lihua",
        16,
        text=True,
    ),
    Column(
        "phone",
        "手机号",
        False,
        "11 位手机号（选填）；不能与已有账号重复",
        "13957208866",
        14,
        text=True,
    ),
    Column(
        "unit_code",
        "单位代码",
        True,
        "所属单位的代码，见下方可选单位；网格员须为村(社区)实践站",
        "330521101000",
        15,
        text=True,
    ),
    Column("role", "角色", True, "协调员、网格员或管理员（仅管理员可授予管理员）", "协调员", 10),
    Column(
        "password",
        "初始密码",
        True,
        "至少 8 位；首次登录后须修改",
        "Deqing-2026-mgs",
        16,
        text=True,
    ),
)

COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    ImportKind.VOLUNTEERS: VOLUNTEER_COLUMNS,
    ImportKind.STAFF: STAFF_COLUMNS,
}
SHEET_NAMES: dict[ImportKind, str] = {ImportKind.VOLUNTEERS: "志愿者", ImportKind.STAFF: "工作人员"}
NOTES_SHEET = "说明"


@dataclass(frozen=True)
class RawRow:
    number: int  # the row's number in Excel (the header is row 1)
    cells: dict[str, Any]  # column key -> the cell's value (None when empty)


def _header_text(value: Any) -> str:
    text = str(value or "").strip()
    for mark in ("*", "＊", "（必填）", "(必填)"):
        text = text.removesuffix(mark).strip()
    return text


def cell_text(value: Any) -> str | None:
    """A cell as text: numbers without a trailing ".0", dates as YYYY-MM-DD, blanks as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _check_zip(data: bytes, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise NotAnXlsx() from exc
    if expanded > max(len(data), max_bytes // 10) * MAX_EXPANSION:
        raise ImportFileTooLarge("导入文件解压后过大，请检查文件")


def read_rows(data: bytes, kind: ImportKind, *, max_rows: int, max_bytes: int) -> list[RawRow]:
    """The data rows of an uploaded sheet (the template's sheet, else the first), by column.

    Refuses what is not an xlsx (400 IMPORT_NOT_XLSX), a header without a required column
    (400 IMPORT_BAD_HEADER), no data row (400 IMPORT_EMPTY), more than `max_rows` rows or any
    row below `max_rows + MAX_BLANK_ROWS` (413 IMPORT_TOO_MANY_ROWS). Fully blank rows are
    skipped."""
    from openpyxl import load_workbook

    _check_zip(data, max_bytes)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise NotAnXlsx() from exc
    try:
        name = SHEET_NAMES[kind]
        sheet = workbook[name] if name in workbook.sheetnames else workbook.worksheets[0]
        lines = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        header = next(lines, None)
        columns = COLUMNS[kind]
        by_header = {column.header: column for column in columns}
        keys: list[str | None] = [
            by_header[text].key if (text := _header_text(value)) in by_header else None
            for value in header or ()
        ]
        missing = [c.header for c in columns if c.required and c.key not in keys]
        if missing:
            raise BadHeader(details={"missing": missing})
        rows: list[RawRow] = []
        last_row = 1 + max_rows + MAX_BLANK_ROWS
        for number, values in enumerate(lines, start=2):
            if number > last_row:
                raise TooManyRows(
                    f"导入文件最多 {max_rows} 行数据，第 {last_row} 行以下不能再有内容"
                    "（包括设置了格式的空行），请删除多余的行后上传",
                    details={"max_rows": max_rows, "last_row": last_row},
                )
            cells: dict[str, Any] = {}
            for key, value in zip(keys, values, strict=False):
                if key is not None and key not in cells:
                    cells[key] = value
            if all(cell_text(value) is None for value in cells.values()):
                continue
            if len(rows) >= max_rows:
                raise TooManyRows(
                    f"导入文件最多 {max_rows} 行数据，请分成几个文件上传",
                    details={"max_rows": max_rows},
                )
            rows.append(RawRow(number=number, cells=cells))
    except (BadHeader, TooManyRows):
        raise
    except Exception as exc:  # a damaged part of the workbook met while reading
        raise NotAnXlsx() from exc
    finally:
        workbook.close()
    if not rows:
        raise EmptyImport()
    return rows
