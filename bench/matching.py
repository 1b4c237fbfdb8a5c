"""Benchmark of the matching engine: ranked candidates and batch dispatch, SQLite and PostgreSQL.

    .venv/bin/python bench/matching.py                    # both engines, full sizes
    .venv/bin/python bench/matching.py --quick            # smoke run, small sizes
    .venv/bin/python bench/matching.py --engines sqlite --skip-city

Three phases per engine, each on a fresh database migrated with `app.migrate.upgrade`:

1. county: `app.matching.service.rank` (constraints, scores, breakdown) for a few hundred
   wishes among 100,000 volunteers over 45 km x 45 km around 安吉县; p50/p99, then the same
   evaluation over every volunteer (`volunteers_where(true())`, `evaluate`, `top`) for a sample
   of the wishes: its p50, the speed-up, and whether both give the same top 20.
2. city: the same ranking among 1,000,000 volunteers over 120 km x 100 km (bulk-seeded).
3. batch: `app.dispatch.batch.plan.plan_for_unit` for 1,000 approved wishes over 10,000 volunteers:
   wall time and memory (in a child process), total score against a greedy nearest-first
   assignment, and the gap of `solve` to the exact optimum on small instances.

See bench/README.md. The last line of stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import logging
import math
import multiprocessing as mp
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import scipy.sparse as sp
from api import DEFAULT_POSTGRES_URL, fresh_database, percentile, postgres_unreachable
from scipy.optimize import linear_sum_assignment
from sqlalchemy import ColumnElement, Table, insert, select, text, true
from sqlalchemy.orm import Session

from app.auth.principal import load_principal
from app.auth.users import ensure_role
from app.config import Environment, Settings
from app.crypto.types import SealedType
from app.db import Database, make_engine
from app.geo import EARTH_RADIUS_M, cell_of, coarse
from app.logging import configure_logging
from app.matching.catalogue import wish_facts
from app.matching.scoring import evaluate, top
from app.matching.service import normalised_weights, rank
from app.matching.volunteers import volunteers_where
from app.models import Base, Category, OrgUnit, Skill, User, Wish
from app.models.enums import AccountRole, OrgLevel, Urgency, VolunteerStatus, WishStatus
from app.org_units.service import create_unit
from app.volunteers.availability import FULL_DAY, slot_mask

TIMEZONE = ZoneInfo("Asia/Shanghai")
KM_LAT = math.degrees(1000 / EARTH_RADIUS_M)  # degrees of latitude per km
LIMIT = 20  # candidates asked of rank()

# Targets (ms, ratios, seconds, MB).
COUNTY_P50_MS, COUNTY_P99_MS = 10.0, 30.0
CITY_P50_MS = 50.0
SPEEDUP_MIN = 50.0
BATCH_WALL_S, BATCH_MEMORY_MB = 1.0, 500.0

# The seeded catalogue (migrations 0002/0003): each skill's share of volunteers who have it.
SKILL_SHARE = {
    "companionship": 0.35,
    "housework": 0.25,
    "errands": 0.30,
    "repair": 0.08,
    "medical": 0.04,
    "first_aid": 0.08,
    "tutoring": 0.10,
    "haircut": 0.03,
    "legal": 0.02,
    "psychology": 0.03,
    "performance": 0.06,
    "lecturing": 0.05,
    "driving": 0.12,
    "photography": 0.06,
    "agriculture": 0.08,
    "e_commerce": 0.05,
    "sign_language": 0.01,
    "computer": 0.10,
}
QUALIFIED_SKILLS = {
    "repair",
    "medical",
    "first_aid",
    "legal",
    "psychology",
    "driving",
    "sign_language",
}
COMMON_SKILLS = ["companionship", "housework", "errands", "repair", "computer", "driving"]
# Categories with how often wishes ask for them (disaster_study is risky, ages 18-65;
# disability_medical needs adults).
CATEGORY_SHARE = {
    "elderly_orphan_care": 0.25,
    "poverty_relief": 0.15,
    "neighbourly_watch": 0.15,
    "disability_medical": 0.10,
    "culture": 0.08,
    "rural_revival": 0.08,
    "disaster_study": 0.06,
    "environment": 0.05,
    "policy_talks": 0.04,
    "civil_customs": 0.04,
}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- geography and org units


@dataclass(frozen=True)
class Area:
    """A rectangle of width x height km around a centre, tiled by village stations."""

    label: str
    centre_lat: float
    centre_lng: float
    width_km: float
    height_km: float
    counties: tuple[int, int]  # columns x rows of counties
    towns: tuple[int, int]  # columns x rows of townships in each county
    station_km: float = 5.0  # stations on a grid with this spacing
    station_radius_m: int = 5000

    @property
    def km_lng(self) -> float:
        return KM_LAT / math.cos(math.radians(self.centre_lat))

    def latlng(self, x_km: np.ndarray, y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lat = self.centre_lat + (y_km - self.height_km / 2) * KM_LAT
        lng = self.centre_lng + (x_km - self.width_km / 2) * self.km_lng

        return lat, lng

    @property
    def grid(self) -> tuple[int, int]:
        return math.ceil(self.width_km / self.station_km), math.ceil(
            self.height_km / self.station_km
        )


# 安吉县 (30.64N 119.68E) and the city of 湖州 around it.
COUNTY = Area("county", 30.64, 119.68, 45, 45, counties=(1, 1), towns=(3, 3))
CITY = Area("city", 30.87, 120.09, 120, 100, counties=(3, 2), towns=(2, 2))
BATCH = Area("batch", 30.64, 119.68, 30, 30, counties=(1, 1), towns=(2, 2))


@dataclass
class Tree:
    area: Area
    city_id: int
    county_ids: list[int]
    station_ids: np.ndarray  # (rows, columns) of the station grid

    def station_at(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        """The station of the grid square holding each point (its nearest station)."""
        nx, ny = self.area.grid
        ix = np.clip((x_km // self.area.station_km).astype(np.int64), 0, nx - 1)
        iy = np.clip((y_km // self.area.station_km).astype(np.int64), 0, ny - 1)
        return np.asarray(self.station_ids[iy, ix])


def build_tree(session: Session, area: Area) -> Tree:
    """City, counties, townships and village stations (`create_unit`), codes 3305xx..."""
    cx, cy = area.counties
    tx, ty = area.towns
    nx, ny = area.grid
    step = area.station_km

    def at(x_km: float, y_km: float) -> tuple[float, float]:
        lat, lng = area.latlng(np.array([x_km]), np.array([y_km]))
        return float(lat[0]), float(lng[0])

    lat, lng = at(area.width_km / 2, area.height_km / 2)
    city = create_unit(
        session=session,
        code="330500000000",
        name="湖州市",
        level=OrgLevel.CITY,
        parent_id=None,
        lat=lat,
        lng=lng,
    )
    counties: dict[tuple[int, int], OrgUnit] = {}
    towns: dict[tuple[int, int], OrgUnit] = {}
    villages_in: dict[tuple[int, int], int] = {}
    ids = np.zeros((ny, nx), dtype=np.int64)
    cw, ch = area.width_km / cx, area.height_km / cy
    tw, th = cw / tx, ch / ty
    for iy in range(ny):
        for ix in range(nx):
            gx, gy = ix * cx * tx // nx, iy * cy * ty // ny  # township column and row
            kx, ky = gx // tx, gy // ty  # county column and row
            k = ky * cx + kx + 1
            if (kx, ky) not in counties:
                counties[(kx, ky)] = create_unit(
                    session=session,
                    code=f"3305{k:02d}000000",
                    name=f"县{k}",
                    level=OrgLevel.COUNTY,
                    parent_id=city.id,
                    lat=at((kx + 0.5) * cw, (ky + 0.5) * ch)[0],
                    lng=at((kx + 0.5) * cw, (ky + 0.5) * ch)[1],
                )
            j = (gy % ty) * tx + gx % tx + 1
            if (gx, gy) not in towns:
                towns[(gx, gy)] = create_unit(
                    session=session,
                    code=f"3305{k:02d}{j:03d}000",
                    name=f"镇{k}-{j}",
                    level=OrgLevel.TOWNSHIP,
                    parent_id=counties[(kx, ky)].id,
                    lat=at((gx + 0.5) * tw, (gy + 0.5) * th)[0],
                    lng=at((gx + 0.5) * tw, (gy + 0.5) * th)[1],
                )
            s = villages_in[(gx, gy)] = villages_in.get((gx, gy), 0) + 1
            slat, slng = at((ix + 0.5) * step, (iy + 0.5) * step)
            ids[iy, ix] = create_unit(
                session=session,
                code=f"3305{k:02d}{j:03d}{s:03d}",
                name=f"村{k}-{j}-{s}",
                level=OrgLevel.VILLAGE,
                parent_id=towns[(gx, gy)].id,
                lat=slat,
                lng=slng,
                service_radius_m=area.station_radius_m,
            ).id
    return Tree(area, city.id, [c.id for c in counties.values()], ids)


# ---------------------------------------------------------------- generated data


EVENING = slot_mask(18 * 60, 21 * 60)
AFTERNOON = slot_mask(14 * 60, 17 * 60)
DAYTIME = slot_mask(8 * 60, 17 * 60)
# Weekly patterns (Monday first) and their shares; two more are drawn per volunteer below.
FIXED_PATTERNS: list[tuple[float, list[int]]] = [
    (0.20, [0, 0, 0, 0, 0, FULL_DAY, FULL_DAY]),  # full weekends
    (0.20, [EVENING] * 5 + [0, 0]),  # weekday evenings
    (0.15, [DAYTIME] * 7),  # retired: daytime every day
    (0.15, [EVENING] * 5 + [AFTERNOON] * 2),
]
SOME_FULL_DAYS, RANDOM_BLOCKS, NOTHING = 0.10, 0.15, 0.05


def availability(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 7) weekly half-hour masks: full weekends, evenings, daytimes, a few full days,
    random blocks of 2-4 hours, or nothing set."""
    shares = [p for p, _ in FIXED_PATTERNS] + [SOME_FULL_DAYS, RANDOM_BLOCKS, NOTHING]
    kind = rng.choice(len(shares), size=n, p=np.array(shares) / sum(shares))
    masks = np.zeros((n, 7), dtype=np.uint64)
    for k, (_, week) in enumerate(FIXED_PATTERNS):
        masks[kind == k] = np.array(week, dtype=np.uint64)
    full = kind == len(FIXED_PATTERNS)
    days = rng.random((int(full.sum()), 7)) < 0.3
    masks[full] = np.where(days, np.uint64(FULL_DAY), np.uint64(0))
    blocks = kind == len(FIXED_PATTERNS) + 1
    m = int(blocks.sum())
    start = rng.integers(14, 40, size=(m, 7)).astype(np.uint64)
    length = rng.integers(4, 9, size=(m, 7)).astype(np.uint64)
    one = np.uint64(1)
    block = ((one << (start + length)) - one) ^ ((one << start) - one)
    masks[blocks] = np.where(rng.random((m, 7)) < 0.4, block, np.uint64(0))
    return masks


@dataclass
class People:
    """Column arrays of the volunteers to load (ids 1..n, user ids 1..n)."""

    x_km: np.ndarray
    y_km: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    station: np.ndarray
    radius: np.ndarray
    capacity: np.ndarray
    suspended: np.ndarray
    birth: np.ndarray  # ordinals, 0 = unknown
    insured: np.ndarray  # ordinals, 0 = none
    masks: np.ndarray
    completed: np.ndarray
    withdrawn: np.ndarray
    released: np.ndarray
    skills: np.ndarray  # (n, skills) bool
    preferences: list[tuple[int, str]]

    def __len__(self) -> int:
        return len(self.lat)


def make_people(rng: np.random.Generator, tree: Tree, n: int, today: date) -> People:
    area = tree.area
    x = rng.uniform(0, area.width_km, n)
    y = rng.uniform(0, area.height_km, n)
    # 40 % live near a station (a village centre), the rest anywhere: uniform-ish.
    near = rng.random(n) < 0.4
    nx, ny = area.grid
    k = int(near.sum())
    sx = (rng.integers(0, nx, k) + 0.5) * area.station_km
    sy = (rng.integers(0, ny, k) + 0.5) * area.station_km
    x[near] = np.clip(sx + rng.normal(0, 1.5, k), 0, area.width_km - 1e-6)
    y[near] = np.clip(sy + rng.normal(0, 1.5, k), 0, area.height_km - 1e-6)
    lat, lng = area.latlng(x, y)
    t = today.toordinal()
    age_days = rng.integers(18 * 365 + 5, 76 * 365, n)
    birth = np.where(rng.random(n) < 0.05, 0, t - age_days)
    u = rng.random(n)
    insured = np.where(
        u < 0.6,
        t + rng.integers(30, 366, n),
        np.where(u < 0.7, t - rng.integers(1, 365, n), 0),
    )
    codes = list(SKILL_SHARE)
    skills = rng.random((n, len(codes))) < np.array([SKILL_SHARE[c] for c in codes])
    cats = list(CATEGORY_SHARE)
    p = np.array([CATEGORY_SHARE[c] for c in cats])
    # 35 % prefer one category, 10 % two (a repeated draw counts once).
    how_many = rng.choice(3, size=n, p=[0.55, 0.35, 0.10])
    first = rng.choice(len(cats), size=n, p=p)
    second = rng.choice(len(cats), size=n, p=p)
    one = np.flatnonzero(how_many >= 1)
    two = np.flatnonzero((how_many == 2) & (second != first))
    pairs = np.concatenate([np.stack([one, first[one]], 1), np.stack([two, second[two]], 1)])
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    preferences = [(v + 1, cats[c]) for v, c in pairs.tolist()]
    return People(
        x_km=x,
        y_km=y,
        lat=lat,
        lng=lng,
        station=tree.station_at(x, y),
        radius=rng.choice([1000, 2000, 3000, 4000, 5000], size=n, p=[0.1, 0.25, 0.3, 0.15, 0.2]),
        capacity=rng.choice([1, 2, 3], size=n, p=[0.4, 0.4, 0.2]),
        suspended=rng.random(n) < 0.05,
        birth=birth,
        insured=insured,
        masks=availability(rng, n),
        completed=rng.poisson(4.0, n),
        withdrawn=rng.poisson(0.3, n),
        released=rng.poisson(0.15, n),
        skills=skills,
        preferences=preferences,
    )


@dataclass
class WishPlan:
    """Wishes to insert: approved ones to rank, and taken ones that fill the counters."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    skills: list[tuple[int, str]] = field(default_factory=list)
    approved: list[int] = field(default_factory=list)  # ids, in id order
    with_skill: set[int] = field(default_factory=set)


def _windows(now: datetime, rng: np.random.Generator, n: int) -> tuple[list[datetime], ...]:
    """Wanted windows: 1-3 hours starting 08:00-19:30 city time, 1-14 days from now."""
    midnight = now.astimezone(TIMEZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = (
        rng.integers(1, 15, n) * 1440 + rng.integers(16, 40, n) * 30
    )  # day offset, half hour of the day
    length = rng.integers(1, 4, n) * 60
    starts = [(midnight + timedelta(minutes=m)).astimezone(UTC) for m in minutes.tolist()]
    ends = [a + timedelta(minutes=m) for a, m in zip(starts, length.tolist(), strict=True)]
    return starts, ends


def make_wishes(
    rng: np.random.Generator,
    tree: Tree,
    people: People,
    *,
    approved: int,
    requesters: Sequence[int],
    now: datetime,
    skill_share: float = 0.5,
) -> WishPlan:
    """`approved` wishes at random places (a share `skill_share` requiring one common skill),
    plus taken wishes that fill the counters: 4 % of volunteers have one in progress, 10 %
    completed one within the last 25 days."""
    area = tree.area
    plan = WishPlan()
    x = rng.uniform(0, area.width_km, approved)
    y = rng.uniform(0, area.height_km, approved)
    lat, lng = area.latlng(x, y)
    u = rng.random(len(people))
    active, done = np.flatnonzero(u < 0.04), np.flatnonzero(u > 0.90)
    taken = np.concatenate([active, done])
    n = approved + len(taken)
    lat = np.concatenate([lat, people.lat[taken]])
    lng = np.concatenate([lng, people.lng[taken]])
    station = np.concatenate([tree.station_at(x, y), people.station[taken]])
    cats = list(CATEGORY_SHARE)
    category = rng.choice(len(cats), size=n, p=np.array([CATEGORY_SHARE[c] for c in cats]))
    requester = np.asarray(requesters)[rng.integers(0, len(requesters), n)]
    starts, ends = _windows(now, rng, n)
    accepted_days = rng.uniform(0, 25, n)
    house = rng.integers(1, 60, n)
    for i in range(n):
        status, assignee, accepted, completed = WishStatus.APPROVED, None, None, None
        if i >= approved:
            k = i - approved
            status = WishStatus.ACCEPTED if k < len(active) else WishStatus.COMPLETED
            assignee = int(taken[k]) + 1
            accepted = now - timedelta(days=float(accepted_days[i]))
            if status == WishStatus.COMPLETED:
                completed = accepted + timedelta(hours=3)
        plan.rows.append(
            {
                "id": i + 1,
                "station_id": int(station[i]),
                "category_code": cats[int(category[i])],
                "title": "心愿：帮独居老人买菜",
                "description": "每周两次，需要帮忙提重物。",
                "coarse_address": "村委会附近",
                "full_address": f"1 组 {int(house[i])} 号",
                "contact_phone": "13800000000",
                "coarse_lat": coarse(float(lat[i])),
                "coarse_lng": coarse(float(lng[i])),
                "exact_point": (float(lat[i]), float(lng[i])),
                "wanted_start_at": starts[i],
                "wanted_end_at": ends[i],
                "urgency": Urgency.NORMAL,
                "requester_id": int(requester[i]),
                "status": status,
                "version": 2,
                "grab_open": False,
                "dispatch_round": 0,
                "assignee_id": assignee,
                "submitted_at": now - timedelta(hours=2),
                "approved_at": now - timedelta(hours=1),
                "accepted_at": accepted,
                "completed_at": completed,
                "created_at": now - timedelta(hours=2),
                "updated_at": now - timedelta(hours=1),
            }
        )
    plan.approved = list(range(1, approved + 1))
    wants = np.flatnonzero(rng.random(approved) < skill_share)
    skill = rng.integers(0, len(COMMON_SKILLS), len(wants))
    plan.skills = [(int(w) + 1, COMMON_SKILLS[int(k)]) for w, k in zip(wants, skill, strict=True)]
    plan.with_skill = {w for w, _ in plan.skills}
    return plan


# ---------------------------------------------------------------- bulk loading


class Loader:
    """Rows into a table: Core executemany in big batches (SQLite), COPY (PostgreSQL)."""

    BATCH = 50_000

    def __init__(self, database: Database) -> None:
        self.database = database
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def load(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        t0 = time.perf_counter()
        if self.database.is_sqlite:
            self._executemany(Base.metadata.tables[table], columns, rows)
        else:
            self._copy(table, columns, rows)
        self.rows[table] = self.rows.get(table, 0) + len(rows)
        self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - t0

    def _executemany(
        self, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        with self.database.engine.begin() as conn:
            # A bigger page cache for this load only (connection setting, not schema).
            conn.exec_driver_sql("PRAGMA cache_size=-512000")
            statement = insert(table)
            for i in range(0, len(rows), self.BATCH):
                batch = rows[i : i + self.BATCH]
                conn.execute(statement, [dict(zip(columns, r, strict=True)) for r in batch])
            conn.exec_driver_sql("PRAGMA cache_size=-2000")

    def _sealed(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> Sequence[tuple[Any, ...]]:
        """COPY bypasses the column types: seal the personal columns as the ORM would."""
        kinds = [Base.metadata.tables[table].c[c].type for c in columns]
        sealed = [(i, kind) for i, kind in enumerate(kinds) if isinstance(kind, SealedType)]
        if not sealed:
            return rows
        dialect = self.database.engine.dialect
        out = []
        for row in rows:
            values = list(row)
            for i, kind in sealed:
                values[i] = kind.process_bind_param(values[i], dialect)
            out.append(tuple(values))
        return out

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        rows = self._sealed(table, columns, rows)
        raw = self.database.engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for r in rows:
                    copy.write_row(r)
            raw.commit()
        finally:
            raw.close()

    def finish(self) -> float:
        """Sequences past the explicit ids (PostgreSQL), and planner statistics: `ANALYZE`
        on SQLite, `VACUUM ANALYZE` on PostgreSQL (what autovacuum would leave behind)."""
        t0 = time.perf_counter()
        engine = self.database.engine
        if self.database.is_sqlite:
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        else:
            with engine.connect() as conn:
                for table in ("users", "volunteers", "wishes"):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))"
                        )
                    )
                conn.commit()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        return time.perf_counter() - t0


def _ordinal_dates(values: np.ndarray) -> list[date | None]:
    return [date.fromordinal(v) if v else None for v in values.tolist()]


def load_people(
    loader: Loader,
    people: People,
    *,
    residents: int,
    now: datetime,
    today: date,
) -> dict[str, float]:
    """Users (volunteers' and residents'), volunteers, their skills and preferences."""
    n = len(people)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    users = [
        (i, f"志愿者{i}" if i <= n else f"居民{i - n}", f"1{i:010d}", True, now, now)
        for i in range(1, n + residents + 1)
    ]
    times["users_rows_s"] = time.perf_counter() - t0
    loader.load("users", ["id", "name", "phone", "is_active", "created_at", "updated_at"], users)
    del users

    t0 = time.perf_counter()
    cells = [cell_of(a, b) for a, b in zip(people.lat.tolist(), people.lng.tolist(), strict=True)]
    times["h3_cells_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ids = list(range(1, n + 1))
    # Skill and preference masks on the row, from the catalogue's permanent bits (as the
    # volunteers service keeps them).
    with loader.database.engine.connect() as conn:
        skill_bit = dict(conn.execute(select(Skill.code, Skill.bit)).all())
        category_bit = dict(conn.execute(select(Category.code, Category.bit)).all())
    weights = np.array([1 << skill_bit[c] for c in SKILL_SHARE], dtype=np.uint64)
    skill_masks = np.bitwise_or.reduce(
        np.where(people.skills, weights, np.uint64(0)), axis=1
    ).tolist()
    preference_masks = [0] * n
    for volunteer_id, category in people.preferences:
        preference_masks[volunteer_id - 1] |= 1 << category_bit[category]
    status = [VolunteerStatus.SUSPENDED if s else VolunteerStatus.ACTIVE for s in people.suspended]
    reason = ["长期未参加活动" if s else None for s in people.suspended.tolist()]
    columns: dict[str, list[Any]] = {
        "id": ids,
        "user_id": ids,
        "home_station_id": people.station.tolist(),
        "lat": people.lat.tolist(),
        "lng": people.lng.tolist(),
        "service_radius_m": people.radius.tolist(),
        **{f"avail_{d}": people.masks[:, d].tolist() for d in range(7)},
        "h3_cell": cells,
        "max_concurrent_tasks": people.capacity.tolist(),
        "status": [str(s) for s in status],
        "suspended_reason": reason,
        "birth_date": _ordinal_dates(people.birth),
        "insured_until": _ordinal_dates(people.insured),
        "completed_count": people.completed.tolist(),
        "withdrawn_count": people.withdrawn.tolist(),
        "released_count": people.released.tolist(),
        # Most completed services were rated, mostly 4 or 5.
        "rating_count": people.completed.tolist(),
        "rating_sum": (people.completed * 4 + people.completed % 2).tolist(),
        "skill_bits": [int(m) for m in skill_masks],
        "preference_bits": preference_masks,
        "created_at": [now] * n,
        "updated_at": [now] * n,
    }
    rows = list(zip(*columns.values(), strict=True))
    times["volunteer_rows_s"] = time.perf_counter() - t0
    loader.load("volunteers", list(columns), rows)
    del rows, columns

    t0 = time.perf_counter()
    codes = list(SKILL_SHARE)
    valid = date.fromordinal(today.toordinal() + 365)
    expired = date.fromordinal(today.toordinal() - 30)
    draw = np.random.default_rng(len(people)).random(int(people.skills.sum()))
    skill_rows = []
    vi, si = np.nonzero(people.skills)
    for k, (v, s) in enumerate(zip(vi.tolist(), si.tolist(), strict=True)):
        code = codes[s]
        until = None
        if code in QUALIFIED_SKILLS:
            until = valid if draw[k] < 0.7 else expired if draw[k] < 0.85 else None
        skill_rows.append((v + 1, code, until))
    times["skill_rows_s"] = time.perf_counter() - t0
    loader.load("volunteer_skills", ["volunteer_id", "skill_code", "qualified_until"], skill_rows)
    loader.load("volunteer_preferences", ["volunteer_id", "category_code"], people.preferences)
    return times


def load_wishes(loader: Loader, plan: WishPlan) -> None:
    columns = list(plan.rows[0])
    loader.load("wishes", columns, [tuple(r[c] for c in columns) for r in plan.rows])
    if plan.skills:
        loader.load("wish_skills", ["wish_id", "skill_code"], plan.skills)


@dataclass
class Seeded:
    tree: Tree
    people: People
    wishes: WishPlan
    seconds: float
    detail: dict[str, Any]


def seed_area(
    database: Database,
    area: Area,
    *,
    volunteers: int,
    approved: int,
    residents: int,
    rng_seed: int,
    skill_share: float = 0.5,
) -> Seeded:
    """Org units through `create_unit`, then everything else in bulk, then statistics."""
    t_all = time.perf_counter()
    rng = np.random.default_rng(rng_seed)
    now = datetime.now(UTC)
    today = now.astimezone(TIMEZONE).date()
    t0 = time.perf_counter()
    with database.session(write=True) as session, session.begin():
        tree = build_tree(session, area)
    t_units = time.perf_counter() - t0
    t0 = time.perf_counter()
    people = make_people(rng, tree, volunteers, today)
    requesters = list(range(volunteers + 1, volunteers + residents + 1))
    wishes = make_wishes(
        rng,
        tree,
        people,
        approved=approved,
        requesters=requesters,
        now=now,
        skill_share=skill_share,
    )
    t_generate = time.perf_counter() - t0
    loader = Loader(database)
    times = load_people(loader, people, residents=residents, now=now, today=today)
    load_wishes(loader, wishes)
    t_stats = loader.finish()
    seconds = time.perf_counter() - t_all
    detail = {
        "total_s": round(seconds, 1),
        "org_units_s": round(t_units, 2),
        "generate_s": round(t_generate, 2),
        **{k: round(v, 2) for k, v in times.items()},
        **{f"load_{k}_s": round(v, 2) for k, v in loader.seconds.items()},
        "analyze_s": round(t_stats, 2),
        "rows": dict(loader.rows),
        "stations": int(tree.station_ids.size),
    }
    return Seeded(tree, people, wishes, seconds, detail)


# ---------------------------------------------------------------- ranking


@dataclass
class RankFigures:
    ms: list[float] = field(default_factory=list)  # in wish order
    kinds: list[str] = field(default_factory=list)  # "none" / "one skill"
    considered: list[int] = field(default_factory=list)
    eligible: list[int] = field(default_factory=list)
    top_ids: dict[int, list[int]] = field(default_factory=dict)
    top_scores: dict[int, list[float]] = field(default_factory=dict)

    def stats(self, kind: str | None = None) -> dict[str, Any]:
        ms = sorted(m for m, k in zip(self.ms, self.kinds, strict=True) if kind in (None, k))
        sel = [i for i, k in enumerate(self.kinds) if kind in (None, k)]
        return {
            "n": len(ms),
            "p50_ms": round(percentile(ms, 0.50), 2),
            "p99_ms": round(percentile(ms, 0.99), 2),
            "mean_ms": round(sum(ms) / len(ms), 2) if ms else math.nan,
            "max_ms": round(ms[-1], 2) if ms else math.nan,
            "rows_read_avg": round(float(np.mean([self.considered[i] for i in sel])), 1),
            "eligible_avg": round(float(np.mean([self.eligible[i] for i in sel])), 1),
        }


def _load(session: Session, wish_id: int) -> tuple[Wish, OrgUnit]:
    wish = session.get(Wish, wish_id)
    assert wish is not None
    station = session.get(OrgUnit, wish.station_id)
    assert station is not None
    return wish, station


def time_rank(database: Database, wish_ids: Sequence[int], with_skill: set[int]) -> RankFigures:
    """rank() for each wish, each in a fresh read session (like one request); the wish and its
    station are loaded first, outside the timing."""
    out = RankFigures()
    for wish_id in wish_ids:
        with database.session(write=False) as session:
            wish, station = _load(session, wish_id)
            t0 = time.perf_counter()
            ranking = rank(session, wish=wish, station=station, limit=LIMIT)
            out.ms.append((time.perf_counter() - t0) * 1000)
        out.kinds.append("one skill" if wish_id in with_skill else "none")
        out.considered.append(ranking.considered)
        out.eligible.append(ranking.eligible_count)
        out.top_ids[wish_id] = [c.volunteer_id for c in ranking.candidates]
        out.top_scores[wish_id] = [c.score for c in ranking.candidates]
    return out


@dataclass
class ScanResult:
    ms: float
    top_ids: list[int]
    top_scores: list[float]
    eligible: int
    rows: int


def full_scan(database: Database, wish_id: int) -> ScanResult:
    """The same evaluation over every volunteer: no cells, no prefilters."""
    with database.session(write=False) as session:
        wish, station = _load(session, wish_id)
        t0 = time.perf_counter()
        facts = wish_facts(session, wish=wish, station=station)
        condition: ColumnElement[bool] = true()
        vols = volunteers_where(session, condition=condition, wish=facts)
        result = evaluate(facts, vols, weights=normalised_weights())
        best = top(result, vols.ids, LIMIT)
        ms = (time.perf_counter() - t0) * 1000
    return ScanResult(
        ms=ms,
        top_ids=[int(vols.ids[i]) for i in best],
        top_scores=[round(float(result.score[i]), 4) for i in best],
        eligible=int(np.count_nonzero(result.eligible)),
        rows=len(vols),
    )


def rank_phase(
    database: Database,
    seeded: Seeded,
    *,
    wishes: int,
    warmup: int,
    scans: int,
) -> dict[str, Any]:
    ids = seeded.wishes.approved
    warm, measured = ids[:warmup], ids[warmup : warmup + wishes]
    time_rank(database, warm, seeded.wishes.with_skill)
    t0 = time.perf_counter()
    figures = time_rank(database, measured, seeded.wishes.with_skill)
    rank_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "rank": figures.stats(),
        "rank_no_skill": figures.stats("none"),
        "rank_one_skill": figures.stats("one skill"),
        "rank_phase_s": round(rank_s, 1),
    }
    if scans:
        t0 = time.perf_counter()
        sample = measured[:scans]
        scan = [full_scan(database, w) for w in sample]
        scan_ms = sorted(s.ms for s in scan)
        same_top = [
            w
            for w, s in zip(sample, scan, strict=True)
            if s.top_ids == figures.top_ids[w] and s.top_scores == figures.top_scores[w]
        ]
        same_eligible = [
            w
            for i, (w, s) in enumerate(zip(sample, scan, strict=True))
            if s.eligible == figures.eligible[i]
        ]
        mismatches = [
            {
                "wish_id": w,
                "rank_top": figures.top_ids[w],
                "scan_top": s.top_ids,
                "rank_eligible": figures.eligible[i],
                "scan_eligible": s.eligible,
            }
            for i, (w, s) in enumerate(zip(sample, scan, strict=True))
            if w not in same_top or w not in same_eligible
        ]
        p50 = percentile(scan_ms, 0.5)
        out["full_scan"] = {
            "n": len(scan),
            "p50_ms": round(p50, 1),
            "max_ms": round(scan_ms[-1], 1),
            "rows_read": scan[0].rows,
            "speedup_p50": round(p50 / out["rank"]["p50_ms"], 1),
            "same_top20": len(same_top),
            "same_eligible_count": len(same_eligible),
            "mismatches": mismatches[:5],
            "phase_s": round(time.perf_counter() - t0, 1),
        }
    return out


# ---------------------------------------------------------------- batch dispatch


BATCH_MODULE = "app.dispatch.batch"


def batch_module() -> Any | None:
    """The batch dispatch functions measured here (from the package's modules), or None."""
    try:
        importlib.import_module(BATCH_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != BATCH_MODULE:
            raise
        return None
    plan = importlib.import_module(f"{BATCH_MODULE}.plan")
    problem = importlib.import_module(f"{BATCH_MODULE}.problem")
    solver = importlib.import_module(f"{BATCH_MODULE}.solver")
    return SimpleNamespace(
        plan_for_unit=plan.plan_for_unit,
        build_problem=problem.build_problem,
        greedy_nearest_first=problem.greedy_nearest_first,
        solve=solver.solve,
    )


@dataclass
class BatchSetup:
    unit_id: int  # the unit planned for (the county)
    actor_user_id: int  # its coordinator


def seed_batch(database: Database, args: argparse.Namespace) -> tuple[Seeded, BatchSetup]:
    """A county of 30 x 30 km: `--batch-volunteers` volunteers, `--batch-wishes` approved
    wishes (40 % requiring one common skill), and a coordinator of the county."""
    seeded = seed_area(
        database,
        BATCH,
        volunteers=args.batch_volunteers,
        approved=args.batch_wishes,
        residents=max(200, args.batch_wishes),
        rng_seed=args.seed + 2,
        skill_share=0.4,
    )
    with database.session(write=True) as session, session.begin():
        user = User(name="县协调员", phone="13900000001")
        session.add(user)
        session.flush()
        county_id = seeded.tree.county_ids[0]
        ensure_role(
            session=session, user_id=user.id, role=AccountRole.COORDINATOR, org_unit_id=county_id
        )
        actor = user.id
    return seeded, BatchSetup(unit_id=county_id, actor_user_id=actor)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def batch_child(spec: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process (so that ru_maxrss is this work's alone): plan_for_unit `runs`
    times, each in its own session, rolled back; then once more under tracemalloc."""
    module = batch_module()
    if module is None:
        return {"skipped": f"{BATCH_MODULE} not found"}
    with opened(spec["url"]) as database:

        def one() -> tuple[float, Any]:
            with database.session(write=False) as session:
                unit = session.get(OrgUnit, spec["unit_id"])
                actor = load_principal(session, spec["actor_user_id"])
                t0 = time.perf_counter()
                plan = module.plan_for_unit(session, unit=unit, actor=actor)
                wall = time.perf_counter() - t0
                session.rollback()
            return wall, plan

        with database.session(write=False) as session:  # connect before the baseline
            session.execute(select(OrgUnit.id).limit(1)).all()
        gc.collect()
        rss_before = _maxrss_mb()
        runs = [one() for _ in range(spec["runs"])]
        rss_after = _maxrss_mb()
        gc.collect()
        tracemalloc.start()
        traced_wall, _ = one()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    plan = runs[-1][1]
    return {
        "walls_s": [round(w, 3) for w, _ in runs],
        "plan_timings_ms": [p.timings_ms for _, p in runs],
        "traced_wall_s": round(traced_wall, 3),
        "tracemalloc_peak_mb": round(peak / 2**20, 1),
        "maxrss_before_mb": round(rss_before, 1),
        "maxrss_after_mb": round(rss_after, 1),
        "items": [(i.wish_id, i.volunteer_id, i.score) for i in plan.items],
        "unassigned": len(plan.unassigned),
        "unassigned_reasons": dict(Counter(str(u.reason) for u in plan.unassigned)),
        "total_score": plan.total_score,
        "wish_count": plan.wish_count,
        "volunteer_count": plan.volunteer_count,
        "eligible_pairs": plan.eligible_pairs,
    }


def _child_entry(spec: dict[str, Any], conn: Connection) -> None:
    configure_logging(json=False, level=logging.WARNING)
    try:
        conn.send(("ok", batch_child(spec)))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_child(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """`batch_child` in a process forked from the fork server that `main` starts before any
    data is made: on Linux a child inherits ru_maxrss from its parent at fork (and keeps it
    across exec), so only a child of a small process measures its own peak."""
    ctx = mp.get_context("forkserver")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_entry, args=(spec, send))
    proc.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise RuntimeError(f"batch child did not finish in {timeout:g} s")
        status, payload = receive.recv()
    finally:
        if proc.is_alive():
            proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    if status != "ok":
        raise RuntimeError(f"batch child failed:\n{payload}")
    return dict(payload)


def greedy_nearest(
    scores: sp.csr_matrix, distances: np.ndarray, ids: np.ndarray, capacity: np.ndarray
) -> np.ndarray:
    """Each wish in id order (the rows are) takes the nearest eligible volunteer with spare
    capacity (ties: higher score, lower id). `distances` is aligned with `scores.data`."""
    left = capacity.copy()
    out = np.full(scores.shape[0], -1, dtype=np.int64)
    for r in range(scores.shape[0]):
        lo, hi = scores.indptr[r], scores.indptr[r + 1]
        cols = scores.indices[lo:hi]
        for k in np.lexsort((ids[cols], -scores.data[lo:hi], distances[lo:hi])):
            if left[cols[k]] > 0:
                left[cols[k]] -= 1
                out[r] = cols[k]
                break
    return out


def total_score(scores: sp.csr_matrix, assigned: np.ndarray) -> float:
    rows = np.flatnonzero(assigned >= 0)
    return float(np.asarray(scores[rows, assigned[rows]]).sum()) if len(rows) else 0.0


def exact_optimum(scores: sp.csr_matrix, capacity: np.ndarray) -> tuple[float, int]:
    """The maximum total score: `linear_sum_assignment` on the dense matrix, each volunteer's
    column repeated `capacity` times, plus one zero-score "unassigned" column per wish;
    ineligible pairs forbidden. Only volunteers with an eligible wish are kept."""
    keep = np.flatnonzero(np.diff(scores.tocsc().indptr) > 0)
    scores = scores[:, keep].tocsr()
    cap = np.minimum(capacity[keep], scores.shape[0])
    dense = scores.toarray()
    allowed = np.zeros(dense.shape, dtype=bool)
    coo = scores.tocoo()
    allowed[coo.row, coo.col] = True
    reps = np.repeat(np.arange(dense.shape[1]), np.maximum(cap, 0))
    forbidden = -1e6
    n = dense.shape[0]
    dummy = np.full((n, n), forbidden)
    np.fill_diagonal(dummy, 0.0)
    cost = np.hstack([np.where(allowed[:, reps], dense[:, reps], forbidden), dummy])
    r, c = linear_sum_assignment(cost, maximize=True)
    real = c < len(reps)
    return float(cost[r, c][real].sum()), int(real.sum())


def check_assignment(scores: sp.csr_matrix, capacity: np.ndarray, assigned: np.ndarray) -> str:
    """'' if every pair is eligible and no volunteer is over capacity, else what is wrong."""
    rows = np.flatnonzero(assigned >= 0)
    stored = set(zip(*scores.nonzero(), strict=True))
    bad = sum((int(r), int(assigned[r])) not in stored for r in rows)
    over = int((np.bincount(assigned[rows], minlength=len(capacity)) > capacity).sum())
    problems = [f"{bad} ineligible pairs"] * bool(bad) + [f"{over} over capacity"] * bool(over)
    return ", ".join(problems)


def sub_instances(
    problem: Any, wishes: WishPlan, people: People, args: argparse.Namespace
) -> list[tuple[str, sp.csr_matrix, np.ndarray]]:
    """Small instances cut from the unit's matrix: the `--exact-wishes` wishes and
    `--exact-volunteers` volunteers nearest a random point (so that they compete), with their
    real spare capacity, and again with every capacity cut to 1 (scarcer)."""
    rng = np.random.default_rng(args.seed)
    place = {r["id"]: r["exact_point"] for r in wishes.rows}
    w_lat = np.array([place[int(w)][0] for w in problem.wish_ids])
    w_lng = np.array([place[int(w)][1] for w in problem.wish_ids])
    v_lat, v_lng = people.lat[problem.volunteer_ids - 1], people.lng[problem.volunteer_ids - 1]
    k = math.cos(math.radians(BATCH.centre_lat))
    out = []
    for i in range(args.exact_instances):
        c_lat, c_lng = BATCH.latlng(
            rng.uniform(5, BATCH.width_km - 5, 1), rng.uniform(5, BATCH.height_km - 5, 1)
        )
        near_w = np.argsort((w_lat - c_lat) ** 2 + ((w_lng - c_lng) * k) ** 2)
        near_v = np.argsort((v_lat - c_lat) ** 2 + ((v_lng - c_lng) * k) ** 2)
        rows = np.sort(near_w[: args.exact_wishes])
        cols = np.sort(near_v[: args.exact_volunteers])
        sub = problem.scores[rows][:, cols].tocsr()
        cap = problem.capacity[cols].astype(np.int64)
        out.append((f"seed{i}", sub, cap))
        out.append((f"seed{i}-cap1", sub, np.minimum(cap, 1)))
    return out


def rank_cross_check(database: Database, problem: Any, sample: int) -> dict[str, Any]:
    """The plan's matrix against rank() for a sample of wishes: the same eligible volunteers
    with the same scores (rank() rounds to 4 places)."""
    rows = np.linspace(0, len(problem.wish_ids) - 1, min(sample, len(problem.wish_ids)))
    same = 0
    diffs = []
    for r in sorted({int(x) for x in rows}):
        wish_id = int(problem.wish_ids[r])
        with database.session(write=False) as session:
            wish, station = _load(session, wish_id)
            ranking = rank(session, wish=wish, station=station, limit=10**6)
        got = {c.volunteer_id: c.score for c in ranking.candidates}
        lo, hi = problem.scores.indptr[r], problem.scores.indptr[r + 1]
        ids = problem.volunteer_ids[problem.scores.indices[lo:hi]]
        data = problem.scores.data[lo:hi]
        want = {int(v): round(float(s), 4) for v, s in zip(ids, data, strict=True)}
        if got == want:
            same += 1
        elif len(diffs) < 3:
            diffs.append(
                {
                    "wish_id": wish_id,
                    "only_rank": sorted(set(got) - set(want))[:10],
                    "only_plan": sorted(set(want) - set(got))[:10],
                    "score_diffs": sum(
                        1 for v in set(got) & set(want) if abs(got[v] - want[v]) > 1e-4
                    ),
                }
            )
    return {"wishes": len({int(x) for x in rows}), "same": same, "differences": diffs}


def batch_phase(
    database: Database, url: str, seeded: Seeded, setup: BatchSetup, args: argparse.Namespace
) -> dict[str, Any]:
    module = batch_module()
    if module is None:
        return {"skipped": f"{BATCH_MODULE} not found: batch dispatch not measured"}
    out: dict[str, Any] = {}
    # End to end first, in a child process: its memory figures are this work's alone.
    spec = {
        "url": url,
        "unit_id": setup.unit_id,
        "actor_user_id": setup.actor_user_id,
        "runs": args.batch_runs,
    }
    t0 = time.perf_counter()
    child = run_child(spec, timeout=args.batch_timeout)
    out["child_s"] = round(time.perf_counter() - t0, 1)
    # The same problem in this process: the matrix and distances the plan is made from.
    with database.session(write=False) as session:
        unit = session.get(OrgUnit, setup.unit_id)
        assert unit is not None
        problem = module.build_problem(session, unit=unit)
    scores, capacity = problem.scores, problem.capacity
    col = {int(v): i for i, v in enumerate(problem.volunteer_ids)}
    row = {int(w): i for i, w in enumerate(problem.wish_ids)}
    planned = np.full(len(problem.wish_ids), -1, dtype=np.int64)
    for wish_id, volunteer_id, _score in child.pop("items"):
        planned[row[wish_id]] = col[volunteer_id]
    out["problem"] = {
        "wishes": int(scores.shape[0]),
        "volunteers": int(scores.shape[1]),
        "eligible_pairs": int(scores.nnz),
        "spare_capacity": int(capacity.sum()),
        "wishes_without_eligible": int((np.diff(scores.indptr) == 0).sum()),
        "eligible_per_wish_p50": float(np.median(np.diff(scores.indptr))),
    }
    plan_total = total_score(scores, planned)
    out["plan"] = {
        **child,
        "wall_s": min(child["walls_s"]),
        "assigned": int((planned >= 0).sum()),
        "total_score_on_matrix": round(plan_total, 4),
        "problems": check_assignment(scores, capacity, planned),
    }
    greedy = greedy_nearest(scores, problem.distances, problem.volunteer_ids, capacity)
    theirs = np.asarray(module.greedy_nearest_first(problem))
    g_total = total_score(scores, greedy)
    out["greedy"] = {
        "total_score": round(g_total, 4),
        "assigned": int((greedy >= 0).sum()),
        "problems": check_assignment(scores, capacity, greedy),
        "same_as_module_greedy": bool((theirs == greedy).all()),
        "plan_gain": round(plan_total - g_total, 4),
        "plan_gain_pct": round((plan_total - g_total) / g_total * 100, 2) if g_total else None,
    }
    if args.full_optimum:
        t0 = time.perf_counter()
        best, n = exact_optimum(scores, capacity)
        out["optimum_whole"] = {
            "total_score": round(best, 4),
            "assigned": n,
            "gap": round(best - plan_total, 6),
            "wall_s": round(time.perf_counter() - t0, 1),
        }
    gaps = []
    for name, sub, cap in sub_instances(problem, seeded.wishes, seeded.people, args):
        best, best_n = exact_optimum(sub, cap)
        got = np.asarray(module.solve(sub, cap))
        got_total = total_score(sub, got)
        gaps.append(
            {
                "instance": name,
                "gap": round(best - got_total, 9),
                "optimum": round(best, 6),
                "solve": round(got_total, 6),
                "optimum_assigned": best_n,
                "solve_assigned": int((got >= 0).sum()),
                "pairs": int(sub.nnz),
                "capacity": int(cap.sum()),
                "problems": check_assignment(sub, cap, got),
            }
        )
    out["exact"] = gaps
    out["rank_cross_check"] = rank_cross_check(database, problem, args.cross_checks)
    return out


# ---------------------------------------------------------------- per engine


@contextlib.contextmanager
def opened(url: str) -> Iterator[Database]:
    settings = Settings(env=Environment.DEVELOPMENT, database_url=url)
    database = Database(make_engine(url, settings))
    try:
        yield database
    finally:
        database.engine.dispose()


def bench_engine(engine: str, args: argparse.Namespace, tmp_dir: Path, admin_url: str) -> dict:
    out: dict[str, Any] = {"phase_s": {}}
    # 1. county, 2. city
    areas = [("county", COUNTY, args.county_volunteers, 2000, args.seed, args.full_scans)]
    if not args.skip_city:
        areas.append(
            ("city", CITY, args.city_volunteers, 20000, args.seed + 1, args.city_full_scans)
        )
    for key, area, volunteers, residents, rng_seed, scans in areas:
        t_phase = time.perf_counter()
        with fresh_database(engine, tmp_dir, admin_url) as url, opened(url) as database:
            log(f"{engine}: {key}: seeding {volunteers:,} volunteers ...")
            seeded = seed_area(
                database,
                area,
                volunteers=volunteers,
                approved=args.wishes + args.warmup,
                residents=residents,
                rng_seed=rng_seed,
            )
            log(f"{engine}: {key}: seeded in {seeded.seconds:.1f} s: {seeded.detail}")
            out[key] = {"seed": seeded.detail}
            out[key].update(
                rank_phase(database, seeded, wishes=args.wishes, warmup=args.warmup, scans=scans)
            )
            log(f"{engine}: {key}: {_brief(out[key])}")
            del seeded
        out["phase_s"][key] = round(time.perf_counter() - t_phase, 1)

    # 3. batch
    if not args.skip_batch:
        t_phase = time.perf_counter()
        with fresh_database(engine, tmp_dir, admin_url) as url, opened(url) as database:
            log(f"{engine}: batch: seeding {args.batch_volunteers:,} volunteers ...")
            seeded, setup = seed_batch(database, args)
            out["batch"] = {"seed": seeded.detail}
            out["batch"].update(batch_phase(database, url, seeded, setup, args))
        out["phase_s"]["batch"] = round(time.perf_counter() - t_phase, 1)
    return out


def _brief(phase: dict[str, Any]) -> str:
    r = phase["rank"]
    s = f"rank p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms"
    if "full_scan" in phase:
        f = phase["full_scan"]
        s += f"; full scan p50 {f['p50_ms']} ms ({f['speedup_p50']}x), same top: {f['same_top20']}"
    return s


# ---------------------------------------------------------------- report


def _ok(good: bool) -> str:
    return "ok" if good else "MISS"


def print_engine(engine: str, out: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    print(f"== {engine}")
    header = f"{'what':<44} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'rows':>7} {'elig':>6}  target"
    for key, area, target in (
        ("county", COUNTY, f"p50<={COUNTY_P50_MS:g} p99<={COUNTY_P99_MS:g}"),
        ("city", CITY, f"p50<={CITY_P50_MS:g}"),
    ):
        if key not in out:
            continue
        phase = out[key]
        vols = phase["seed"]["rows"]["volunteers"]
        print(
            f"-- {key}: {vols:,} volunteers over {area.width_km:g} x {area.height_km:g} km, "
            f"{phase['seed']['stations']} stations; seeded in {phase['seed']['total_s']} s"
        )
        print(header)
        for label, stats in (
            (f"rank() top {LIMIT}, all wishes", phase["rank"]),
            ("  no required skill", phase["rank_no_skill"]),
            ("  one common skill required", phase["rank_one_skill"]),
        ):
            print(
                f"{label:<44} {stats['n']:>5} {stats['p50_ms']:>8.2f} {stats['p99_ms']:>8.2f} "
                f"{stats['rows_read_avg']:>7.0f} {stats['eligible_avg']:>6.0f}  "
                + (target + "  " + _verdict_rank(key, stats) if label.startswith("rank") else "")
            )
        if "full_scan" in phase:
            f = phase["full_scan"]
            print(
                f"{'full scan (volunteers_where(true()))':<44} {f['n']:>5} {f['p50_ms']:>8.1f} "
                f"{'':>8} {f['rows_read']:>7}"
            )
            print(
                f"  speed-up, full-scan p50 / rank p50: {f['speedup_p50']:.0f}x "
                f"(target >= {SPEEDUP_MIN:g}x) {_ok(f['speedup_p50'] >= SPEEDUP_MIN)}"
            )
            print(
                f"  correctness: same top {LIMIT} (ids and scores) for {f['same_top20']}/{f['n']} "
                f"wishes, same eligible count for {f['same_eligible_count']}/{f['n']}: "
                f"{_ok(f['same_top20'] == f['n'] == f['same_eligible_count'])}"
            )
            for mm in f["mismatches"]:
                print(f"    mismatch: {mm}")
        seed = phase["seed"]
        loads = ", ".join(
            f"{t} {seed['rows'][t]:,} rows {seed[f'load_{t}_s']} s" for t in seed["rows"]
        )
        print(
            f"  seeding: {seed['total_s']} s = org units {seed['org_units_s']} s, generate "
            f"{seed['generate_s']} s, h3 cells {seed['h3_cells_s']} s, loads: {loads}, "
            f"statistics {seed['analyze_s']} s"
        )
    if "batch" in out:
        print_batch(out["batch"], args)
    print("  phase wall times (s): " + ", ".join(f"{k} {v}" for k, v in out["phase_s"].items()))


def _verdict_rank(key: str, stats: dict[str, Any]) -> str:
    if key == "county":
        return _ok(stats["p50_ms"] <= COUNTY_P50_MS and stats["p99_ms"] <= COUNTY_P99_MS)
    return _ok(stats["p50_ms"] <= CITY_P50_MS)


def print_batch(b: dict[str, Any], args: argparse.Namespace) -> None:
    seed = b["seed"]
    if "skipped" in b:
        print(f"-- batch: !! {b['skipped']}")
        return
    pr, p, g = b["problem"], b["plan"], b["greedy"]
    print(
        f"-- batch: {pr['wishes']:,} approved wishes x {pr['volunteers']:,} active volunteers "
        f"over {BATCH.width_km:g} x {BATCH.height_km:g} km (seeded in {seed['total_s']} s); "
        f"{pr['eligible_pairs']:,} eligible pairs (median {pr['eligible_per_wish_p50']:g} per "
        f"wish), spare capacity {pr['spare_capacity']:,}, {pr['wishes_without_eligible']} "
        "wishes with nobody eligible"
    )
    timings = p["plan_timings_ms"][int(np.argmin(p["walls_s"]))]
    print(
        f"  plan_for_unit wall: {p['wall_s']:.3f} s (runs {p['walls_s']}; target <= "
        f"{BATCH_WALL_S:g} s) {_ok(p['wall_s'] <= BATCH_WALL_S)}; its own timings (ms): "
        + ", ".join(f"{k} {v}" for k, v in timings.items())
    )
    mem_ok = max(p["tracemalloc_peak_mb"], p["maxrss_after_mb"]) <= BATCH_MEMORY_MB
    print(
        f"  memory (child process): tracemalloc peak {p['tracemalloc_peak_mb']} MB (that run "
        f"{p['traced_wall_s']} s), ru_maxrss {p['maxrss_before_mb']} -> {p['maxrss_after_mb']} "
        f"MB (+{p['maxrss_after_mb'] - p['maxrss_before_mb']:.1f}); target <= "
        f"{BATCH_MEMORY_MB:g} MB {_ok(mem_ok)}"
    )
    print(
        f"  plan: {p['assigned']} assigned, {p['unassigned']} unassigned "
        f"{p['unassigned_reasons']}, total score {p['total_score']:.4f} (recomputed on the "
        f"matrix {p['total_score_on_matrix']:.4f}); pairs check: {p['problems'] or 'ok'}"
    )
    print(
        f"  greedy nearest-first: total score {g['total_score']:.4f}, {g['assigned']} assigned "
        f"(same as the module's greedy: {g['same_as_module_greedy']}; check: "
        f"{g['problems'] or 'ok'}); plan - greedy = {g['plan_gain']:+.4f} "
        f"({g['plan_gain_pct']:+.2f} %)"
    )
    if "optimum_whole" in b:
        o = b["optimum_whole"]
        print(
            f"  exact optimum of the whole instance (dense linear_sum_assignment, {o['wall_s']} "
            f"s): {o['total_score']:.4f}, {o['assigned']} assigned; gap to the plan {o['gap']:g}"
        )
    gaps = [e["gap"] for e in b["exact"]]
    bad = [e for e in b["exact"] if e["problems"]]
    print(
        f"  exact optimum on {len(gaps)} instances of {args.exact_wishes} wishes x "
        f"{args.exact_volunteers} volunteers (real capacity and capacity 1): gaps "
        f"{[round(x, 6) for x in gaps]} (target 0) {_ok(all(abs(x) < 1e-6 for x in gaps))}"
        + (f"; solve() pairs check failed: {bad}" if bad else "")
    )
    assigned = [(e["optimum_assigned"], e["solve_assigned"]) for e in b["exact"]]
    print(f"    (optimum, solve) assigned per instance: {assigned}")
    x = b["rank_cross_check"]
    print(
        f"  plan matrix vs rank(): same eligible volunteers and scores for {x['same']}/"
        f"{x['wishes']} wishes {_ok(x['same'] == x['wishes'])}"
        + (f"; differences: {x['differences']}" if x["differences"] else "")
    )


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--engines", default="sqlite,postgresql", help="comma-separated")
    p.add_argument("--quick", action="store_true", help="smoke run with small sizes")
    p.add_argument("--skip-city", action="store_true", help="no 1,000,000-volunteer phase")
    p.add_argument("--skip-batch", action="store_true", help="no batch-dispatch phase")
    p.add_argument("--county-volunteers", type=int, help="default 100000 (quick 10000)")
    p.add_argument("--city-volunteers", type=int, help="default 1000000 (quick 100000)")
    p.add_argument("--wishes", type=int, help="wishes ranked per phase (default 300, quick 60)")
    p.add_argument("--warmup", type=int, default=20, help="unrecorded rank() calls first")
    p.add_argument("--full-scans", type=int, help="county full scans (default 20, quick 5)")
    p.add_argument("--city-full-scans", type=int, help="city full scans (default 3, quick 1)")
    p.add_argument("--batch-wishes", type=int, help="default 1000 (quick 200)")
    p.add_argument("--batch-volunteers", type=int, help="default 10000 (quick 2000)")
    p.add_argument("--batch-runs", type=int, default=3, help="timed plan_for_unit runs")
    p.add_argument("--batch-timeout", type=float, default=600, help="seconds for the child")
    p.add_argument("--exact-instances", type=int, default=6, help="small instances (x2)")
    p.add_argument("--exact-wishes", type=int, default=50)
    p.add_argument("--cross-checks", type=int, default=50, help="plan rows checked by rank()")
    p.add_argument("--exact-volunteers", type=int, default=200)
    p.add_argument(
        "--full-optimum",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also the exact optimum of the whole batch instance (dense, can take a while)",
    )
    p.add_argument("--seed", type=int, default=20261126)
    args = p.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for engine in args.engines:
        if engine not in ("sqlite", "postgresql"):
            p.error(f"unknown engine {engine!r}")
    q = args.quick
    args.county_volunteers = args.county_volunteers or (10_000 if q else 100_000)
    args.city_volunteers = args.city_volunteers or (100_000 if q else 1_000_000)
    args.wishes = args.wishes or (60 if q else 300)
    args.full_scans = args.full_scans if args.full_scans is not None else (5 if q else 20)
    if args.city_full_scans is None:
        args.city_full_scans = 1 if q else 3
    args.batch_wishes = args.batch_wishes or (200 if q else 1000)
    args.batch_volunteers = args.batch_volunteers or (2000 if q else 10_000)
    return args


def settings_json(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "engines": args.engines,
        "quick": args.quick,
        "county": {
            "volunteers": args.county_volunteers,
            "area_km": [COUNTY.width_km, COUNTY.height_km],
            "centre": [COUNTY.centre_lat, COUNTY.centre_lng],
        },
        "city": None
        if args.skip_city
        else {
            "volunteers": args.city_volunteers,
            "area_km": [CITY.width_km, CITY.height_km],
            "centre": [CITY.centre_lat, CITY.centre_lng],
        },
        "wishes_ranked": args.wishes,
        "warmup": args.warmup,
        "full_scans": args.full_scans,
        "city_full_scans": args.city_full_scans,
        "limit": LIMIT,
        "batch": None
        if args.skip_batch
        else {
            "wishes": args.batch_wishes,
            "volunteers": args.batch_volunteers,
            "area_km": [BATCH.width_km, BATCH.height_km],
            "runs": args.batch_runs,
            "exact_instances": args.exact_instances,
            "exact_size": [args.exact_wishes, args.exact_volunteers],
        },
        "seed": args.seed,
        "targets": {
            "county_p50_ms": COUNTY_P50_MS,
            "county_p99_ms": COUNTY_P99_MS,
            "speedup_min": SPEEDUP_MIN,
            "city_p50_ms": CITY_P50_MS,
            "batch_wall_s": BATCH_WALL_S,
            "batch_memory_mb": BATCH_MEMORY_MB,
            "exact_gap": 0,
        },
        "cpus": os.cpu_count(),
    }


def verdicts(out: dict[str, Any]) -> dict[str, bool | None]:
    v: dict[str, bool | None] = {}
    if "county" in out:
        c = out["county"]
        v["county_rank"] = c["rank"]["p50_ms"] <= COUNTY_P50_MS and (
            c["rank"]["p99_ms"] <= COUNTY_P99_MS
        )
        if "full_scan" in c:
            f = c["full_scan"]
            v["speedup"] = f["speedup_p50"] >= SPEEDUP_MIN
            v["same_top20"] = f["same_top20"] == f["n"] == f["same_eligible_count"]
    if "city" in out:
        v["city_rank"] = out["city"]["rank"]["p50_ms"] <= CITY_P50_MS
        if "full_scan" in out["city"]:
            f = out["city"]["full_scan"]
            v["city_same_top20"] = f["same_top20"] == f["n"] == f["same_eligible_count"]
    b = out.get("batch")
    if b is not None and "skipped" not in b:
        p = b["plan"]
        v["batch_wall"] = p["wall_s"] <= BATCH_WALL_S
        v["batch_memory"] = max(p["tracemalloc_peak_mb"], p["maxrss_after_mb"]) <= BATCH_MEMORY_MB
        v["batch_pairs_valid"] = not p["problems"]
        v["exact_gap_zero"] = all(abs(e["gap"]) < 1e-6 for e in b["exact"])
        v["plan_matches_rank"] = b["rank_cross_check"]["same"] == b["rank_cross_check"]["wishes"]
    return v


def _raise_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(json=False, level=logging.WARNING)
    if not args.skip_batch:
        mp.set_forkserver_preload([])
        forkserver.ensure_running()  # now, while this process is small (see run_child)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    admin_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    tmp_dir = Path(tempfile.mkdtemp(prefix="wm-bench-matching-"))
    results: dict[str, Any] = {}
    t_all = time.perf_counter()
    try:
        for engine in args.engines:
            if engine == "postgresql":
                reason = postgres_unreachable(admin_url)
                if reason is not None:
                    message = (
                        f"PostgreSQL at {admin_url} is unreachable ({' '.join(reason.split())})"
                    )
                    print(f"!! {message}: skipped", flush=True)
                    results[engine] = {"skipped": message}
                    continue
            t0 = time.perf_counter()
            results[engine] = bench_engine(engine, args, tmp_dir, admin_url)
            results[engine]["phase_s"]["engine_total"] = round(time.perf_counter() - t0, 1)
            results[engine]["verdicts"] = verdicts(results[engine])
    except KeyboardInterrupt:
        log("interrupted: cleaned up databases and temporary files")
        return 130
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)

    print()
    print(
        f"matching benchmark: rank() top {LIMIT} per wish (constraints, scores, breakdown), "
        f"each call in a fresh read session, after {args.warmup} unrecorded calls; "
        f"{os.cpu_count()} CPUs"
    )
    print(
        "rows = volunteers read per wish (considered); elig = eligible among them. "
        "Targets: county p50 <= 10 ms, p99 <= 30 ms; full scan >= 50x slower; same top 20; "
        "city p50 <= 50 ms;\n  batch plan_for_unit <= 1 s and <= 500 MB; exact-optimum gap 0."
    )
    for engine, out in results.items():
        if "skipped" in out:
            print(f"\n== {engine}: skipped: {out['skipped']}")
            continue
        print_engine(engine, out, args)
    print(f"\ntotal wall time {time.perf_counter() - t_all:.0f} s")
    print()
    print(
        json.dumps(
            {"settings": settings_json(args), "engines": results},
            ensure_ascii=False,
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
