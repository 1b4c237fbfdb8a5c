"""Month-day periods ("MM-DD" to "MM-DD", inclusive, every year), without the database.

A period whose start comes after its end wraps the year's end (12-01 to 01-31). Month-days
compare as strings because they are zero-padded. 29 February is a real month-day: a period may
start or end on it; in a common year such a period simply starts on 1 March or ends on
28 February. A leap day that no period names belongs with 28 February (see `code_on`), so a
calendar that covers every day of a common year also covers every day of a leap year.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

LEAP_YEAR = 2000  # any leap year: the month-days are the days of a leap year
DAYS_IN_LEAP_YEAR = 366
_MD = re.compile(r"[0-9]{2}-[0-9]{2}")


def is_valid_md(value: str) -> bool:
    """Whether `value` is "MM-DD" of a day that exists in a leap year (02-29 yes, 02-30 no)."""
    if not _MD.fullmatch(value):
        return False
    try:
        date(LEAP_YEAR, int(value[:2]), int(value[3:]))
    except ValueError:
        return False
    return True


def md_of(day: date) -> str:
    return f"{day.month:02d}-{day.day:02d}"


def _ordinal(md: str) -> int:
    """1..366: the day's number in a leap year."""
    return date(LEAP_YEAR, int(md[:2]), int(md[3:])).timetuple().tm_yday


@dataclass(frozen=True)
class Period:
    start_md: str
    end_md: str

    @property
    def valid(self) -> bool:
        return is_valid_md(self.start_md) and is_valid_md(self.end_md)

    @property
    def wraps(self) -> bool:
        return self.start_md > self.end_md

    def contains(self, md: str) -> bool:
        if self.wraps:
            return md >= self.start_md or md <= self.end_md
        return self.start_md <= md <= self.end_md

    def days(self) -> frozenset[int]:
        """The month-days it covers, as day numbers of a leap year. Only for valid periods."""
        start, end = _ordinal(self.start_md), _ordinal(self.end_md)
        if start <= end:
            return frozenset(range(start, end + 1))
        return frozenset(range(start, DAYS_IN_LEAP_YEAR + 1)) | frozenset(range(1, end + 1))


SeasonPeriods = Sequence[tuple[str, Period]]  # (season code, period), in order of precedence


def code_on(periods: SeasonPeriods, day: date) -> str | None:
    """The code of the first season whose period contains `day`; a leap day that no period
    names takes 28 February's season."""
    md = md_of(day)
    for code, period in periods:
        if period.contains(md):
            return code
    if md == "02-29":
        return code_on(periods, day - timedelta(days=1))
    return None


@dataclass(frozen=True)
class DateRange:
    start_date: date
    end_date: date

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start_date <= day <= self.end_date


def runs(periods: SeasonPeriods, year: int) -> list[tuple[str | None, DateRange]]:
    """The year cut into runs of consecutive days with the same season (None: no season)."""
    out: list[tuple[str | None, DateRange]] = []
    day, last = date(year, 1, 1), date(year, 12, 31)
    while day <= last:
        code = code_on(periods, day)
        if out and out[-1][0] == code:
            out[-1] = (code, DateRange(out[-1][1].start_date, day))
        else:
            out.append((code, DateRange(day, day)))
        day += timedelta(days=1)
    return out


def run_around(periods: SeasonPeriods, day: date) -> DateRange | None:
    """The run of consecutive days around `day` in `day`'s season, across the year's end if
    the period wraps; None when `day` has no season. A season that covers the whole year
    gives a run of at most a year either side."""
    code = code_on(periods, day)
    if code is None:
        return None
    step = timedelta(days=1)
    start = end = day
    for _ in range(DAYS_IN_LEAP_YEAR):
        if code_on(periods, start - step) != code:
            break
        start -= step
    for _ in range(DAYS_IN_LEAP_YEAR):
        if code_on(periods, end + step) != code:
            break
        end += step
    return DateRange(start, end)
