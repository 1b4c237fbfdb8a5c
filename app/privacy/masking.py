"""What lists and default views show instead of personal data."""

from __future__ import annotations

import re
from datetime import date

_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


# The name a deleted account keeps: 已注销用户#K7Q2MX (app/rights/deletion.py).
PSEUDONYM_PREFIX = "已注销用户#"


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def is_pseudonym(name: str) -> bool:
    return name.startswith(PSEUDONYM_PREFIX)


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明; one character → *."""
    chars = list(name.strip())
    if len(chars) <= 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def shown_name(name: str) -> str:
    """A person's name as lists show it: masked, and a deleted account's pseudonym as 已注销用户."""
    return "已注销用户" if is_pseudonym(name) else mask_name(name)


def mask_phone(phone: str | None) -> str | None:
    """13812341234 → 138****1234."""
    if phone is None:
        return None
    if len(phone) < 8:
        return "****"
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str | None) -> str | None:
    """330102199001011234 → 3301**********1234."""
    if number is None:
        return None
    if len(number) < 9:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def age_band(birth: date | None, today: date) -> str | None:
    """A birth date as the decade of age it falls in: "30–39岁" (under 18: "未满18岁")."""
    if birth is None:
        return None
    age = age_on(birth, today)
    if age < 18:
        return "未满18岁"
    low = age // 10 * 10
    return f"{max(low, 18)}–{low + 9}岁"


def valid_id_number(number: str) -> bool:
    """A resident identity card number (GB 11643-1999): 17 digits and a check character."""
    if not _ID_NUMBER.match(number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]
