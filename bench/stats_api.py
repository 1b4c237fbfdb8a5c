"""Latency of the statistics a coordinator asks for, against a database of a given URL (the data
of `bench/stats_data.py`, PostgreSQL; any migrated database works):

- `stats county year`: every section of a county's subtree over a calendar year (GET /stats);
- `stats station month`: every section of one station over a month;
- `series county month`: one figure per month over the year (GET /stats/series?bucket=month),
  for a few figures of different sections;
- `baseline`: a bare `SELECT count(*) FROM wishes` in the same run, so the figures of two runs
  on a busy machine can be compared by their ratio to it.

    .venv/bin/python bench/stats_api.py --url postgresql+psycopg://root@127.0.0.1:5432/wenming_bench_stats
    .venv/bin/python bench/stats_api.py --url ... --repeat 20 --year 2025 --month 2026-10

The county is the one with the most wishes, the station likewise (or `--county` / `--station`
ids). Calls the statistics service in process (what the endpoints call, without HTTP and JSON);
each measurement opens a fresh session, as a request does. Prints p50 / p99 in milliseconds and
the ratio of the p50 to the baseline's; the last line of stdout is one JSON object with every
figure. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.db import Database, make_engine
from app.models import OrgUnit, Wish
from app.models.enums import OrgLevel
from app.stats import service
from app.stats.periods import BucketKind

SERIES_KEYS = ("intake.wishes", "speed.review.p50_minutes", "people.hours", "coverage.served_share")
TARGETS_MS = {"stats county year": 500.0, "stats station month": 100.0}


def percentile(values: list[float], q: float) -> float:
    """Nearest rank over the sorted values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def busiest(session: Session, level: OrgLevel) -> int:
    """The unit of `level` whose subtree has the most wishes."""
    units = session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.level == level)).all()
    by_station = dict(
        session.execute(select(Wish.station_id, func.count()).group_by(Wish.station_id)).all()
    )
    paths = dict(session.execute(select(OrgUnit.id, OrgUnit.path)).all())

    def wishes(path: str) -> int:
        return sum(n for station, n in by_station.items() if paths[station].startswith(path))

    return max(units, key=lambda unit: wishes(unit.path)).id


def measure(db: Database, run: Callable[[Session], Any], repeat: int, warmup: int) -> list[float]:
    """Milliseconds of `repeat` runs, each in a fresh session, after `warmup` unrecorded ones."""
    out = []
    for i in range(warmup + repeat):
        with db.session(write=False) as session:
            started = time.perf_counter()
            run(session)
            elapsed = (time.perf_counter() - started) * 1000
        if i >= warmup:
            out.append(elapsed)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the database")
    parser.add_argument("--year", type=int, default=2025, help="the county's calendar year")
    parser.add_argument("--month", default="2026-10", help="the station's month, YYYY-MM")
    parser.add_argument("--county", type=int, help="county id (default: the busiest)")
    parser.add_argument("--station", type=int, help="station id (default: the busiest)")
    parser.add_argument("--repeat", type=int, default=10, help="measured runs of each")
    parser.add_argument("--warmup", type=int, default=1, help="unrecorded runs before")
    parser.add_argument("--no-series", action="store_true", help="skip the series")
    parser.add_argument("--only-series", action="store_true", help="skip the sections")
    args = parser.parse_args()

    db = Database(make_engine(args.url))
    with db.session(write=False) as session:
        county_id = args.county or busiest(session, OrgLevel.COUNTY)
        station_id = args.station or busiest(session, OrgLevel.VILLAGE)
        n_wishes = int(session.scalar(select(func.count()).select_from(Wish)) or 0)
    year_first, year_last = date(args.year, 1, 1), date(args.year, 12, 31)
    month_first = date.fromisoformat(f"{args.month}-01")
    month_last = (month_first + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    def overview(unit_id: int, first: date, last: date) -> Callable[[Session], Any]:
        def run(session: Session) -> Any:
            unit = session.get_one(OrgUnit, unit_id)
            return service.overview(session, unit, first, last)

        return run

    def series(unit_id: int, key: str) -> Callable[[Session], Any]:
        def run(session: Session) -> Any:
            unit = session.get_one(OrgUnit, unit_id)
            return service.series(
                session,
                unit,
                key=key,
                group=None,
                first=year_first,
                last=year_last,
                kind=BucketKind.MONTH,
            )

        return run

    cases: dict[str, Callable[[Session], Any]] = {
        "baseline": lambda session: session.execute(text("SELECT count(*) FROM wishes")).one(),
    }
    if not args.only_series:
        cases["stats county year"] = overview(county_id, year_first, year_last)
        cases["stats station month"] = overview(station_id, month_first, month_last)
    if not args.no_series:
        for key in SERIES_KEYS:
            cases[f"series county month {key}"] = series(county_id, key)

    print(
        f"{db.engine.dialect.name}: {n_wishes} wishes; county {county_id} over {args.year}, "
        f"station {station_id} over {args.month}; {args.repeat} runs each"
    )
    results: dict[str, dict[str, float]] = {}
    print(f"{'':44} {'p50 ms':>9} {'p99 ms':>9} {'x base':>8} {'target':>8}", flush=True)
    for name, run in cases.items():
        times = measure(db, run, args.repeat, args.warmup)
        figures = {"p50_ms": percentile(times, 0.5), "p99_ms": percentile(times, 0.99)}
        base = results["baseline"]["p50_ms"] if results else figures["p50_ms"]
        figures["ratio"] = figures["p50_ms"] / base if base else math.nan
        results[name] = figures
        target = TARGETS_MS.get(name)
        print(
            f"{name:44} {figures['p50_ms']:9.1f} {figures['p99_ms']:9.1f} "
            f"{figures['ratio']:8.1f} {'' if target is None else f'{target:8.0f}'}",
            flush=True,
        )
    print(
        json.dumps(
            {
                "engine": db.engine.dialect.name,
                "wishes": n_wishes,
                "county": county_id,
                "station": station_id,
                "repeat": args.repeat,
                "results": results,
            },
            ensure_ascii=False,
        )
    )
    db.engine.dispose()


if __name__ == "__main__":
    main()
