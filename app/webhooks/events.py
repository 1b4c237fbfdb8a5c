"""The public events: what webhook subscribers may receive, and what each one says.

A public event carries no personal data: no names, phones, addresses, free text (titles,
reasons, comments may name people) or points, and no user or volunteer ids. It carries units
(code, name, level), catalogue codes, counts, scores, minutes, times and the ids of wishes,
service records and awards. `tests/webhooks/test_fanout.py` checks every topic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import Attendance, HoursEntry, OrgUnit, StarAward, Wish
from app.models.enums import WishStatus
from app.wishes.state import WishEvent

# Topic → what it means (GET /admin/webhook-events lists them).
TOPICS: dict[str, str] = {
    "wish.submitted": "群众点单：新心愿提交",
    "wish.approved": "心愿审核通过",
    "wish.rejected": "心愿审核未通过",
    "wish.accepted": "志愿者接单",
    "wish.completed": "服务完成（志愿者签退）",
    "wish.rated": "群众评单（评分）",
    "wish.closed": "心愿办结",
    "wish.cancelled": "心愿取消",
    "record.confirmed": "服务时长确认入账",
    "star.awarded": "星级志愿者认定（进入公示）",
}
# Statuses a wish reaches only after someone accepted it: its public event says when.
ACCEPTED_SINCE = frozenset(
    {
        WishStatus.ACCEPTED,
        WishStatus.IN_SERVICE,
        WishStatus.COMPLETED,
        WishStatus.RATED,
        WishStatus.CLOSED,
    }
)
GROUPS = frozenset(topic.split(".", 1)[0] for topic in TOPICS)

# The wish events that are public, by topic; the others (offers, declines, reminders,
# escalations…) are the loop's own business.
WISH_TOPICS: dict[WishEvent, str] = {
    WishEvent.SUBMIT: "wish.submitted",
    WishEvent.APPROVE: "wish.approved",
    WishEvent.REJECT: "wish.rejected",
    WishEvent.ACCEPT: "wish.accepted",
    WishEvent.CHECK_OUT: "wish.completed",
    WishEvent.RATE: "wish.rated",
    WishEvent.CLOSE: "wish.closed",
    WishEvent.CANCEL: "wish.cancelled",
}


def unknown_patterns(patterns: list[str]) -> list[str]:
    """The patterns that name no topic: a pattern is "*", "<group>.*" or a topic."""
    return [
        p
        for p in patterns
        if not (p == "*" or p in TOPICS or (p.endswith(".*") and p[:-2] in GROUPS))
    ]


def matches(patterns: list[str], topic: str) -> bool:
    group = topic.split(".", 1)[0]
    return any(p in ("*", topic, f"{group}.*") for p in patterns)


def envelope(topic: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The body of a webhook, as Standard Webhooks recommends: type, timestamp, data."""
    return {"type": topic, "timestamp": _iso(now), "data": data}


def unit_ref(unit: OrgUnit) -> dict[str, Any]:
    return {"id": unit.id, "code": unit.code, "name": unit.name, "level": unit.level}


def wish_data(wish: Wish, station: OrgUnit) -> dict[str, Any]:
    data: dict[str, Any] = {
        "wish": {
            "id": wish.id,
            "status": wish.status,
            "category_code": wish.category_code,
            "programme_code": wish.programme_code,
            "season_code": wish.season_code,
            "urgency": wish.urgency,
            "submitted_at": _iso(wish.submitted_at),
        },
        "unit": unit_ref(station),
    }
    if wish.status in ACCEPTED_SINCE:
        data["wish"]["accepted_at"] = _iso(wish.accepted_at)
    if wish.completed_at is not None:
        data["wish"]["completed_at"] = _iso(wish.completed_at)
        if wish.in_service_at is not None:
            served = wish.completed_at - wish.in_service_at
            data["wish"]["service_minutes"] = max(0, int(served.total_seconds() // 60))
    if wish.rating is not None:
        data["wish"]["rating"] = wish.rating
    return data


def record_data(record: Attendance, entry: HoursEntry, unit: OrgUnit) -> dict[str, Any]:
    return {
        "record": {
            "id": record.id,
            "wish_id": record.wish_id,
            "category_code": entry.category_code,
            "credited_minutes": entry.minutes,
            "started_at": _iso(entry.started_at),
            "ended_at": _iso(entry.ended_at),
            "confirmed_at": _iso(record.confirmed_at),
        },
        "unit": unit_ref(unit),
    }


def star_data(award: StarAward, station: OrgUnit, certifying: OrgUnit) -> dict[str, Any]:
    return {
        "award": {
            "id": award.id,
            "star": award.star,
            "ladder_code": award.ladder_code,
            "notice_starts_at": _iso(award.notice_starts_at),
            "notice_ends_at": _iso(award.notice_ends_at),
        },
        "unit": unit_ref(station),
        "certifying_unit": unit_ref(certifying),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
