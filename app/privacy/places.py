"""How precisely places are kept in the clear.

A wish's exact point is where a resident lives: it is sealed (`wishes.exact_point`) and the
plain columns hold the public point volunteers are shown anyway, rounded to `COARSE_DECIMALS`
(0.01°, about 1 km; the same rounding as `wishes.views.REDACTED_DECIMALS`). Matching and the
check-in fence open the exact point of the one wish they judge.

A volunteer's home feeds matching over thousands of rows in SQL (an H3 cell index and a
covering index), so it cannot be sealed; it is kept to `HOME_DECIMALS` (0.001°, about 100 m:
well under the kilometres matching works in), and the exact point the volunteer gave is sealed
beside it (`volunteers.home_point`) for them to see again.
"""

from __future__ import annotations

COARSE_DECIMALS = 2
HOME_DECIMALS = 3


def coarse(lat: float, lng: float) -> tuple[float, float]:
    return round(lat, COARSE_DECIMALS), round(lng, COARSE_DECIMALS)


def home(lat: float, lng: float) -> tuple[float, float]:
    return round(lat, HOME_DECIMALS), round(lng, HOME_DECIMALS)
