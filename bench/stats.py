"""Benchmark of the statistics: every section's `compute` for a county over a year and for a
station over a month, against loading the rows and computing in Python; and the console page
and the statistics API through a real server. PostgreSQL, on the data of `bench/stats_data.py`.

    .venv/bin/python bench/stats_data.py && .venv/bin/python bench/stats.py
    .venv/bin/python bench/stats_data.py --wishes 20000 && .venv/bin/python bench/stats.py \
        --wishes 20000

See bench/README.md. Prints figures and the targets; asserts nothing. The last line of stdout is
one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib
import json
import math
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import API, HOST, percentile, running_server
from sqlalchemy import text
from sqlalchemy.orm import Session
from stats_data import (
    DEFAULT_POSTGRES_URL,
    PASSWORD,
    TZ,
    database_name,
    database_url,
    params_of,
    read_state,
)

from app.config import Environment, Settings
from app.db import Database, make_engine
from app.models import OrgUnit
from app.stats.figures import Figure, Scope, Section, sections

# Reference targets (ms): printed next to the figures, never asserted.
COUNTY_YEAR_MS = 500.0
STATION_MONTH_MS = 100.0
CONSOLE_P99_MS = 200.0


def log(message: str) -> None:
    print(f"[stats-bench] {message}", file=sys.stderr, flush=True)


SECTION_MODULES = ("intake", "speed", "outcomes", "people", "coverage", "seasons")


def load_sections() -> tuple[Sequence[Section], str | None]:
    """Every registered section (app/stats/all_sections.py imports them), or why there are
    none. While all_sections registers nothing, the section modules present are imported in
    its order."""
    note = None
    try:
        importlib.import_module("app.stats.all_sections")
    except ImportError as exc:
        note = f"app.stats.all_sections not importable ({exc})"
    if not sections():
        found = []
        for name in SECTION_MODULES:
            try:
                importlib.import_module(f"app.stats.{name}")
            except ModuleNotFoundError:
                continue
            found.append(name)
        note = f"all_sections registers none; imported app.stats.{{{','.join(found)}}}"
    return sections(), note


# ---------------------------------------------------------------- scopes


@dataclass(frozen=True)
class Case:
    label: str
    unit_id: int
    unit_name: str
    first: date  # local dates, inclusive
    last: date
    target_ms: float

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time(), TZ).astimezone(UTC)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), TZ).astimezone(
            UTC
        )

    def scope(self, session: Session) -> Scope:
        unit = session.get(OrgUnit, self.unit_id)
        assert unit is not None
        return Scope(unit=unit, starts_at=self.starts_at, ends_at=self.ends_at)


def busiest(session: Session, level: str, starts_at: datetime, ends_at: datetime) -> OrgUnit:
    """The unit of `level` whose subtree took in the most wishes in the window."""
    row = session.execute(
        text(
            "SELECT u.id FROM org_units u JOIN org_units s ON s.path LIKE u.path || '%'"
            " JOIN wishes w ON w.station_id = s.id"
            " WHERE u.level = :level AND w.submitted_at >= :a AND w.submitted_at < :b"
            " GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 1"
        ),
        {"level": level, "a": starts_at, "b": ends_at},
    ).one()
    unit = session.get(OrgUnit, row.id)
    assert unit is not None
    return unit


def cases(database: Database, until: date) -> list[Case]:
    year_first = until.replace(year=until.year - 1)
    month_first = (until - timedelta(days=1)).replace(day=1)
    last = until - timedelta(days=1)
    out = []
    with database.session(write=False) as session:
        for label, level, first, target in (
            ("county, one year", "county", year_first, COUNTY_YEAR_MS),
            ("station, one month", "village", month_first, STATION_MONTH_MS),
        ):
            probe = Case(label, 0, "", first, last, target)
            unit = busiest(session, level, probe.starts_at, probe.ends_at)
            out.append(Case(label, unit.id, unit.name, first, last, target))
    return out


# ---------------------------------------------------------------- the sections


@dataclass
class Timing:
    per_section: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    total: list[float] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def time_sections(
    database: Database, case: Case, found: Sequence[Section], runs: int, warmup: int
) -> Timing:
    """Each run in a fresh read session, as one API request would: every section in order."""
    timing = Timing()
    for run in range(warmup + runs):
        with database.session(write=False) as session:
            scope = case.scope(session)
            total = 0.0
            for section in found:
                t0 = time.perf_counter()
                try:
                    figures = section.compute(session, scope)
                except Exception as exc:  # a section that fails is reported, the others timed
                    timing.errors[section.key] = f"{type(exc).__name__}: {exc}"[:300]
                    session.rollback()
                    continue
                ms = (time.perf_counter() - t0) * 1000
                total += ms
                if run >= warmup:
                    timing.per_section[section.key].append(ms)
                if run == warmup:
                    timing.figures.extend(figures)
            if run >= warmup:
                timing.total.append(total)
    return timing


# ---------------------------------------------------------------- brute force


def brute_force(database: Database, case: Case) -> tuple[float, dict[str, float | int | None]]:
    """Load the subtree's rows of the window (the wishes' events, the credited hours) and
    compute the headline figures in Python. Returns (ms, figures)."""
    t0 = time.perf_counter()
    with database.session(write=False) as session:
        unit = session.get(OrgUnit, case.unit_id)
        assert unit is not None
        window = {"path": f"{unit.path}%", "a": case.starts_at, "b": case.ends_at}
        events = session.execute(
            text(
                "SELECT e.wish_id, e.event, e.to_status, e.actor_id, e.data, e.created_at,"
                " w.station_id FROM wish_events e JOIN wishes w ON w.id = e.wish_id"
                " JOIN org_units s ON s.id = w.station_id"
                " WHERE s.path LIKE :path AND e.wish_id IN ("
                "   SELECT e2.wish_id FROM wish_events e2 WHERE e2.created_at >= :a"
                "   AND e2.created_at < :b)"
                " ORDER BY e.wish_id, e.id"
            ),
            window,
        ).all()
        hours = session.execute(
            text(
                "SELECT h.volunteer_id, h.minutes, h.started_at FROM hours_entries h"
                " JOIN org_units s ON s.id = h.unit_id WHERE s.path LIKE :path"
                " AND h.started_at >= :a AND h.started_at < :b AND h.category = 'service'"
            ),
            window,
        ).all()
    a, b = case.starts_at, case.ends_at
    by_wish: dict[int, list[Any]] = defaultdict(list)
    for row in events:
        if row.created_at < b:
            by_wish[row.wish_id].append(row)
    placed = dispatched = accepted = completed = 0
    review_minutes: list[float] = []
    accept_minutes: list[float] = []
    scores: list[int] = []
    served_stations: set[int] = set()
    for rows in by_wish.values():
        first: dict[str, datetime] = {}
        for row in rows:
            first.setdefault(row.event, row.created_at)
            if row.event == "rate" and a <= row.created_at:
                scores.append(int((row.data or {}).get("score", 0)))
            if row.event == "check_out" and a <= row.created_at:
                served_stations.add(row.station_id)
        submitted = first.get("submit")
        if submitted is None:
            continue
        reviewed = min((first[e] for e in ("approve", "reject") if e in first), default=None)
        if reviewed is not None and a <= reviewed:
            review_minutes.append((reviewed - submitted).total_seconds() / 60)
        if "accept" in first and a <= first["accept"]:
            accept_minutes.append((first["accept"] - submitted).total_seconds() / 60)
        if a <= submitted:  # the cohort: placed in the window, outcomes before its end
            placed += 1
            dispatched += "offer" in first or "open_grab" in first
            accepted += "accept" in first
            completed += "check_out" in first
    figures: dict[str, float | int | None] = {
        "intake.wishes": placed,
        "speed.review.p50_minutes": _nearest_rank(review_minutes),
        "speed.accept.p50_minutes": _nearest_rank(accept_minutes),
        "outcomes.placed": placed,
        "outcomes.completed": completed,
        "outcomes.acceptance_rate": round(accepted / dispatched, 4) if dispatched else None,
        "outcomes.satisfaction_mean": round(sum(scores) / len(scores), 3) if scores else None,
        "people.active": len({h.volunteer_id for h in hours}),
        "people.hours": round(sum(h.minutes for h in hours) / 60, 1),
        "coverage.villages_served": len(served_stations),
    }
    return (time.perf_counter() - t0) * 1000, figures


def _nearest_rank(values: list[float]) -> float | None:
    return round(percentile(sorted(values), 0.5), 1) if values else None


# ---------------------------------------------------------------- through the server


API_TIMEOUT = [60.0]  # seconds a request may take (--api-timeout)


def _request(
    port: int, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection(HOST, port, timeout=API_TIMEOUT[0])
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - t0) * 1000
    finally:
        conn.close()


def time_requests(
    request: Callable[[], tuple[int, bytes, float]], runs: int, warmup: int
) -> dict[str, Any]:
    ms: list[float] = []
    statuses: dict[int, int] = defaultdict(int)
    for i in range(warmup + runs):
        status, _body, elapsed = request()
        if i >= warmup:
            statuses[status] += 1
            ms.append(elapsed)
    ms.sort()
    return {
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "statuses": dict(statuses),
        "runs": runs,
    }


def http_phase(
    url: str, found_cases: list[Case], runs: int, api_runs: int, warmup: int
) -> dict[str, Any]:
    """GET /console (the page) and the statistics API of each case, one request at a time."""
    out: dict[str, Any] = {}
    server_args = argparse.Namespace(sql_stats=False, workers=1, access_log=False)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(
            url, secrets.token_urlsafe(48), server_args, Path(tmp) / "server.log"
        ) as server,
    ):
        port = server.port
        status, body, _ = _request(
            port,
            "POST",
            f"{API}/auth/login",
            body={"username": "stats_city", "password": PASSWORD},
        )
        if status != 200:
            out["error"] = f"sign-in answered {status}: {body[:200]!r}"
            return out
        token = json.loads(body)["access_token"]
        status, body, _ = _request(port, "GET", "/console")
        if status == 404:
            out["console"] = {"absent": "GET /console answered 404 (the console is not merged)"}
        else:
            out["console"] = time_requests(lambda: _request(port, "GET", "/console"), runs, warmup)
            out["console"]["bytes"] = len(body)
        for case in found_cases:
            path = (
                f"{API}/org-units/{case.unit_id}/stats?from={case.first.isoformat()}"
                f"&to={case.last.isoformat()}"
            )
            try:
                status, body, first_ms = _request(port, "GET", path, token)
            except TimeoutError:
                out[case.label] = {"absent": f"no answer in {API_TIMEOUT[0]:g} s (--api-timeout)"}
                continue
            if status != 200:
                out[case.label] = {
                    "absent": f"{path} answered {status}: {body.decode(errors='replace')[:200]}"
                }
                continue
            out[case.label] = time_requests(
                partial(_request, port, "GET", path, token), api_runs, 0
            )
            out[case.label]["first_ms"] = round(first_ms, 1)
    return out


# ---------------------------------------------------------------- report


def verdict(value: float, target: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "ok" if value <= target else f"over target ({target:.0f} ms)"


def report_case(
    case: Case, timing: Timing, brute_ms: list[float], brute: dict[str, Any]
) -> dict[str, Any]:
    total = sorted(timing.total) if timing.per_section else []
    p50, p99 = percentile(total, 0.5), percentile(total, 0.99)
    brute_p50 = statistics.median(brute_ms)
    print(f"\n== {case.label}: {case.unit_name} (id {case.unit_id}), {case.first} .. {case.last}")
    print(f"{'section':<12} {'p50 ms':>9} {'p99 ms':>9} {'figures':>8}")
    count: dict[str, int] = defaultdict(int)
    for figure in timing.figures:
        count[figure.key.split(".")[0]] += 1
    for key, values in timing.per_section.items():
        values = sorted(values)
        print(
            f"{key:<12} {percentile(values, 0.5):>9.1f} {percentile(values, 0.99):>9.1f}"
            f" {count[key]:>8}"
        )
    for key, error in timing.errors.items():
        print(f"{key:<12} FAILED: {error}")
    ratio = brute_p50 / p50 if total and p50 > 0 else math.nan
    print(
        f"{'all':<12} {p50:>9.1f} {p99:>9.1f}   target p99 <= {case.target_ms:.0f} ms:"
        f" {verdict(p99, case.target_ms)}"
    )
    print(
        f"brute force (load rows, compute in Python): p50 {brute_p50:.0f} ms;"
        f" ratio brute / sections = {ratio:.1f}x"
    )
    shown = {f.key: f.value for f in timing.figures if f.group is None}
    print("figure                          sections        brute force")
    agree = {}
    for key, value in brute.items():
        if key in shown:
            agree[key] = _fmt(shown[key]) == _fmt(value)
        verdict_text = "" if key not in shown else "  same" if agree[key] else "  DIFFERS"
        print(f"{key:<31} {_fmt(shown.get(key, '-')):>12} {_fmt(value):>16}{verdict_text}")
    return {
        "unit": {"id": case.unit_id, "name": case.unit_name},
        "from": case.first.isoformat(),
        "to": case.last.isoformat(),
        "p50_ms": round(p50, 1) if total else None,
        "p99_ms": round(p99, 1) if total else None,
        "target_p99_ms": case.target_ms,
        "meets_target": bool(p99 <= case.target_ms) if total else None,
        "sections": {
            key: {
                "p50_ms": round(percentile(sorted(v), 0.5), 1),
                "p99_ms": round(percentile(sorted(v), 0.99), 1),
            }
            for key, v in timing.per_section.items()
        },
        "errors": timing.errors,
        "brute_force_p50_ms": round(brute_p50, 1),
        "ratio": round(ratio, 2) if not math.isnan(ratio) else None,
        "figures": len(timing.figures),
        "brute_force_agrees": agree,
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--wishes", type=int, default=1_000_000, help="which generated database")
    p.add_argument("--database", help="default: as bench/stats_data.py names it")
    p.add_argument("--until", default="2026-12-01", help="as given to bench/stats_data.py")
    p.add_argument("--runs", type=int, default=30, help="timed runs of the sections per case")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--brute-runs", type=int, default=3)
    p.add_argument("--http-runs", type=int, default=100, help="GET /console requests")
    p.add_argument("--api-runs", type=int, default=5, help="statistics API requests per case")
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--skip-sections", action="store_true", help="the server's figures only")
    p.add_argument("--api-timeout", type=float, default=600.0, help="seconds per API request")
    p.add_argument("--postgres-url", default=None)
    # The generator's own options, to find its database by the same parameters.
    p.add_argument("--volunteers", type=int)
    p.add_argument("--residents", type=int)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--chunk", type=int, default=50_000)
    return p.parse_args(argv)


@contextlib.contextmanager
def opened(url: str) -> Iterator[Database]:
    database = Database(make_engine(url, Settings(env=Environment.DEVELOPMENT, database_url=url)))
    try:
        yield database
    finally:
        database.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as they come
    admin_url = args.postgres_url or DEFAULT_POSTGRES_URL
    name = database_name(args)
    state = read_state(admin_url, name)
    if not state or not state.get("finished"):
        print(
            f"{name} is not generated (or not finished): run"
            f" bench/stats_data.py --wishes {args.wishes} first"
        )
        return 1
    params = params_of(args)
    if state.get("params", {}).get("until") != params.until:
        log(f"note: {name} was generated with {state.get('params')}")
    url = database_url(admin_url, name)
    found, why = load_sections()
    print(f"database {name}: {state['params']['wishes']:,} wishes, generated {state['finished']}")
    print(f"sections: {', '.join(s.key for s in found) or '(none)'}" + (f" [{why}]" if why else ""))
    out: dict[str, Any] = {"database": name, "sections": [s.key for s in found], "cases": {}}
    with opened(url) as database:
        found_cases = cases(database, date.fromisoformat(params.until))
        for case in [] if args.skip_sections else found_cases:
            timing = time_sections(database, case, found, args.runs, args.warmup)
            brute_ms: list[float] = []
            brute: dict[str, Any] = {}
            for _ in range(args.brute_runs):
                ms, brute = brute_force(database, case)
                brute_ms.append(ms)
            out["cases"][case.label] = report_case(case, timing, brute_ms, brute)
    API_TIMEOUT[0] = args.api_timeout
    if not args.skip_http:
        log("starting the server")
        web = http_phase(url, found_cases, args.http_runs, args.api_runs, args.warmup)
        out["http"] = web
        print("\n== through the server (one request at a time)")
        if "error" in web:
            print(web["error"])
        for label, figures in web.items():
            if label == "error":
                continue
            if "absent" in figures:
                print(f"{label:<22} {figures['absent']}")
                continue
            target = f"   target p99 <= {CONSOLE_P99_MS:.0f} ms: " + verdict(
                figures["p99_ms"], CONSOLE_P99_MS
            )
            print(
                f"{label:<22} p50 {figures['p50_ms']:>7.1f} ms  p99 {figures['p99_ms']:>7.1f} ms"
                f"  statuses {figures['statuses']}" + (target if label == "console" else "")
            )
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
