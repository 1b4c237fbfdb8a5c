"""A subscription message's `data`: each semantic value of a rendered message put into the
template's key and cut to what WeChat accepts for the key's type (a longer or malformed value
is refused with 47003):

| type | accepts |
|---|---|
| thing | 20 characters |
| phrase | 5 Chinese characters, nothing else |
| name | 10 Chinese characters, or 20 letters |
| character_string, letter, number | 32 (no Chinese; letters only; digits and a point) |
| symbol | 5 |
| time, date | `2026年12月1日 15:01` (a time alone: `15:01`); ISO 8601 times are converted |
| phone_number | 17 digits and symbols |
| car_number | 8 |
| amount | a currency sign and 10 digits |
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from app.config import WechatTemplate

_HAN = re.compile(r"[\u4e00-\u9fff]")
_WECHAT_TIME = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日( \d{1,2}:\d{2})?$|^\d{1,2}:\d{2}$")
LIMITS = {
    "thing": 20,
    "character_string": 32,
    "letter": 32,
    "number": 32,
    "symbol": 5,
    "phone_number": 17,
    "car_number": 8,
    "amount": 11,
}


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _wechat_time(value: str, tz: ZoneInfo) -> str | None:
    if _WECHAT_TIME.match(value):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(tz)
    return f"{parsed.year}年{parsed.month}月{parsed.day}日 {parsed.hour:02d}:{parsed.minute:02d}"


def fit(key: str, value: str | None, *, tz: ZoneInfo, now: datetime) -> str:
    """`value` as WeChat accepts it in data key `key` (e.g. thing1, time2)."""
    kind = key.rstrip("0123456789")
    text = " ".join((value or "").split())  # one line
    if kind in ("time", "date"):
        if not text:  # none given: the time of the notice
            return _wechat_time(now.isoformat(), tz) or ""
        # A time we cannot read goes as it is: WeChat refuses it (47003) and the message
        # shows as a dead letter, rather than a wrong time reaching the person.
        return _wechat_time(text, tz) or cut(text, LIMITS["thing"])
    if kind == "phrase":
        return "".join(_HAN.findall(text))[:5] or "通知"
    if kind == "name":
        han = "".join(_HAN.findall(text))
        return han[:10] if han else (text[:20] or "用户")
    if kind == "car_number":
        return text.replace(" ", "")[:8] or "-"
    if kind in ("character_string", "symbol", "phone_number", "amount"):
        return _HAN.sub("", text).replace(" ", "")[: LIMITS[kind]] or "-"
    if kind == "letter":
        return "".join(c for c in text if c.isascii() and c.isalpha())[:32] or "x"
    if kind == "number":
        return "".join(c for c in text if c.isdigit() or c == ".")[:32] or "0"
    return cut(text, LIMITS["thing"]) or "无"


def build_data(
    template: WechatTemplate, fields: dict[str, str], *, tz: ZoneInfo, now: datetime
) -> dict[str, str]:
    return {
        key: fit(key, fields.get(semantic), tz=tz, now=now)
        for semantic, key in template.fields.items()
    }
