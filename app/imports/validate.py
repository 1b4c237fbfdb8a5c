"""Every row of a sheet checked before anything is written: the same request schemas a
volunteer's registration and an admin's new account go through (`VolunteerRegister`,
`StaffCreate`), plus what only a whole file can show (a phone or username twice) and what the
database knows (units in the importing unit's subtree, skills, phones and usernames taken),
looked up once per file. Messages name the column and the rule, never the value."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.schemas import StaffCreate, Username
from app.auth.principal import Principal
from app.errors import validation_message
from app.imports import cells
from app.imports.columns import COLUMNS, Column, RawRow, cell_text
from app.imports.schemas import ImportKind, VolunteerRow
from app.models import OrgUnit, Skill, User
from app.models.enums import AccountRole, OrgLevel
from app.schemas import Phone


@dataclass
class Checked:
    """The rows ready to write (JSON-able), or the errors that stop the whole file."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: int, column: Column | None, code: str, message: str) -> None:
        self.errors.append(
            {
                "row": row,
                "column": column.header if column else None,
                "code": code,
                "message": message,
            }
        )


_PHONE = TypeAdapter(Phone)
_USERNAME = TypeAdapter(Username)


def _collect(
    values: list[tuple[int, str]], row: int, value: str | None, adapter: TypeAdapter[str]
) -> None:
    """Note a well-formed phone or username for the whole-file checks, whatever else is wrong
    with its row (a malformed one is reported with the rest of the row)."""
    if value is None:
        return
    with contextlib.suppress(ValidationError):
        values.append((row, adapter.validate_python(value)))


def _units(session: Session, codes: set[str]) -> dict[str, OrgUnit]:
    if not codes:
        return {}
    return {u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))}


def _taken_phones(session: Session, phones: set[str]) -> set[str]:
    """Which of these numbers already hold an account (through their keyed hashes)."""
    keys = {User.phone_key(phone): phone for phone in phones}
    taken: set[str] = set()
    found = list(keys)
    for start in range(0, len(found), 500):
        chunk = found[start : start + 500]
        taken |= {
            keys[h]
            for h in session.scalars(select(User.phone_hash).where(User.phone_hash.in_(chunk)))
            if h
        }
    return taken


def _pydantic_errors(
    checked: Checked, row: int, exc: ValidationError, columns: dict[str, Column]
) -> None:
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        column = columns.get(_FIELD_COLUMN.get(name, name))
        code = _FIELD_CODE.get(name, "INVALID_VALUE")
        kind = err.get("type", "")
        text = validation_message(err) if kind == "value_error" or kind in _KNOWN else "格式不正确"
        header = column.header if column else "该行"
        checked.add(row, column, code, f"{header}：{text}")


_KNOWN = {
    "missing",
    "string_too_long",
    "string_too_short",
    "less_than_equal",
    "greater_than_equal",
    "int_parsing",
    "float_parsing",
    "date_parsing",
    "string_pattern_mismatch",
    "too_long",
    "finite_number",
    "enum",
}
_FIELD_COLUMN = {
    "home_station_id": "station_code",
    "skill_codes": "skills",
    "weekly_availability": "availability",
    "org_unit_id": "unit_code",
}
_FIELD_CODE = {
    "phone": "INVALID_PHONE",
    "id_number": "INVALID_ID_NUMBER",
    "weekly_availability": "INVALID_AVAILABILITY",
    "birth_date": "INVALID_DATE",
    "username": "INVALID_USERNAME",
    "password": "INVALID_PASSWORD",
    "name": "INVALID_NAME",
}


def _required(checked: Checked, raw: RawRow, columns: tuple[Column, ...]) -> bool:
    ok = True
    for column in columns:
        if column.required and cell_text(raw.cells.get(column.key)) is None:
            checked.add(raw.number, column, "REQUIRED", f"{column.header}为必填项")
            ok = False
    return ok


def _in_scope(
    checked: Checked, raw: RawRow, column: Column, units: dict[str, OrgUnit], root: OrgUnit
) -> OrgUnit | None:
    unit = units.get(cell_text(raw.cells.get(column.key)) or "")
    if unit is None:
        checked.add(raw.number, column, "UNKNOWN_UNIT", f"{column.header}不存在")
        return None
    if not unit.path.startswith(root.path):
        checked.add(
            raw.number,
            column,
            "UNIT_OUTSIDE_SCOPE",
            f"{column.header}不在「{root.name}」及其下级单位之内",
        )
        return None
    if not unit.is_active:
        checked.add(raw.number, column, "UNIT_INACTIVE", f"{column.header}所指单位已停用")
        return None
    return unit


def _duplicates(checked: Checked, column: Column, values: list[tuple[int, str]], what: str) -> None:
    first: dict[str, int] = {}
    for row, value in values:
        if value in first:
            checked.add(
                row, column, f"DUPLICATE_{what}", f"{column.header}与第 {first[value]} 行重复"
            )
        else:
            first[value] = row


def volunteers(session: Session, *, root: OrgUnit, rows: list[RawRow]) -> Checked:
    columns = {c.key: c for c in COLUMNS[ImportKind.VOLUNTEERS]}
    checked = Checked()
    units = _units(session, {t for r in rows if (t := cell_text(r.cells.get("station_code")))})
    known = {
        name: code
        for code, name in session.execute(
            select(Skill.code, Skill.name).where(Skill.is_active.is_(True))
        )
    }
    phones: list[tuple[int, str]] = []
    for raw in rows:
        text = {key: cell_text(value) for key, value in raw.cells.items()}
        errors_before = len(checked.errors)
        _required(checked, raw, COLUMNS[ImportKind.VOLUNTEERS])
        _collect(phones, raw.number, cells.phone(text.get("phone")), _PHONE)
        station = None
        if text.get("station_code"):
            station = _in_scope(checked, raw, columns["station_code"], units, root)
            if station is not None and station.level != OrgLevel.VILLAGE:
                checked.add(
                    raw.number,
                    columns["station_code"],
                    "INVALID_HOME_STATION",
                    "所属站点必须是村(社区)实践站",
                )
                station = None
        skills = cells.skill_codes(text.get("skills"), known)
        if skills is None:
            checked.add(
                raw.number,
                columns["skills"],
                "UNKNOWN_SKILL",
                "技能不存在或已停用：请按“说明”表填写技能代码或名称",
            )
        slots = cells.slots(text.get("availability"))
        if slots is None:
            checked.add(
                raw.number,
                columns["availability"],
                "INVALID_AVAILABILITY",
                "服务时段格式不正确，应如“周六 08:30-11:30”，多个时段用分号分隔",
            )
        lat, lng = text.get("lat"), text.get("lng")
        if (lat is None) != (lng is None):
            checked.add(raw.number, columns["lat"], "INCOMPLETE_LOCATION", "常住地经纬度须同时填写")
        elif lat is None and station is not None:
            if station.lat is None or station.lng is None:
                checked.add(
                    raw.number, columns["lat"], "REQUIRED", "所属站点未设置位置，请填写常住地经纬度"
                )
            lat, lng = station.lat, station.lng  # type: ignore[assignment]
        if len(checked.errors) > errors_before or station is None:
            continue
        values: dict[str, Any] = {
            "name": text.get("name"),
            "phone": cells.phone(text.get("phone")),
            "home_station_id": station.id,
            "lat": lat,
            "lng": lng,
            "skill_codes": skills or [],
            "weekly_availability": slots or [],
            "birth_date": cells.date_text(text.get("birth_date")),
            "id_number": text.get("id_number"),
        }
        for key in ("service_radius_m", "max_concurrent_tasks"):
            if text.get(key) is not None:
                values[key] = text[key]
        try:
            valid = VolunteerRow.model_validate(values)
        except ValidationError as exc:
            _pydantic_errors(checked, raw.number, exc, columns)
            continue
        checked.rows.append({"row": raw.number, **valid.model_dump(mode="json")})
    _duplicates(checked, columns["phone"], phones, "PHONE")
    taken = _taken_phones(session, {phone for _, phone in phones})
    for row, phone in phones:
        if phone in taken:
            checked.add(row, columns["phone"], "PHONE_TAKEN", "该手机号已有账号，不能重复导入")
    checked.errors.sort(key=lambda e: e["row"])
    return checked


def staff(session: Session, *, actor: Principal, root: OrgUnit, rows: list[RawRow]) -> Checked:
    columns = {c.key: c for c in COLUMNS[ImportKind.STAFF]}
    checked = Checked()
    units = _units(session, {t for r in rows if (t := cell_text(r.cells.get("unit_code")))})
    me = session.get(User, actor.user_id)
    phones: list[tuple[int, str]] = []
    usernames: list[tuple[int, str]] = []
    mine: set[int] = set()  # rows that are the importer themselves
    for raw in rows:
        text = {key: cell_text(value) for key, value in raw.cells.items()}
        errors_before = len(checked.errors)
        _required(checked, raw, COLUMNS[ImportKind.STAFF])
        _collect(phones, raw.number, cells.phone(text.get("phone")), _PHONE)
        _collect(usernames, raw.number, text.get("username"), _USERNAME)
        phone = cells.phone(text.get("phone"))
        if me is not None and (
            (me.username is not None and text.get("username") == me.username)
            or (phone is not None and phone == me.phone)
        ):
            # Every row makes a new account; a row that is the importer would grant them a
            # role, which only someone else may do.
            checked.add(raw.number, None, "SELF_APPROVAL", "不能为本人授予角色：请由其他管理员办理")
            mine.add(raw.number)
            continue
        unit = None
        if text.get("unit_code"):
            unit = _in_scope(checked, raw, columns["unit_code"], units, root)
        role = cells.ROLES.get((text.get("role") or "").lower())
        if text.get("role") and role is None:
            checked.add(
                raw.number, columns["role"], "UNKNOWN_ROLE", "角色只能是协调员、网格员或管理员"
            )
        elif role == AccountRole.ADMIN and not actor.is_admin:
            checked.add(
                raw.number, columns["role"], "ROLE_NOT_GRANTABLE", "只有管理员可以授予管理员角色"
            )
        elif (
            role == AccountRole.GRID_WORKER and unit is not None and unit.level != OrgLevel.VILLAGE
        ):
            checked.add(
                raw.number,
                columns["unit_code"],
                "GRID_WORKER_NOT_AT_STATION",
                "网格员只能属于村(社区)实践站",
            )
        if len(checked.errors) > errors_before or unit is None or role is None:
            continue
        values = {
            "name": text.get("name"),
            "username": text.get("username"),
            "password": text.get("password"),
            "phone": cells.phone(text.get("phone")),
        }
        try:
            body = StaffCreate.model_validate(values)
        except ValidationError as exc:
            _pydantic_errors(checked, raw.number, exc, columns)
            continue
        checked.rows.append(
            {
                **body.model_dump(mode="json"),
                "row": raw.number,
                "role": role.value,
                "unit_id": unit.id,
            }
        )
    _duplicates(checked, columns["username"], usernames, "USERNAME")
    _duplicates(checked, columns["phone"], phones, "PHONE")
    names = {name for _, name in usernames}
    taken_names = (
        set(session.scalars(select(User.username).where(User.username.in_(names))))
        if names
        else set()
    )
    taken = _taken_phones(session, {phone for _, phone in phones})
    for row, name in usernames:
        if name in taken_names and row not in mine:
            checked.add(row, columns["username"], "USERNAME_TAKEN", "该用户名已被使用")
    for row, phone in phones:
        if phone in taken and row not in mine:
            checked.add(row, columns["phone"], "PHONE_TAKEN", "该手机号已有账号，不能重复导入")
    checked.errors.sort(key=lambda e: e["row"])
    return checked
