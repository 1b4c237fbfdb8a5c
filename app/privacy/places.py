"""How precisely places are kept in the clear.

A wish's exact point is where a resident lives: it is sealed (`wishes.exact_point`) and the
plain columns hold only its coarse point (`app.geo.coarse`: the centre of the 0.01° cell, about
1 km), which volunteers are shown anyway. The exact point is opened for the one wish at hand:
the check-in fence, the distances shown to coordinators, the requester's own view.

A volunteer's home feeds matching over thousands of rows in SQL (an H3 cell index and a
covering index), so it cannot be sealed; it is kept to `HOME_DECIMALS` (0.001°, about 100 m:
well under the kilometres matching works in, and under the coarse cell volunteers are judged
by), and the exact point the volunteer gave is sealed beside it (`volunteers.home_point`) for
them to see again.
"""

from __future__ import annotations

HOME_DECIMALS = 3


def home(lat: float, lng: float) -> tuple[float, float]:
    return round(lat, HOME_DECIMALS), round(lng, HOME_DECIMALS)
