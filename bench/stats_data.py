"""Three years of a city's wishes for the statistics benchmark (PostgreSQL only).

    .venv/bin/python bench/stats_data.py                   # 1,000,000 wishes (tens of minutes)
    .venv/bin/python bench/stats_data.py --wishes 20000    # quick check, its own database

Creates (once) a database on the server at `BENCH_POSTGRES_URL` (default
`postgresql://root@127.0.0.1:5432/postgres`): `wenming_bench_stats` for the default size,
`wenming_bench_stats_<N>` for any other `--wishes N` (or `--database NAME`), migrated with
`app.migrate.upgrade`. Then:

1. the tree (`create_unit`): 湖州市, 4 counties, 24 townships, 320 village stations on a 5 km
   grid; a coordinator for every unit (three of them can sign in: `stats_city`,
   `stats_county`, `stats_station`, password `bench12345`);
2. volunteers (attributes as `bench/matching.py` draws them), spread over the stations by
   each station's activity, registered over the three years; residents, each of one station;
3. the wishes in chunks (`--chunk`, one transaction each): submission times over three
   years (growth, the 四季红 seasons, weekdays, hours of the day), and each wish's life played
   through the transitions of `app/wishes/state.py` (review, offers with declines and
   expiries, open grab, accept, withdraw and release, reminders, escalation, check-in,
   check-out, rating, closing, cancellations), cut at the end of the period: wishes near the
   end are still under way. Written with COPY (psycopg 3 `cursor.copy`): `wishes`,
   `wish_events`, `offers`, `attendances`, `hours_entries` (confirmed service) and
   `points_entries` (earned);
4. the derived rows: star awards (the default ladder, reached by the running sum of each
   volunteer's service minutes), the volunteers' counters (completed, withdrawn, released,
   ratings), the id sequences, `VACUUM ANALYZE`.

Idempotent and resumable: the parameters and the chunks done are kept in the database's
comment (`COMMENT ON DATABASE`, written in each chunk's transaction). A second run with the same
parameters does nothing; an interrupted one continues from the next chunk; different
parameters (or a database not made by this script) drop and rebuild it, unless `--keep`.
Prints rows and seconds per table.
"""

from __future__ import annotations

import argparse
import bisect
import io
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import psycopg
from matching import CATEGORY_SHARE, SKILL_SHARE, Area, Tree, build_tree, make_people
from sqlalchemy import func, make_url, select

from app import migrate
from app.accounts.service import create_staff_user
from app.config import Environment, Settings
from app.db import Database, make_engine
from app.geo import cell_of, coarse
from app.models import Category, OrgUnit, RoleGrant, Skill, User
from app.models.enums import AccountRole, OrgLevel
from app.wishes.state import TRANSITIONS

DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/postgres"
TZ = ZoneInfo("Asia/Shanghai")
LOCAL = 8 * 3600  # the city's offset from UTC (no summer time)
GENERATOR = 2  # bump when the data this script writes changes
PASSWORD = "bench12345"
SIGN_IN = ("stats_city", "stats_county", "stats_station")

# 湖州市: 96 x 80 km, 4 counties of 3 x 2 townships, a village station every 5 km.
AREA = Area("stats", 30.87, 120.09, 96, 80, counties=(2, 2), towns=(3, 2))

TITLES = {
    "elderly_orphan_care": "帮独居老人买菜、打扫卫生",
    "poverty_relief": "帮困难户代购生活用品",
    "neighbourly_watch": "夜间平安巡防搭把手",
    "disability_medical": "陪行动不便的老人去医院复诊",
    "culture": "村文化礼堂周末演出帮忙",
    "rural_revival": "帮农户网上卖茶叶",
    "disaster_study": "暑期给留守儿童辅导作业",
    "environment": "村口河道垃圾清理",
    "policy_talks": "给老人讲解医保新政策",
    "civil_customs": "协助筹办婚事新办",
}
REJECT_REASONS = ["不属于志愿服务范围", "信息不全，无法联系", "重复提交", "需由专业机构处理"]
CANCEL_BY_REQUESTER = ["问题已自行解决", "家人已经帮忙了", "时间有变"]
CANCEL_BY_STAFF = ["群众临时外出，服务取消", "天气原因取消", "服务需求已由村委会解决"]
CANCEL_UNANSWERED = "期望服务时间已过，仍无人接单"
WITHDRAW_REASONS = ["临时有事，无法按时到达", "身体不适", "时间冲突"]
RELEASE_REASONS = ["志愿者联系不上，收回重派", "志愿者请假"]
DECLINE_REASONS = [None, "时间不合适", "距离太远"]
# The default star ladder (migration 0005): hours for 1★…5★ and the certifying level.
LADDER = [(1, 100, "township"), (2, 300, "township"), (3, 600, "county"), (4, 1000, "county")]
LADDER += [(5, 1500, "city")]
POINTS_PER_HOUR = 10
NOTICE_DAYS = 7
# 四季红 (migration 0003): months of each season and how well each category fits it.
SEASON_OF_MONTH = {m: "family" for m in (1, 2, 3, 4)}
SEASON_OF_MONTH |= {m: "growth" for m in (5, 6, 7, 8)}
SEASON_OF_MONTH |= {9: "harvest", 10: "harvest", 11: "integrity", 12: "integrity"}
SEASON_FIT = {
    "family": {"elderly_orphan_care": 1.0, "neighbourly_watch": 0.8, "poverty_relief": 0.8},
    "growth": {"disaster_study": 1.0, "culture": 0.8},
    "harvest": {"rural_revival": 1.0, "poverty_relief": 0.8},
    "integrity": {"civil_customs": 1.0, "policy_talks": 0.8},
}
# Wishes per day over a year, by month (the Spring Festival and the summer holidays are busy).
MONTH_FACTOR = [1.3, 1.4, 1.0, 0.9, 0.9, 1.0, 1.2, 1.2, 1.0, 1.1, 0.9, 1.0]
WEEKDAY_FACTOR = [1.0, 1.0, 1.0, 1.0, 1.05, 1.25, 1.2]
# Hours of the day (local) wishes come in, weights per hour 0..23.
HOUR_WEIGHTS = [0.1, 0.05, 0.02, 0.02, 0.05, 0.2, 0.6, 1.5, 2.5, 2.8, 2.5, 2.0]
HOUR_WEIGHTS += [1.4, 1.6, 2.0, 2.1, 2.0, 1.7, 1.5, 1.8, 1.6, 1.0, 0.5, 0.2]


def log(message: str) -> None:
    print(f"[stats-data] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Params:
    wishes: int
    volunteers: int
    residents: int
    until: str  # local date, exclusive: the data ends at its midnight
    years: int
    seed: int
    chunk: int
    generator: int = GENERATOR


def default_sizes(wishes: int) -> tuple[int, int]:
    """Volunteers and residents for a number of wishes (60,000 and 160,000 for a million)."""
    return max(2_000, wishes * 6 // 100), max(5_000, wishes * 16 // 100)


# ---------------------------------------------------------------- the database and its state


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def read_state(admin_url: str, name: str) -> dict[str, Any] | None:
    """None: no such database. {}: a database without (readable) state."""
    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if row is None:
        return None
    try:
        state = json.loads(row[0] or "{}")
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def state_sql(name: str, state: dict[str, Any]) -> str:
    body = json.dumps(state, ensure_ascii=True, sort_keys=True).replace("'", "''")
    return f"COMMENT ON DATABASE \"{name}\" IS '{body}'"


def recreate(admin_url: str, name: str) -> None:
    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Counter:
    rows: dict[str, int]
    seconds: dict[str, float]

    def add(self, table: str, rows: int, seconds: float) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds


def copy_text(cur: psycopg.Cursor[Any], table: str, columns: list[str], buffer: str) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        data = buffer.encode()
        for i in range(0, len(data), 1 << 20):
            copy.write(data[i : i + (1 << 20)])


def field(value: Any) -> str:
    """One value in COPY's text format (the generated text has no tabs, newlines or
    backslashes)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def lines(rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]) -> str:
    out = io.StringIO()
    for row in rows:
        out.write("\t".join(map(field, row)))
        out.write("\n")
    return out.getvalue()


def scalar(conn: psycopg.Connection[Any], sql: str) -> int:
    row = conn.execute(sql.encode()).fetchone()
    assert row is not None
    return int(row[0])


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


# ---------------------------------------------------------------- the city and its people


@dataclass
class City:
    station_ids: list[int]
    station_lat: list[float]
    station_lng: list[float]
    station_township: list[int]  # unit id
    station_county: list[int]
    city_id: int
    coordinator_of: dict[int, int]  # unit id -> user id
    # per station index: volunteer ids sorted by registration, their user ids, registration
    # times and cumulative activity weights
    pool_ids: list[list[int]]
    pool_users: list[list[int]]
    pool_since: list[list[float]]
    pool_cum: list[list[float]]
    residents: list[list[int]]  # per station index: user ids
    station_cum: list[float]  # cumulative wish share of the stations


def setup(url: str, params: Params, counter: Counter) -> None:
    """The tree and the staff through the services, people in bulk."""
    settings = Settings(env=Environment.DEVELOPMENT, database_url=url)
    database = Database(make_engine(url, settings))
    rng = np.random.default_rng(params.seed)
    until = datetime.combine(date.fromisoformat(params.until), datetime.min.time(), TZ)
    start = until - timedelta(days=365 * params.years)
    try:
        t0 = time.perf_counter()
        with database.session(write=True) as session, session.begin():
            tree = build_tree(session, AREA)
            units = session.scalars(select(OrgUnit).order_by(OrgUnit.id)).all()
            for unit in units:
                user = User(name=f"{unit.name}协调员", username=f"coord_{unit.code}")
                session.add(user)
                session.flush()
                session.add(
                    RoleGrant(user_id=user.id, role=AccountRole.COORDINATOR, org_unit_id=unit.id)
                )
            county = next(u for u in units if u.level == OrgLevel.COUNTY)
            station = next(u for u in units if u.level == OrgLevel.VILLAGE)
            for username, unit in zip(SIGN_IN, (units[0], county, station), strict=True):
                user = create_staff_user(
                    session=session, name=username, username=username, password=PASSWORD
                )
                session.add(
                    RoleGrant(user_id=user.id, role=AccountRole.COORDINATOR, org_unit_id=unit.id)
                )
            session.flush()
            first_user = (session.scalar(select(func.max(User.id))) or 0) + 1
        counter.add("org_units+staff", len(units) * 2 + 3, time.perf_counter() - t0)
        load_people(database, tree, params, rng, first_user, start, until, counter)
    finally:
        database.engine.dispose()


def load_people(
    database: Database,
    tree: Tree,
    params: Params,
    rng: np.random.Generator,
    first_user: int,
    start: datetime,
    until: datetime,
    counter: Counter,
) -> None:
    n, residents = params.volunteers, params.residents
    stations = tree.station_ids.ravel()
    activity = station_activity(params.seed, len(stations))
    people = make_people(rng, tree, n, until.date())
    # Home stations by activity (at least 3 volunteers each), homes within a few km of it.
    home = np.concatenate(
        [np.repeat(np.arange(len(stations)), 3), rng.choice(len(stations), n, p=activity)]
    )[:n]
    rng.shuffle(home)
    with database.engine.connect() as conn:
        where = {
            r.id: (r.lat, r.lng)
            for r in conn.execute(select(OrgUnit.id, OrgUnit.lat, OrgUnit.lng)).all()
        }
        skill_bit = dict(conn.execute(select(Skill.code, Skill.bit)).all())
        category_bit = dict(conn.execute(select(Category.code, Category.bit)).all())
    slat = np.array([where[int(s)][0] for s in stations])[home]
    slng = np.array([where[int(s)][1] for s in stations])[home]
    lat = np.round(slat + rng.normal(0, 1.5, n) * 0.009, 4)
    lng = np.round(slng + rng.normal(0, 1.5, n) * 0.0105, 4)
    # 40 % registered before the period, the rest over it (more in its later years).
    span = (until - start).total_seconds()
    before = rng.random(n) < 0.4
    since = np.where(
        before,
        start.timestamp() - rng.uniform(0, 2 * 365 * 86400, n),
        start.timestamp() + np.sqrt(rng.random(n)) * span * 0.97,
    )
    t0 = time.perf_counter()
    users = (
        (
            first_user + i,
            f"志愿者{i + 1}" if i < n else f"居民{i - n + 1}",
            "t",
            iso(float(since[i])) if i < n else iso(start.timestamp() - 86400 * 30),
            iso(float(since[i])) if i < n else iso(start.timestamp() - 86400 * 30),
        )
        for i in range(n + residents)
    )
    columns = ["id", "name", "is_active", "created_at", "updated_at"]
    buffer = lines(users)
    with psycopg.connect(_dsn(database.engine.url.render_as_string(False))) as conn:
        with conn.cursor() as cur:
            copy_text(cur, "users", columns, buffer)
            counter.add("users", n + residents, time.perf_counter() - t0)
            t0 = time.perf_counter()
            weights = np.array([1 << skill_bit[c] for c in SKILL_SHARE], dtype=np.uint64)
            skill_masks = np.bitwise_or.reduce(
                np.where(people.skills, weights, np.uint64(0)), axis=1
            ).tolist()
            preference_masks = [0] * n
            for volunteer_id, category in people.preferences:
                preference_masks[volunteer_id - 1] |= 1 << category_bit[category]
            rows = []
            for i in range(n):
                when = iso(float(since[i]))
                birth = people.birth[i]
                insured = people.insured[i]
                rows.append(
                    (
                        i + 1,
                        first_user + i,
                        int(stations[home[i]]),
                        float(lat[i]),
                        float(lng[i]),
                        int(people.radius[i]),
                        *(int(people.masks[i, d]) for d in range(7)),
                        cell_of(float(lat[i]), float(lng[i])),
                        int(people.capacity[i]),
                        "suspended" if people.suspended[i] else "active",
                        "长期未参加活动" if people.suspended[i] else None,
                        date.fromordinal(int(birth)).isoformat() if birth else None,
                        date.fromordinal(int(insured)).isoformat() if insured else None,
                        int(skill_masks[i]),
                        preference_masks[i],
                        0,
                        0,
                        0,
                        0,
                        0,
                        when,
                        when,
                    )
                )
            columns = ["id", "user_id", "home_station_id", "lat", "lng", "service_radius_m"]
            columns += [f"avail_{d}" for d in range(7)]
            columns += ["h3_cell", "max_concurrent_tasks", "status", "suspended_reason"]
            columns += ["birth_date", "insured_until", "skill_bits", "preference_bits"]
            columns += ["completed_count", "withdrawn_count", "released_count"]
            columns += ["rating_sum", "rating_count"]
            columns += ["created_at", "updated_at"]
            copy_text(cur, "volunteers", columns, lines(rows))
            counter.add("volunteers", n, time.perf_counter() - t0)
            t0 = time.perf_counter()
            codes = list(SKILL_SHARE)
            vi, si = np.nonzero(people.skills)
            skill_rows = [
                (v + 1, codes[s], None) for v, s in zip(vi.tolist(), si.tolist(), strict=False)
            ]
            copy_text(
                cur,
                "volunteer_skills",
                ["volunteer_id", "skill_code", "qualified_until"],
                lines(skill_rows),
            )
            copy_text(
                cur,
                "volunteer_preferences",
                ["volunteer_id", "category_code"],
                lines(people.preferences),
            )
            counter.add("volunteer_skills+preferences", len(skill_rows), time.perf_counter() - t0)
        conn.commit()


def station_activity(seed: int, stations: int) -> np.ndarray:
    """Each station's share of the wishes: a few busy ones, many quiet ones."""
    weights = np.random.default_rng(seed + 7).lognormal(0.0, 0.8, stations)
    return np.asarray(weights / weights.sum())


def load_city(url: str, params: Params) -> City:
    """What the wish generator needs of the tree and the people, read back."""
    with psycopg.connect(_dsn(url)) as conn:
        units = conn.execute(
            "SELECT id, level, parent_id, lat, lng FROM org_units ORDER BY id"
        ).fetchall()
        coordinator_of: dict[int, int] = dict(
            conn.execute(
                "SELECT org_unit_id, min(user_id) FROM role_grants JOIN users u ON u.id = user_id"
                " WHERE role = 'coordinator' AND u.password_hash IS NULL GROUP BY org_unit_id"
            ).fetchall()
        )
        volunteers = conn.execute(
            "SELECT id, user_id, home_station_id, extract(epoch FROM created_at)"
            " FROM volunteers ORDER BY created_at, id"
        ).fetchall()
        first_resident = scalar(conn, "SELECT max(user_id) + 1 FROM volunteers")
    parent = {u[0]: u[2] for u in units}
    city_id = next(u[0] for u in units if u[1] == OrgLevel.CITY)
    villages = [u for u in units if u[1] == OrgLevel.VILLAGE]
    index = {u[0]: i for i, u in enumerate(villages)}
    pools: list[list[tuple[int, int, float]]] = [[] for _ in villages]
    for vid, uid, station, since in volunteers:
        pools[index[station]].append((vid, uid, float(since)))
    weight_rng = random.Random(params.seed + 11)
    cums = []
    for pool in pools:
        # How active each volunteer is: a heavy tail (a few do most of the services).
        acc, cum = 0.0, []
        for _ in pool:
            acc += weight_rng.paretovariate(1.3)
            cum.append(acc)
        cums.append(cum)
    residents: list[list[int]] = [[] for _ in villages]
    for k in range(params.residents):
        residents[k % len(villages)].append(first_resident + k)
    share = station_activity(params.seed, len(villages))
    return City(
        station_ids=[u[0] for u in villages],
        station_lat=[u[3] for u in villages],
        station_lng=[u[4] for u in villages],
        station_township=[parent[u[0]] for u in villages],
        station_county=[parent[parent[u[0]]] for u in villages],
        city_id=city_id,
        coordinator_of=coordinator_of,
        pool_ids=[[p[0] for p in pool] for pool in pools],
        pool_users=[[p[1] for p in pool] for pool in pools],
        pool_since=[[p[2] for p in pool] for pool in pools],
        pool_cum=cums,
        residents=residents,
        station_cum=np.cumsum(share).tolist(),
    )


# ---------------------------------------------------------------- when wishes come in


def submission_times(params: Params) -> np.ndarray:
    """Sorted submission instants (epoch seconds) of every wish: days weighted by growth,
    month and weekday, hours by the day's pattern."""
    rng = np.random.default_rng(params.seed + 1)
    until = datetime.combine(date.fromisoformat(params.until), datetime.min.time(), TZ)
    days = 365 * params.years
    first = until.date() - timedelta(days=days)
    day_dates = [first + timedelta(days=d) for d in range(days)]
    growth = np.linspace(0.7, 1.3, days)
    factor = np.array([MONTH_FACTOR[d.month - 1] * WEEKDAY_FACTOR[d.weekday()] for d in day_dates])
    p = growth * factor
    day = np.sort(rng.choice(days, size=params.wishes, p=p / p.sum()))
    hours = np.array(HOUR_WEIGHTS)
    hour = rng.choice(24, size=params.wishes, p=hours / hours.sum())
    midnight0 = datetime.combine(first, datetime.min.time(), TZ).timestamp()
    ts = midnight0 + day * 86400.0 + hour * 3600.0 + rng.uniform(0, 3600, params.wishes)
    return np.sort(np.floor(ts))


# ---------------------------------------------------------------- one wish's life


class Ids:
    def __init__(self, start: dict[str, int]) -> None:
        self.next = dict(start)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class Chunk:
    wishes: list[tuple[Any, ...]]
    events: list[tuple[float, int, str, str | None, str, int | None, str, str | None, str]]
    offers: list[tuple[Any, ...]]
    attendances: list[tuple[Any, ...]]
    hours: list[tuple[Any, ...]]
    points: list[tuple[Any, ...]]


def lognormal_s(rng: random.Random, median_min: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median_min), sigma) * 60.0


def working(ts: float, rng: random.Random) -> float:
    """The same instant if the office is open (08:00-20:00 local), else the next morning."""
    local = (ts + LOCAL) % 86400
    if 8 * 3600 <= local < 20 * 3600:
        return ts
    day_start = ts - local
    if local >= 20 * 3600:
        day_start += 86400
    return day_start + 8 * 3600 + rng.uniform(0, 5400)


def pick_volunteer(
    city: City, s: int, ts: float, rng: random.Random, exclude: set[int]
) -> int | None:
    """An index into station s's pool: a volunteer registered by `ts`, the active ones more
    often."""
    k = bisect.bisect_right(city.pool_since[s], ts)
    if k == 0:
        return None
    cum = city.pool_cum[s]
    for _ in range(6):
        i = bisect.bisect_left(cum, rng.random() * cum[k - 1])
        if city.pool_ids[s][i] not in exclude:
            return i
    return None


class Life:
    """One wish played through the state machine. Events are appended in time order; the
    caller keeps those before the end of the period."""

    def __init__(self, wish_id: int, until: float) -> None:
        self.wish_id = wish_id
        self.until = until
        self.status: str | None = None
        self.events: list[tuple[float, str, str | None, str, int | None, str, str | None, Any]] = []
        self.stopped = False

    def add(
        self,
        ts: float,
        event: str,
        to: str,
        actor: int | None,
        role: str,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> bool:
        """Record the event; False (and nothing recorded) once the period has ended."""
        if self.stopped or ts >= self.until:
            self.stopped = True
            return False
        if self.events:
            ts = max(ts, self.events[-1][0] + 1)
        self.events.append((ts, event, self.status, to, actor, role, reason, data or {}))
        self.status = to
        return True

    @property
    def now(self) -> float:
        return self.events[-1][0]


def simulate(
    city: City,
    wish_id: int,
    submitted: float,
    until: float,
    rng: random.Random,
    ids: Ids,
    out: Chunk,
) -> None:
    u = rng.random()
    s = bisect.bisect_left(city.station_cum, u * city.station_cum[-1])
    s = min(s, len(city.station_ids) - 1)
    station = city.station_ids[s]
    coordinator = city.coordinator_of[station]
    township = city.station_township[s]
    county = city.station_county[s]
    requester = rng.choice(city.residents[s])
    category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
    local = datetime.fromtimestamp(submitted, TZ)
    season = SEASON_OF_MONTH[local.month]
    if rng.random() < 0.35 * SEASON_FIT[season].get(category, 0.0):
        season_code = season
    else:
        # Campaign months pull their categories in: redraw once towards the season.
        if rng.random() < 0.15:
            category = rng.choice(list(SEASON_FIT[season]))
            season_code = season
        else:
            season_code = None
    urgency = "urgent" if rng.random() < 0.03 else "high" if rng.random() < 0.1 else "normal"
    # The wanted window: 1-7 days ahead (urgent: the same or next day), 08:00-18:30, 1-3 h.
    ahead = rng.choice((0, 1)) if urgency != "normal" else rng.randint(1, 7)
    day0 = submitted - (submitted + LOCAL) % 86400
    wanted_start = day0 + ahead * 86400 + rng.randint(16, 37) * 1800
    if wanted_start < submitted + 3 * 3600:
        wanted_start += 86400
    wanted_end = wanted_start + rng.choice((60, 90, 120, 120, 180)) * 60
    life = Life(wish_id, until)
    life.add(
        submitted,
        "submit",
        "submitted",
        requester,
        "requester",
        None,
        {"station_id": station, "proxy": False},
    )
    cols: dict[str, Any] = {"escalated_to_id": None, "escalated_at": None}
    simulate_review(city, s, life, rng, cols, coordinator, township, county, wanted_start)
    if life.status == "approved":
        simulate_dispatch(city, s, life, rng, ids, out, cols, coordinator, wanted_start, wanted_end)
    facts = {
        "category": category,
        "season_code": season_code,
        "urgency": urgency,
        "wanted_start": wanted_start,
        "wanted_end": wanted_end,
    }
    finish_wish(city, s, life, rng, ids, out, cols, facts)


def reviewer(rng: random.Random, coordinator: int, city: City, township: int, county: int) -> int:
    u = rng.random()
    if u < 0.8:
        return coordinator
    return city.coordinator_of[township] if u < 0.95 else city.coordinator_of[county]


def simulate_review(
    city: City,
    s: int,
    life: Life,
    rng: random.Random,
    cols: dict[str, Any],
    coordinator: int,
    township: int,
    county: int,
    wanted_start: float,
) -> None:
    t = life.now
    if rng.random() < 0.03:
        life.add(
            t + lognormal_s(rng, 90, 1.0),
            "cancel",
            "cancelled",
            life.events[0][4],
            "requester",
            rng.choice(CANCEL_BY_REQUESTER),
        )
        return
    delay = lognormal_s(rng, 40, 1.1)
    if rng.random() < 0.04:  # nobody looked: the ladder escalates it after a day
        if life.add(
            t + 86400,
            "escalate",
            "submitted",
            None,
            "system",
            None,
            {"to_unit_id": township, "top": False},
        ):
            cols["escalated_to_id"], cols["escalated_at"] = township, life.now
        delay += 86400 + lognormal_s(rng, 120, 0.8)
        who = city.coordinator_of[township]
    else:
        who = reviewer(rng, coordinator, city, township, county)
    at = working(t + delay, rng)
    if rng.random() < 0.06:
        life.add(at, "reject", "rejected", who, "coordinator", rng.choice(REJECT_REASONS))
    else:
        life.add(at, "approve", "approved", who, "coordinator")


def simulate_dispatch(
    city: City,
    s: int,
    life: Life,
    rng: random.Random,
    ids: Ids,
    out: Chunk,
    cols: dict[str, Any],
    coordinator: int,
    wanted_start: float,
    wanted_end: float,
) -> None:
    cols.update(grab_open=False, grab_opened_at=None, dispatch_round=0, reminded_at=None)
    cols["assignee"] = None  # (volunteer id, user id)
    served_by: set[int] = set()
    for _attempt in range(3):  # a withdraw or release sends the wish back to dispatch
        deadline = wanted_start - 900
        taker = dispatch_round_trip(
            city, s, life, rng, ids, out, cols, coordinator, deadline, served_by
        )
        if life.stopped:
            return
        if taker is None:
            if life.status in ("approved", "dispatching"):
                if rng.random() < 0.5:
                    life.add(
                        max(life.now + 60, wanted_start),
                        "cancel",
                        "cancelled",
                        None,
                        "system",
                        CANCEL_UNANSWERED,
                    )
                else:
                    life.add(
                        life.now + lognormal_s(rng, 240, 1.0),
                        "cancel",
                        "cancelled",
                        coordinator,
                        "coordinator",
                        rng.choice(CANCEL_BY_STAFF),
                    )
            return
        vid, uid = taker
        cols["assignee"] = taker
        cols["reminded_at"] = None
        served_by.add(vid)
        u = rng.random()
        if u < 0.03:
            gone = life.add(
                life.now + lognormal_s(rng, 600, 1.0),
                "withdraw",
                "approved",
                uid,
                "volunteer",
                rng.choice(WITHDRAW_REASONS),
                {"volunteer_id": vid},
            )
        elif u < 0.04:
            gone = life.add(
                life.now + lognormal_s(rng, 600, 1.0),
                "release",
                "approved",
                coordinator,
                "coordinator",
                rng.choice(RELEASE_REASONS),
                {"volunteer_id": vid},
            )
        else:
            break
        if not gone:
            return
        cols.update(assignee=None, grab_open=False, grab_opened_at=None, dispatch_round=0)
    else:
        return
    # Accepted: a reminder before the window, perhaps a cancellation, then the service.
    vid, uid = cols["assignee"]
    if (
        rng.random() < 0.3
        and wanted_start - 7200 > life.now
        and life.add(
            wanted_start - 7200, "remind", "accepted", None, "system", None, {"volunteer_id": vid}
        )
    ):
        cols["reminded_at"] = life.now
    if rng.random() < 0.01:
        if life.add(
            max(life.now + 600, wanted_start - 3600 * rng.uniform(1, 20)),
            "cancel",
            "cancelled",
            coordinator,
            "coordinator",
            rng.choice(CANCEL_BY_STAFF),
        ):
            cols["assignee"] = None
        return
    manual = rng.random() < 0.05
    actor, role = (coordinator, "coordinator") if manual else (uid, "volunteer")
    checked_in = wanted_start + rng.gauss(-300, 420)
    if not life.add(
        checked_in,
        "check_in",
        "in_service",
        actor,
        role,
        None,
        {
            "volunteer_id": vid,
            "manual": manual,
            "late_sync": False,
            "at": iso(max(checked_in, life.now + 1)),
        },
    ):
        return
    cols["reminded_at"] = None
    checked_in = life.now
    cols["checked_in"] = checked_in
    cols["manual"] = manual
    planned = wanted_end - wanted_start
    checked_out = checked_in + max(900.0, planned + rng.gauss(0, 900))
    if rng.random() < 0.003:  # cancelled during the service (rare)
        life.add(
            checked_in + 1800,
            "cancel",
            "cancelled",
            coordinator,
            "coordinator",
            rng.choice(CANCEL_BY_STAFF),
        )
        cols["assignee"] = None
        return
    if not life.add(
        checked_out,
        "check_out",
        "completed",
        actor,
        role,
        None,
        {"volunteer_id": vid, "manual": manual, "late_sync": False, "at": iso(checked_out)},
    ):
        return
    cols["checked_out"] = life.now
    requester = life.events[0][4]
    if rng.random() < 0.68:
        score = rng.choices((5, 4, 3, 2, 1), (70, 20, 6, 2, 2))[0]
        if life.add(
            life.now + lognormal_s(rng, 600, 1.3),
            "rate",
            "rated",
            requester,
            "requester",
            None,
            {"score": score},
        ):
            cols["rating"] = score
    if rng.random() < 0.3:
        life.add(
            life.now + lognormal_s(rng, 1440, 0.8), "close", "closed", coordinator, "coordinator"
        )
    else:
        life.add(cols["checked_out"] + 7 * 86400, "close", "closed", None, "system")


def dispatch_round_trip(
    city: City,
    s: int,
    life: Life,
    rng: random.Random,
    ids: Ids,
    out: Chunk,
    cols: dict[str, Any],
    coordinator: int,
    deadline: float,
    served_by: set[int],
) -> tuple[int, int] | None:
    """From approved to accepted: up to three rounds of offers, then open grab. Returns the
    volunteer (id, user id) who accepted, or None (period ended, or nobody in time)."""
    t = working(life.now + lognormal_s(rng, 25, 1.0), rng)
    by_offer = rng.random() < 0.55
    rounds = 0
    while by_offer and rounds < 3:
        rounds += 1
        offered: list[int] = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            i = pick_volunteer(city, s, t, rng, served_by | set(offered))
            if i is not None and city.pool_ids[s][i] not in offered:
                offered.append(city.pool_ids[s][i])
        if not offered:
            break
        manual = rounds == 1 or rng.random() < 0.5
        actor, role = (coordinator, "coordinator") if manual else (None, "system")
        t = max(t, life.now + 1)
        if t >= deadline:
            return None
        if not life.add(
            t,
            "offer",
            "dispatching",
            actor,
            role,
            None,
            {"volunteer_ids": offered, "expires_at": iso(t + 1800), "round": rounds},
        ):
            return None
        t = life.now
        expires = t + 1800
        cols["dispatch_round"] = rounds
        offer_ids = {v: ids.take("offers") for v in offered}
        outcome: dict[int, tuple[str, float | None, str | None]] = {}
        # Each invitee: accepts (first one wins), declines, or lets it lapse.
        answers = []
        for v in offered:
            u = rng.random()
            at = t + min(1790.0, lognormal_s(rng, 8, 0.9))
            if u < 0.62:
                answers.append((at, v, "accept"))
            elif u < 0.82:
                answers.append((at, v, "decline"))
        answers.sort()
        winner = None
        for at, v, kind in answers:
            if kind == "decline":
                reason = rng.choice(DECLINE_REASONS)
                if not life.add(
                    at,
                    "decline",
                    "dispatching",
                    user_of(city, s, v),
                    "volunteer",
                    reason,
                    {"volunteer_id": v, "offer_id": offer_ids[v]},
                ):
                    break
                outcome[v] = ("declined", life.now, reason)
            else:
                if not life.add(
                    at,
                    "accept",
                    "accepted",
                    user_of(city, s, v),
                    "volunteer",
                    None,
                    {"volunteer_id": v, "via": "offer", "offer_id": offer_ids[v]},
                ):
                    break
                outcome[v] = ("accepted", life.now, None)
                winner = v
                break
        if winner is None and not life.stopped:
            lapsed = [v for v in offered if v not in outcome]
            # The ladder expires the round's lapsed invitations (none left: nothing to expire).
            if lapsed and life.add(
                expires,
                "expire",
                "dispatching",
                None,
                "system",
                None,
                {"round": rounds, "volunteer_ids": lapsed},
            ):
                for v in lapsed:
                    outcome[v] = ("expired", life.now, None)
        for v in offered:
            status, answered, reason = outcome.get(v, ("pending", None, None))
            if status == "pending" and winner is not None:
                status, reason = "withdrawn", "已被其他志愿者接单"
                answered = outcome[winner][1]
            out.offers.append(
                (
                    offer_ids[v],
                    life.wish_id,
                    v,
                    actor,
                    status,
                    None,
                    iso(t),
                    iso(expires),
                    iso(answered) if answered else None,
                    reason,
                )
            )
        if winner is not None:
            return winner, user_of(city, s, winner)
        if life.stopped:
            return None
        t = life.now + lognormal_s(rng, 10, 1.0)
    # Open for grab: the nearby volunteers see it; someone takes it, or nobody does in time.
    if t >= deadline:
        return None
    manual = rng.random() < 0.6
    if not life.add(
        t,
        "open_grab",
        "dispatching",
        coordinator if manual else None,
        "coordinator" if manual else "system",
    ):
        return None
    cols["grab_open"], cols["grab_opened_at"] = True, life.now
    if rng.random() < 0.05:
        return None
    at = life.now + lognormal_s(rng, 70, 1.2)
    if at >= deadline:
        return None
    i = pick_volunteer(city, s, at, rng, served_by)
    if i is None:
        return None
    v, uid = city.pool_ids[s][i], city.pool_users[s][i]
    if not life.add(
        at, "accept", "accepted", uid, "volunteer", None, {"volunteer_id": v, "via": "grab"}
    ):
        return None
    return v, uid


def user_of(city: City, s: int, volunteer_id: int) -> int:
    return city.pool_users[s][city.pool_ids[s].index(volunteer_id)]


def finish_wish(
    city: City,
    s: int,
    life: Life,
    rng: random.Random,
    ids: Ids,
    out: Chunk,
    cols: dict[str, Any],
    facts: dict[str, Any],
) -> None:
    """The wish row as its events leave it, the events, and the service record."""
    status = life.status
    entered: dict[str, float] = {}
    for ev in life.events:
        if ev[2] != ev[3] or ev[1] == "submit":
            entered[ev[3]] = ev[0]
    taken = status in ("accepted", "in_service", "completed", "rated", "closed")
    assignee = cols.get("assignee") if taken else None
    station = city.station_ids[s]
    lat = city.station_lat[s] + rng.gauss(0, 1.2) * 0.009
    lng = city.station_lng[s] + rng.gauss(0, 1.2) * 0.0105
    last = life.events[-1][0]
    reject_reason = next((e[6] for e in life.events if e[1] == "reject"), None)
    cancel_reason = next((e[6] for e in life.events if e[1] == "cancel"), None)
    rating = cols.get("rating") if "rated" in entered else None
    grab_open = bool(cols.get("grab_open")) and status in ("dispatching", *TAKEN)
    grab_opened_at = cols.get("grab_opened_at") if grab_open else None
    escalated_at = cols.get("escalated_at")
    out.wishes.append(
        (
            life.wish_id,
            station,
            facts["category"],
            facts["season_code"],
            TITLES[facts["category"]],
            "",
            "村委会附近",
            coarse(lat),
            coarse(lng),
            iso(facts["wanted_start"]),
            iso(facts["wanted_end"]),
            facts["urgency"],
            life.events[0][4],
            status,
            len(life.events),
            grab_open,
            assignee[0] if assignee else None,
            cols.get("dispatch_round", 0) if status not in ("submitted", "rejected") else 0,
            cols["escalated_to_id"] if escalated_at is not None else None,
            iso(grab_opened_at) if grab_opened_at else None,
            iso(escalated_at) if escalated_at else None,
            iso(cols["reminded_at"]) if cols.get("reminded_at") and status == "accepted" else None,
            reject_reason,
            cancel_reason,
            rating,
            *(iso(entered[c]) if c in entered else None for c in STATUS_COLUMNS),
            iso(life.events[0][0]),
            iso(last),
        )
    )
    for ev in life.events:
        out.events.append((ev[0], life.wish_id, *ev[1:]))
    # A wish cancelled in service keeps its record as it was (in service, never credited).
    record(city, s, life, rng, ids, out, cols, facts)


def record(
    city: City,
    s: int,
    life: Life,
    rng: random.Random,
    ids: Ids,
    out: Chunk,
    cols: dict[str, Any],
    facts: dict[str, Any],
) -> None:
    """The attendance of the volunteer who checked in, and its credit once confirmed."""
    if "checked_in" not in cols:
        return
    vid = next(e[7]["volunteer_id"] for e in life.events if e[1] == "check_in")
    station = city.station_ids[s]
    coordinator = city.coordinator_of[station]
    attendance_id = ids.take("attendances")
    checked_in, manual = cols["checked_in"], cols["manual"]
    checked_out = cols.get("checked_out")
    until = life.until
    status, confirmed_at, confirmed_by, reject_reason = "in_service", None, None, None
    feedback = None
    if checked_out is not None:
        status = "checked_out"
        confirm = checked_out + lognormal_s(rng, 480, 1.2)
        if confirm < until:
            confirmed_at, confirmed_by = confirm, coordinator
            if rng.random() < 0.01:
                status, reject_reason = "rejected", "签到信息与实际不符"
            else:
                status = "credited"
        if rng.random() < 0.4 and checked_out + 7200 < until:
            feedback = rng.choices((5, 4, 3), (75, 20, 5))[0]
    method = "manual" if manual else "gps"
    out.attendances.append(
        (
            attendance_id,
            life.wish_id,
            vid,
            station,
            True,
            status,
            coordinator if manual else None,
            iso(checked_in),
            iso(checked_in),
            method,
            f"i{attendance_id}",
            iso(checked_out) if checked_out else None,
            iso(checked_out) if checked_out else None,
            method if checked_out else None,
            f"o{attendance_id}" if checked_out else None,
            manual,
            False,
            "老人不会用手机，协调员代为签到" if manual else None,
            "服务顺利完成" if checked_out else None,
            confirmed_by,
            iso(confirmed_at) if confirmed_at else None,
            reject_reason,
            0,
            feedback,
            iso(checked_out + 7200) if feedback and checked_out else None,
            iso(checked_in),
            iso(confirmed_at or checked_out or checked_in),
        )
    )
    if status != "credited" or checked_out is None or confirmed_at is None:
        return
    planned = (facts["wanted_end"] - facts["wanted_start"]) / 60
    attended = (checked_out - checked_in) / 60
    minutes = int(min(attended, planned + 30) // 5 * 5)
    if minutes <= 0:
        return
    entry_id = ids.take("hours_entries")
    out.hours.append(
        (
            entry_id,
            vid,
            "service",
            station,
            life.wish_id,
            attendance_id,
            facts["category"],
            TITLES[facts["category"]],
            iso(checked_in),
            iso(checked_out),
            minutes,
            "manual" if manual else "gps",
            coordinator,
            coordinator,
            iso(confirmed_at),
        )
    )
    points = minutes * POINTS_PER_HOUR // 60
    if points > 0:
        out.points.append(
            (
                ids.take("points_entries"),
                vid,
                "earn",
                points,
                entry_id,
                station,
                None,
                None,
                coordinator,
                iso(confirmed_at),
            )
        )


TAKEN = ("accepted", "in_service", "completed", "rated", "closed")
STATUS_COLUMNS = (
    "submitted",
    "approved",
    "rejected",
    "dispatching",
    "accepted",
    "in_service",
    "completed",
    "rated",
    "closed",
    "cancelled",
)
CATEGORIES = list(CATEGORY_SHARE)
CATEGORY_WEIGHTS = [CATEGORY_SHARE[c] for c in CATEGORIES]

WISH_COLUMNS = [
    "id",
    "station_id",
    "category_code",
    "season_code",
    "title",
    "description",
    "coarse_address",
    "coarse_lat",
    "coarse_lng",
    "wanted_start_at",
    "wanted_end_at",
    "urgency",
    "requester_id",
    "status",
    "version",
    "grab_open",
    "assignee_id",
    "dispatch_round",
    "escalated_to_id",
    "grab_opened_at",
    "escalated_at",
    "reminded_at",
    "reject_reason",
    "cancel_reason",
    "rating",
    *(f"{c}_at" for c in STATUS_COLUMNS),
    "created_at",
    "updated_at",
]
EVENT_COLUMNS = [
    "id",
    "wish_id",
    "event",
    "from_status",
    "to_status",
    "actor_id",
    "actor_role",
    "reason",
    "data",
    "created_at",
]
OFFER_COLUMNS = [
    "id",
    "wish_id",
    "volunteer_id",
    "offered_by_id",
    "status",
    "note",
    "created_at",
    "expires_at",
    "responded_at",
    "response_reason",
]
ATTENDANCE_COLUMNS = [
    "id",
    "wish_id",
    "volunteer_id",
    "unit_id",
    "is_lead",
    "status",
    "added_by_id",
    "checked_in_at",
    "check_in_received_at",
    "check_in_method",
    "check_in_nonce",
    "checked_out_at",
    "check_out_received_at",
    "check_out_method",
    "check_out_nonce",
    "manual",
    "late_sync",
    "manual_reason",
    "summary",
    "confirmed_by_id",
    "confirmed_at",
    "reject_reason",
    "confirm_escalations",
    "feedback_score",
    "feedback_at",
    "created_at",
    "updated_at",
]
HOURS_COLUMNS = [
    "id",
    "volunteer_id",
    "category",
    "unit_id",
    "wish_id",
    "attendance_id",
    "category_code",
    "content",
    "started_at",
    "ended_at",
    "minutes",
    "verification",
    "confirmed_by_id",
    "created_by_id",
    "created_at",
]
POINTS_COLUMNS = [
    "id",
    "volunteer_id",
    "kind",
    "points",
    "hours_entry_id",
    "unit_id",
    "item",
    "reason",
    "created_by_id",
    "created_at",
]


def make_chunk(
    city: City, params: Params, times: np.ndarray, k: int, until: float, ids: Ids
) -> Chunk:
    rng = random.Random(params.seed * 1_000_003 + k)
    out = Chunk([], [], [], [], [], [])
    first = k * params.chunk
    for j in range(first, min(len(times), first + params.chunk)):
        simulate(city, j + 1, float(times[j]), until, rng, ids, out)
    return out


def write_chunk(conn: psycopg.Connection[Any], chunk: Chunk, ids: Ids, counter: Counter) -> None:
    """COPY the chunk's rows (events numbered in time order)."""
    chunk.events.sort(key=lambda e: (e[0], e[1]))
    event_rows = (
        (
            ids.take("wish_events"),
            e[1],
            e[2],
            e[3],
            e[4],
            e[5],
            e[6],
            e[7],
            json.dumps(e[8], ensure_ascii=False, separators=(",", ":")),
            iso(e[0]),
        )
        for e in chunk.events
    )
    with conn.cursor() as cur:
        for table, columns, rows, n in (
            ("wishes", WISH_COLUMNS, chunk.wishes, len(chunk.wishes)),
            ("wish_events", EVENT_COLUMNS, event_rows, len(chunk.events)),
            ("offers", OFFER_COLUMNS, chunk.offers, len(chunk.offers)),
            ("attendances", ATTENDANCE_COLUMNS, chunk.attendances, len(chunk.attendances)),
            ("hours_entries", HOURS_COLUMNS, chunk.hours, len(chunk.hours)),
            ("points_entries", POINTS_COLUMNS, chunk.points, len(chunk.points)),
        ):
            t0 = time.perf_counter()
            copy_text(cur, table, columns, lines(rows))
            counter.add(table, n, time.perf_counter() - t0)


def next_ids(conn: psycopg.Connection[Any]) -> Ids:
    start = {}
    for table in (
        "wish_events",
        "offers",
        "attendances",
        "hours_entries",
        "points_entries",
    ):
        start[table] = scalar(conn, f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return Ids(start)


# ---------------------------------------------------------------- derived rows


DERIVED = [
    (
        "star_awards",
        """
        INSERT INTO star_awards (volunteer_id, star, ladder_code, minutes_at_award,
            certifying_unit_id, notice_starts_at, notice_ends_at, status, created_at, updated_at)
        SELECT r.volunteer_id, l.star, 'default', r.total,
            CASE l.level WHEN 'township' THEN t.id WHEN 'county' THEN c.id ELSE c.parent_id END,
            r.created_at, r.created_at + make_interval(days => :notice), 'notice',
            r.created_at, r.created_at
        FROM (VALUES {ladder}) AS l(star, minutes, level)
        CROSS JOIN LATERAL (
            SELECT DISTINCT ON (s.volunteer_id) s.volunteer_id, s.total, s.created_at
            FROM (
                SELECT volunteer_id, created_at,
                    sum(minutes) OVER (PARTITION BY volunteer_id ORDER BY created_at, id) AS total
                FROM hours_entries WHERE category = 'service'
            ) s
            WHERE s.total >= l.minutes
            ORDER BY s.volunteer_id, s.created_at
        ) r
        JOIN volunteers v ON v.id = r.volunteer_id
        JOIN org_units st ON st.id = v.home_station_id
        JOIN org_units t ON t.id = st.parent_id
        JOIN org_units c ON c.id = t.parent_id
        """,
    ),
    (
        "volunteers (counters)",
        """
        UPDATE volunteers v SET
            completed_count = x.completed, withdrawn_count = x.withdrawn,
            released_count = x.released, rating_sum = x.rating_sum, rating_count = x.rating_count
        FROM (
            SELECT (data->>'volunteer_id')::int AS volunteer_id,
                count(*) FILTER (WHERE event = 'check_out') AS completed,
                count(*) FILTER (WHERE event = 'withdraw') AS withdrawn,
                count(*) FILTER (WHERE event = 'release') AS released,
                0 AS rating_sum, 0 AS rating_count
            FROM wish_events WHERE event IN ('check_out', 'withdraw', 'release')
            GROUP BY 1
        ) x
        WHERE v.id = x.volunteer_id
        """,
    ),
    (
        "volunteers (ratings)",
        """
        UPDATE volunteers v SET rating_sum = x.total, rating_count = x.n
        FROM (
            SELECT assignee_id, sum(rating) AS total, count(*) AS n
            FROM wishes WHERE rating IS NOT NULL GROUP BY assignee_id
        ) x
        WHERE v.id = x.assignee_id
        """,
    ),
]


def verify(url: str) -> list[str]:
    """The data against the state machine: every event a transition of the table (with a role
    it allows), each wish's events a chain from `submit`, the wish's status and version what its
    events leave. Returns the problems found (none expected)."""
    allowed = [("submit", "", "submitted", "requester")]
    for (status, event), transition in TRANSITIONS.items():
        allowed += [
            (event.value, status.value, transition.to.value, r.value) for r in transition.roles
        ]
    values = ", ".join(f"('{e}', '{f}', '{t}', '{r}')" for e, f, t, r in allowed)
    checks = {
        "events that are no transition of app/wishes/state.py": f"""
            SELECT count(*) FROM wish_events w
            WHERE NOT EXISTS (SELECT 1 FROM (VALUES {values}) AS a(event, f, t, role)
                WHERE a.event = w.event AND a.f = coalesce(w.from_status, '')
                AND a.t = w.to_status AND a.role = w.actor_role)""",
        "events not starting where the previous one ended": """
            SELECT count(*) FROM (
                SELECT from_status, lag(to_status) OVER (PARTITION BY wish_id ORDER BY id) AS prev,
                    created_at, lag(created_at) OVER (PARTITION BY wish_id ORDER BY id) AS prev_at
                FROM wish_events) e
            WHERE from_status IS DISTINCT FROM prev OR created_at < prev_at""",
        "wishes whose status or version is not what their events leave": """
            SELECT count(*) FROM wishes w JOIN (
                SELECT DISTINCT ON (wish_id) wish_id, to_status,
                    count(*) OVER (PARTITION BY wish_id) AS n
                FROM wish_events ORDER BY wish_id, id DESC) e ON e.wish_id = w.id
            WHERE w.status <> e.to_status OR w.version <> e.n""",
        "credited hours without a check-out event of that volunteer": """
            SELECT count(*) FROM hours_entries h WHERE NOT EXISTS (
                SELECT 1 FROM wish_events e WHERE e.wish_id = h.wish_id AND e.event = 'check_out'
                AND (e.data->>'volunteer_id')::int = h.volunteer_id)""",
    }
    problems = []
    with psycopg.connect(_dsn(url)) as conn:
        for label, sql in checks.items():
            n = scalar(conn, sql)
            if n:
                problems.append(f"{n} {label}")
    return problems


def derive(url: str, counter: Counter) -> None:
    ladder = ", ".join(f"({star}, {hours * 60}, '{level}')" for star, hours, level in LADDER)
    with psycopg.connect(_dsn(url)) as conn:
        for name, sql in DERIVED:
            t0 = time.perf_counter()
            statement = sql.replace("{ladder}", ladder).replace(":notice", str(NOTICE_DAYS))
            rows = conn.execute(statement).rowcount
            counter.add(name, rows, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for table in (
            "users",
            "org_units",
            "role_grants",
            "volunteers",
            "wishes",
            "wish_events",
            "offers",
            "attendances",
            "hours_entries",
            "points_entries",
            "star_awards",
        ):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.commit()
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    counter.add("sequences + VACUUM ANALYZE", 0, time.perf_counter() - t0)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--wishes", type=int, default=1_000_000)
    p.add_argument("--volunteers", type=int, help="default: 6 %% of the wishes (at least 2,000)")
    p.add_argument("--residents", type=int, help="default: 16 %% of the wishes (at least 5,000)")
    p.add_argument("--until", default="2026-12-01", help="local date the data ends (exclusive)")
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--chunk", type=int, default=50_000, help="wishes per transaction")
    p.add_argument("--database", help="default: wenming_bench_stats[_<N>]")
    p.add_argument("--keep", action="store_true", help="never drop a database that differs")
    p.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"))
    return p.parse_args(argv)


def params_of(args: argparse.Namespace) -> Params:
    volunteers, residents = default_sizes(args.wishes)
    return Params(
        wishes=args.wishes,
        volunteers=args.volunteers or volunteers,
        residents=args.residents or residents,
        until=date.fromisoformat(args.until).isoformat(),
        years=args.years,
        seed=args.seed,
        chunk=args.chunk,
    )


def database_name(args: argparse.Namespace) -> str:
    if args.database:
        return str(args.database)
    return (
        "wenming_bench_stats" if args.wishes == 1_000_000 else f"wenming_bench_stats_{args.wishes}"
    )


def ensure(args: argparse.Namespace) -> tuple[str, Params, bool]:
    """Generate the data unless it is there. Returns (url, parameters, generated now)."""
    admin_url = args.postgres_url or DEFAULT_POSTGRES_URL
    params = params_of(args)
    name = database_name(args)
    url = database_url(admin_url, name)
    counter = Counter({}, {})
    wall = time.perf_counter()
    state = read_state(admin_url, name)
    wanted = asdict(params)
    if state is not None and state.get("params") == wanted and state.get("finished"):
        migrate.upgrade(url)  # the schema follows later migrations; the data stays
        log(f"{name}: already generated with these parameters ({state['finished']}); nothing to do")
        return url, params, False
    if state is None or state.get("params") != wanted or not state.get("setup"):
        if state is not None and args.keep:
            raise SystemExit(f"{name} holds other data ({state.get('params')}); --keep given")
        if state is not None:
            log(f"{name}: different parameters or an unfinished setup: dropping it")
        recreate(admin_url, name)
        t0 = time.perf_counter()
        migrate.upgrade(url)
        counter.add("migrations", 0, time.perf_counter() - t0)
        setup(url, params, counter)
        state = {"params": wanted, "setup": True, "chunks": 0}
        with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
            conn.execute(state_sql(name, state))
        log(f"{name}: tree, staff and {params.volunteers} volunteers ready")
    else:
        migrate.upgrade(url)
        log(f"{name}: resuming after chunk {state.get('chunks', 0)}")
    city = load_city(url, params)
    times = submission_times(params)
    until = datetime.combine(date.fromisoformat(params.until), datetime.min.time(), TZ)
    chunks = math.ceil(params.wishes / params.chunk)
    for k in range(int(state.get("chunks", 0)), chunks):
        t0 = time.perf_counter()
        with psycopg.connect(_dsn(url)) as conn:
            ids = next_ids(conn)
            chunk = make_chunk(city, params, times, k, until.timestamp(), ids)
            generated = time.perf_counter() - t0
            counter.add("(generate in Python)", 0, generated)
            write_chunk(conn, chunk, ids, counter)
            state = {"params": wanted, "setup": True, "chunks": k + 1}
            conn.execute(state_sql(name, state))
            conn.commit()
        log(
            f"chunk {k + 1}/{chunks}: {len(chunk.wishes)} wishes, {len(chunk.events)} events,"
            f" {len(chunk.hours)} hours entries in {time.perf_counter() - t0:.1f} s"
            f" (generate {generated:.1f} s)"
        )
    derive(url, counter)
    t0 = time.perf_counter()
    problems = verify(url)
    counter.add("(verify against the state machine)", 0, time.perf_counter() - t0)
    if problems:
        raise SystemExit("the generated data breaks the state machine: " + "; ".join(problems))
    state = {
        "params": wanted,
        "setup": True,
        "chunks": chunks,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        conn.execute(state_sql(name, state))
    print_counter(name, params, counter, time.perf_counter() - wall)
    return url, params, True


def print_counter(name: str, params: Params, counter: Counter, wall: float) -> None:
    print(f"{name}: {params}")
    print(f"{'table':<32} {'rows':>12} {'seconds':>9} {'rows/s':>10}")
    for table, seconds in counter.seconds.items():
        rows = counter.rows.get(table, 0)
        rate = f"{rows / seconds:,.0f}" if rows and seconds > 0 else ""
        print(f"{table:<32} {rows:>12,} {seconds:>9.1f} {rate:>10}")
    print(f"{'total (wall)':<32} {'':>12} {wall:>9.1f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
