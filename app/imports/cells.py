"""Cell texts read as the schemas expect them: phones without spaces, skills from codes or
names, weekly slots from “周六 08:30-11:30”, dates written the Chinese way, roles by name."""

from __future__ import annotations

import re
from typing import Any

from app.models.enums import AccountRole

_SPLIT = re.compile(r"[、,，;；/\s]+")
_SLOTS = re.compile(r"[、,，;；\n]+")
_SLOT = re.compile(
    r"^(?:周|星期|礼拜)([一二三四五六日天1-7])\s*(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})$"
)
_WEEKDAYS = {
    **{c: i for i, c in enumerate("一二三四五六日")},
    "天": 6,
    **{str(i + 1): i for i in range(7)},
}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
ROLES: dict[str, AccountRole] = {
    "协调员": AccountRole.COORDINATOR,
    "coordinator": AccountRole.COORDINATOR,
    "网格员": AccountRole.GRID_WORKER,
    "grid_worker": AccountRole.GRID_WORKER,
    "管理员": AccountRole.ADMIN,
    "admin": AccountRole.ADMIN,
}


def phone(text: str | None) -> str | None:
    if text is None:
        return None
    return re.sub(r"[\s-]", "", text).removeprefix("+86")


def skill_codes(text: str | None, known: dict[str, str]) -> list[str] | None:
    """Skill codes from codes or names; None if one is unknown."""
    codes: list[str] = []
    for token in _SPLIT.split(text or ""):
        if not token:
            continue
        code = token if token in known.values() else known.get(token)
        if code is None:
            return None
        codes.append(code)
    return list(dict.fromkeys(codes))


def slots(text: str | None) -> list[dict[str, Any]] | None:
    slots: list[dict[str, Any]] = []
    for part in _SLOTS.split(text or ""):
        part = part.strip()
        if not part:
            continue
        match = _SLOT.match(part)
        if match is None:
            return None
        day, h1, m1, h2, m2 = match.groups()
        slots.append(
            {
                "weekday": _WEEKDAYS[day],
                "start": f"{int(h1):02d}:{m1}",
                "end": f"{int(h2):02d}:{m2}",
            }
        )
    return slots


def date_text(text: str | None) -> str | None:
    match = _DATE.match(text or "")
    if match is None:
        return text
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"
