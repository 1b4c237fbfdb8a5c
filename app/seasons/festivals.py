"""Traditional festivals (我们的节日) of any Gregorian year, computed with lunar_python.

Nothing is written down per year: the lunar festivals come from the lunar calendar (a lunar
year's festivals all fall in the Gregorian year of its 正月初一, because 春节 is never later
than 20 February and 重阳 never later than early November), 清明 and 秋分 (中国农民丰收节,
which anchors 丰收季) are solar terms found by name and checked to lie in the requested year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from lunar_python import Lunar, Solar

from app.seasons.errors import YearOutOfRange

MIN_YEAR = 1901
MAX_YEAR = 2099


@dataclass(frozen=True)
class Festival:
    code: str
    name: str
    gregorian_date: date
    lunar_date: str  # 农历, e.g. 乙巳年八月十五
    rule: str  # how the date is found, e.g. 农历八月十五, 节气清明


# code, name, lunar month, lunar day (months of a common lunar month, never a leap month)
LUNAR_FESTIVALS: tuple[tuple[str, str, int, int], ...] = (
    ("spring_festival", "春节", 1, 1),
    ("lantern", "元宵节", 1, 15),
    ("dragon_boat", "端午节", 5, 5),
    ("qixi", "七夕节", 7, 7),
    ("mid_autumn", "中秋节", 8, 15),
    ("double_ninth", "重阳节", 9, 9),
)
# code, name, solar term
SOLAR_TERM_FESTIVALS: tuple[tuple[str, str, str], ...] = (
    ("qingming", "清明节", "清明"),
    ("harvest_festival", "中国农民丰收节", "秋分"),
)


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise YearOutOfRange(details={"year": year, "min": MIN_YEAR, "max": MAX_YEAR})


def _to_date(solar: Solar) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _lunar_text(lunar: Lunar) -> str:
    return f"{lunar.getYearInGanZhi()}年{lunar.getMonthInChinese()}月{lunar.getDayInChinese()}"


def solar_term(year: int, name: str) -> date:
    """The date of the solar term `name` (e.g. 清明) in Gregorian `year`.

    `Lunar.getJieQiTable()` of a lunar year runs from the previous 冬至 into the next year and
    names the terms past the year's own (冬至, 小寒 … 惊蛰 of the following winter) again in
    pinyin (DONG_ZHI …); the Chinese key can therefore be a term of the previous Gregorian year.
    Only a date in `year` is taken; the neighbouring lunar years are tried if needed.
    """
    for lunar_year in (year, year - 1, year + 1):
        solar = Lunar.fromYmd(lunar_year, 1, 1).getJieQiTable().get(name)
        if solar is not None and solar.getYear() == year:
            return _to_date(solar)
    raise LookupError(f"no solar term {name} in {year}")  # pragma: no cover - not for 清明/秋分


@lru_cache(maxsize=256)
def _festivals(year: int) -> tuple[Festival, ...]:
    found: list[Festival] = []
    for code, name, month, day in LUNAR_FESTIVALS:
        lunar = Lunar.fromYmd(year, month, day)
        found.append(
            Festival(
                code=code,
                name=name,
                gregorian_date=_to_date(lunar.getSolar()),
                lunar_date=_lunar_text(lunar),
                rule=f"农历{lunar.getMonthInChinese()}月{lunar.getDayInChinese()}",
            )
        )
    for code, name, term in SOLAR_TERM_FESTIVALS:
        on = solar_term(year, term)
        lunar = Solar.fromYmd(on.year, on.month, on.day).getLunar()
        found.append(
            Festival(
                code=code,
                name=name,
                gregorian_date=on,
                lunar_date=_lunar_text(lunar),
                rule=f"节气{term}",
            )
        )
    return tuple(sorted(found, key=lambda f: f.gregorian_date))


def festivals(*, year: int) -> list[Festival]:
    """The festivals of Gregorian `year` (1901..2099), in date order; cached per year."""
    check_year(year)
    return list(_festivals(year))
