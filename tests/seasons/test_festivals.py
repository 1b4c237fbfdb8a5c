"""The festivals come from the lunar calendar library, checked against published dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.seasons.errors import YearOutOfRange
from app.seasons.festivals import MAX_YEAR, MIN_YEAR, festivals, solar_term

# Published dates (国务院办公厅 holiday notices and almanacs).
PUBLISHED: dict[str, dict[int, str]] = {
    "spring_festival": {
        2025: "2025-01-29",
        2026: "2026-02-17",
        2027: "2027-02-06",
        2028: "2028-01-26",
        2029: "2029-02-13",
        2030: "2030-02-03",
    },
    "mid_autumn": {
        2025: "2025-10-06",
        2026: "2026-09-25",
        2027: "2027-09-15",
        2028: "2028-10-03",
        2029: "2029-09-22",
        2030: "2030-09-12",
    },
    "dragon_boat": {
        2025: "2025-05-31",
        2026: "2026-06-19",
        2027: "2027-06-09",
        2028: "2028-05-28",
        2029: "2029-06-16",
        2030: "2030-06-05",
    },
    "qingming": {
        2025: "2025-04-04",
        2026: "2026-04-05",
        2027: "2027-04-05",
        2028: "2028-04-04",
        2029: "2029-04-04",
        2030: "2030-04-05",
    },
}
CODES = [
    "spring_festival",
    "lantern",
    "qingming",
    "dragon_boat",
    "qixi",
    "harvest_festival",
    "mid_autumn",
    "double_ninth",
]


def _on(year: int, code: str) -> date:
    (found,) = [f for f in festivals(year=year) if f.code == code]
    return found.gregorian_date


@pytest.mark.parametrize(
    ("code", "year", "expected"),
    [(code, year, day) for code, by_year in PUBLISHED.items() for year, day in by_year.items()],
)
def test_published_dates(code: str, year: int, expected: str) -> None:
    assert _on(year, code) == date.fromisoformat(expected)


def test_a_year_in_full() -> None:
    got = [
        (f.code, f.name, f.gregorian_date.isoformat(), f.lunar_date) for f in festivals(year=2025)
    ]
    assert got == [
        ("spring_festival", "春节", "2025-01-29", "乙巳年正月初一"),
        ("lantern", "元宵节", "2025-02-12", "乙巳年正月十五"),
        ("qingming", "清明节", "2025-04-04", "乙巳年三月初七"),
        ("dragon_boat", "端午节", "2025-05-31", "乙巳年五月初五"),
        ("qixi", "七夕节", "2025-08-29", "乙巳年七月初七"),
        ("harvest_festival", "中国农民丰收节", "2025-09-23", "乙巳年八月初二"),
        ("mid_autumn", "中秋节", "2025-10-06", "乙巳年八月十五"),
        ("double_ninth", "重阳节", "2025-10-29", "乙巳年九月初九"),
    ]


def test_every_year_has_each_festival_once_inside_the_year() -> None:
    """Every festival of every supported year lies in that Gregorian year, within its usual
    window (春节 21 January to 20 February; 清明 4 to 6 April; 秋分 22 to 24 September)."""
    windows = {
        "spring_festival": ("01-21", "02-20"),
        "qingming": ("04-04", "04-06"),
        "dragon_boat": ("05-27", "06-26"),
        "qixi": ("07-31", "08-31"),
        "harvest_festival": ("09-22", "09-24"),
        "mid_autumn": ("09-07", "10-08"),
        "double_ninth": ("10-01", "11-01"),
    }
    for year in range(MIN_YEAR, MAX_YEAR + 1):
        found = festivals(year=year)
        assert sorted(f.code for f in found) == sorted(CODES), year
        for f in found:
            assert f.gregorian_date.year == year, (year, f)
            if f.code == "lantern":  # 正月十五 is always 14 days after 正月初一
                assert f.gregorian_date == found[0].gregorian_date + timedelta(days=14)
                continue
            low, high = windows[f.code]
            assert low <= f.gregorian_date.strftime("%m-%d") <= high, (year, f)
        assert [f.gregorian_date for f in found] == sorted(f.gregorian_date for f in found)


def test_qingming_is_the_one_of_the_requested_year() -> None:
    """The 清明 key of a lunar year's table is that lunar year's, and the table also carries
    the previous winter's terms: the term is taken only from the requested Gregorian year."""
    assert solar_term(2025, "清明") == date(2025, 4, 4)
    assert solar_term(2024, "冬至") == date(2024, 12, 21)  # the table of lunar 2024 has 2023's
    assert solar_term(2023, "冬至") == date(2023, 12, 22)


@pytest.mark.parametrize("year", [0, 1900, 2100, 9999])
def test_years_outside_the_range_are_refused(year: int) -> None:
    with pytest.raises(YearOutOfRange) as refused:
        festivals(year=year)
    assert refused.value.status_code == 400
    assert refused.value.code == "YEAR_OUT_OF_RANGE"


def test_cached_per_year_but_not_shared() -> None:
    first = festivals(year=2026)
    first.clear()
    assert len(festivals(year=2026)) == len(CODES)
