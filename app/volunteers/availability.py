"""Weekly availability as seven 48-bit masks, one per weekday (Monday = 0).

Bit i of a day's mask is the half hour starting at minute 30·i, in the city's local time. The
API speaks in slots ("周二 08:30–11:30"); the database keeps the masks, which matching reads for
thousands of volunteers at a time without parsing anything, and compares with one AND.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES  # 48
FULL_DAY = (1 << SLOTS_PER_DAY) - 1


def _hhmm_to_minute(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _minute_to_hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def slot_mask(start_minute: int, end_minute: int) -> int:
    """The bits of the half hours in [start, end); both on half-hour boundaries."""
    first, last = start_minute // SLOT_MINUTES, end_minute // SLOT_MINUTES
    return ((1 << last) - 1) ^ ((1 << first) - 1)


def slots_to_masks(slots: Iterable[tuple[int, str, str]]) -> list[int]:
    """(weekday, "HH:MM", "HH:MM") slots to seven masks; overlapping slots merge."""
    masks = [0] * 7
    for weekday, start, end in slots:
        masks[weekday] |= slot_mask(_hhmm_to_minute(start), _hhmm_to_minute(end))
    return masks


def masks_to_slots(masks: Sequence[int]) -> list[tuple[int, str, str]]:
    """Seven masks back to the fewest slots (runs of consecutive half hours)."""
    slots = []
    for weekday, mask in enumerate(masks):
        bit = 0
        while bit < SLOTS_PER_DAY:
            if mask >> bit & 1:
                start = bit
                while bit < SLOTS_PER_DAY and mask >> bit & 1:
                    bit += 1
                slots.append(
                    (
                        weekday,
                        _minute_to_hhmm(start * SLOT_MINUTES),
                        _minute_to_hhmm(bit * SLOT_MINUTES),
                    )
                )
            else:
                bit += 1
    return slots


def window_masks(start: datetime, end: datetime, timezone: str) -> tuple[list[int], int]:
    """The half hours of a wanted window, as seven masks (union over the weeks it spans), and
    how many half hours the window has in all.

    A half hour counts if the window covers any part of it.
    """
    zone = ZoneInfo(timezone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    masks = [0] * 7
    total = 0
    day = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < local_end:
        next_day = day + timedelta(days=1)
        lo = max(local_start, day)
        hi = min(local_end, next_day)
        if hi > lo:
            first = int((lo - day).total_seconds() // (SLOT_MINUTES * 60))
            last_exclusive = -int(-(hi - day).total_seconds() // (SLOT_MINUTES * 60))
            mask = ((1 << last_exclusive) - 1) ^ ((1 << first) - 1)
            masks[day.weekday()] |= mask
            total += last_exclusive - first
        day = next_day
    return masks, total
