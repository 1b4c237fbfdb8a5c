"""The xlsx templates: the sheet to fill (Chinese headers, frozen, text-formatted phone, ID and
code columns, a role drop-down) and a 说明 sheet with the rules, an example row and the values
allowed for the caller: skill codes and names, and the units in their subtree."""

from __future__ import annotations

import io

import xlsxwriter
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.imports.columns import COLUMNS, NOTES_SHEET, SHEET_NAMES
from app.imports.schemas import ImportKind
from app.models import OrgUnit, Skill
from app.models.enums import OrgLevel
from app.org_units.service import in_subtree

LEVELS = {
    OrgLevel.CITY: "市",
    OrgLevel.COUNTY: "县(区)",
    OrgLevel.TOWNSHIP: "乡镇(街道)",
    OrgLevel.VILLAGE: "村(社区)",
}
FILL_ROWS = 5000  # rows formatted as text and offered the drop-down
RULES = {
    ImportKind.VOLUNTEERS: [
        "每行一名志愿者；表头请勿修改，带“必填”的列不能为空。",
        "手机号在文件内不能重复，也不能与系统中已有账号重复；导入后志愿者用该手机号登录。",
        "任何一行有错误时整个文件都不会导入，请按错误提示修改后重新上传。",
    ],
    ImportKind.STAFF: [
        "每行一个工作人员账号；表头请勿修改，带“必填”的列不能为空。",
        "协调员可授予本单位及下级单位的协调员、村(社区)实践站的网格员；管理员角色仅管理员可授予。",
        "初始密码仅用于首次登录，登录后须修改；请妥善保管本文件，导入后删除密码列。",
        "任何一行有错误时整个文件都不会导入，请按错误提示修改后重新上传。",
    ],
}


def units_for(session: Session, actor: Principal, kind: ImportKind) -> list[OrgUnit]:
    """The active units the caller may name: their subtrees (everything for an admin);
    stations only for volunteers."""
    query = select(OrgUnit).where(OrgUnit.is_active.is_(True))
    if not actor.is_admin:
        scopes = [in_subtree(OrgUnit.path, unit.path) for unit in actor.coordinator_units]
        query = query.where(or_(*scopes) if scopes else false())
    if kind == ImportKind.VOLUNTEERS:
        query = query.where(OrgUnit.level == OrgLevel.VILLAGE)
    return list(session.scalars(query.order_by(OrgUnit.path)))


def template(session: Session, actor: Principal, kind: ImportKind) -> bytes:
    columns = COLUMNS[kind]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#F8CBAD", "border": 1})
    text = book.add_format({"num_format": "@"})
    title = book.add_format({"bold": True, "font_size": 13})
    sheet = book.add_worksheet(SHEET_NAMES[kind])
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width + 2, text if column.text else None)
        sheet.write_string(0, index, column.header, required if column.required else head)
        if column.required:
            sheet.write_comment(0, index, "必填")
        if column.key == "role":
            roles = ["协调员", "网格员"] + (["管理员"] if actor.is_admin else [])
            sheet.data_validation(1, index, FILL_ROWS, index, {"validate": "list", "source": roles})
    sheet.freeze_panes(1, 0)

    notes = book.add_worksheet(NOTES_SHEET)
    notes.set_column(0, 0, 22)
    notes.set_column(1, len(columns), 20)
    row = 0
    notes.write_string(row, 0, "填写说明", title)
    for line in RULES[kind]:
        row += 1
        notes.write_string(row, 0, line)
    row += 2
    notes.write_string(row, 0, "示例（请在第一个工作表中填写，不要填在这里）", title)
    row += 1
    for index, column in enumerate(columns):
        notes.write_string(row, index, column.header, required if column.required else head)
        notes.write_string(row + 1, index, column.example)
        notes.write_string(
            row + 2, index, ("必填：" if column.required else "选填：") + column.note
        )
    row += 4
    if kind == ImportKind.VOLUNTEERS:
        notes.write_string(row, 0, "可选技能", title)
        row += 1
        for index, text_ in enumerate(("技能代码", "技能名称", "需资质")):
            notes.write_string(row, index, text_, head)
        skills = session.execute(
            select(Skill.code, Skill.name, Skill.needs_qualification)
            .where(Skill.is_active.is_(True))
            .order_by(Skill.sort_order, Skill.code)
        )
        for code, name, qualified in skills:
            row += 1
            notes.write_string(row, 0, code)
            notes.write_string(row, 1, name)
            notes.write_string(row, 2, "是" if qualified else "")
        row += 2
    notes.write_string(row, 0, "可选站点" if kind == ImportKind.VOLUNTEERS else "可选单位", title)
    row += 1
    for index, text_ in enumerate(("单位代码", "单位名称", "层级")):
        notes.write_string(row, index, text_, head)
    for unit in units_for(session, actor, kind):
        row += 1
        notes.write_string(row, 0, unit.code)
        notes.write_string(row, 1, unit.name)
        notes.write_string(row, 2, LEVELS.get(OrgLevel(unit.level), unit.level))
    book.close()
    return out.getvalue()
