"""Write latency with and without a login storm, against the real server, on SQLite and
PostgreSQL.

    .venv/bin/python bench/login_storm.py                     # both engines
    .venv/bin/python bench/login_storm.py --engines sqlite --duration 8

The write is 点单 (`POST /api/v1/wishes` as residents, `--writers` keep-alive connections,
one request in flight on each). It is measured three times on one server per engine:

1. **alone**;
2. **storm, one address**: `--storm` more connections hammer `POST /api/v1/auth/login` from
   one address, wrong and right passwords mixed (one in four right). Throttling answers most of
   them 429 after the first few;
3. **storm, many addresses**: the same, each request from a different address (the server
   trusts X-Forwarded-For from 127.0.0.1 for this run, `TRUSTED_PROXIES`), wrong passwords
   against unknown usernames so that no account locks: every request costs a full Argon2
   hash (and the right ones a session write). This is the worst case for the writes.

Printed per phase: write req/s, p50 and p99 (ms, client side), the storm's logins/s by
status, and the write p99 as a ratio to the p99 alone. The last line of stdout is one JSON
object with every figure. Uses bench/api.py's databases and server and bench/load.py's client.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from api import (  # noqa: E402
    DEFAULT_POSTGRES_URL,
    HOST,
    fresh_database,
    log,
    percentile,
    postgres_unreachable,
    running_server,
)
from load import PhaseResult, run_phase  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app import clock  # noqa: E402
from app.accounts.service import create_staff_user  # noqa: E402
from app.auth.security import hash_password  # noqa: E402
from app.auth.sessions import open_session  # noqa: E402
from app.auth.users import ensure_role  # noqa: E402
from app.config import Environment, Settings  # noqa: E402
from app.db import make_engine, writer  # noqa: E402
from app.models import OrgUnit, User  # noqa: E402
from app.models.enums import AccountRole, OrgLevel, SessionKind  # noqa: E402
from app.org_units.service import create_unit  # noqa: E402

STAFF = 8
PASSWORD = "storm-right-password-1"
RESIDENTS = 16


def _raw(method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> bytes:
    data = json.dumps(body, ensure_ascii=False).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Accept: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def seed(url: str, settings: Settings) -> tuple[list[str], tuple[float, float]]:
    """A county with one station, staff accounts, residents with sessions: the tokens of the
    residents and the station's position."""
    engine = make_engine(url, settings)
    try:
        with Session(writer(engine), expire_on_commit=False) as session, session.begin():
            lat, lng = 30.6380, 119.6800
            city = create_unit(
                session=session,
                code="330500000000",
                name="湖州市",
                level=OrgLevel.CITY,
                parent_id=None,
                lat=lat,
                lng=lng,
            )
            county = create_unit(
                session=session,
                code="330523000000",
                name="安吉县",
                level=OrgLevel.COUNTY,
                parent_id=city.id,
                lat=lat,
                lng=lng,
            )
            town = create_unit(
                session=session,
                code="330523108000",
                name="天荒坪镇",
                level=OrgLevel.TOWNSHIP,
                parent_id=county.id,
                lat=lat,
                lng=lng,
            )
            create_unit(
                session=session,
                code="330523108204",
                name="余村",
                level=OrgLevel.VILLAGE,
                parent_id=town.id,
                lat=lat,
                lng=lng,
                service_radius_m=5000,
            )
            password_hash = hash_password(PASSWORD)
            for i in range(STAFF):
                user = create_staff_user(
                    session=session,
                    name=f"协调员{i}",
                    username=f"staff{i}",
                    password=PASSWORD,
                    password_hash=password_hash,
                )
                ensure_role(session=session, user_id=user.id, role=AccountRole.ADMIN)
            tokens = []
            for i in range(RESIDENTS):
                user = User(name=f"居民{i}", phone=f"1380000{i:04d}")
                session.add(user)
                session.flush()
                ensure_role(session=session, user_id=user.id, role=AccountRole.RESIDENT)
                tokens.append(
                    open_session(
                        session=session,
                        user_id=user.id,
                        kind=SessionKind.CONSUMER,
                        settings=settings,
                    ).access_token
                )
            station = session.scalars(
                select(OrgUnit).where(OrgUnit.level == OrgLevel.VILLAGE)
            ).one()
            assert station.lat is not None and station.lng is not None
            return tokens, (station.lat, station.lng)
    finally:
        engine.dispose()


def wish_requests(tokens: list[str], where: tuple[float, float], n: int) -> list[bytes]:
    rng = random.Random(1)
    start = clock.now() + timedelta(days=2)
    out = []
    for i in range(n):
        body = {
            "category_code": "elderly_orphan_care",
            "title": f"帮独居老人买菜 {i}",
            "description": "每周二、周五上午",
            "coarse_address": "余村 3 组附近",
            "full_address": f"余村 3 组 {i % 90 + 1} 号",
            "contact_phone": "13800001111",
            "lat": where[0] + rng.uniform(-0.004, 0.004),
            "lng": where[1] + rng.uniform(-0.004, 0.004),
            "wanted_start_at": start.isoformat(),
            "wanted_end_at": (start + timedelta(hours=2)).isoformat(),
            "urgency": "normal",
        }
        token = tokens[i % len(tokens)]
        out.append(_raw("POST", "/api/v1/wishes", body, {"Authorization": f"Bearer {token}"}))
    return out


def login_requests(n: int, *, many_addresses: bool) -> list[bytes]:
    rng = random.Random(2)
    out = []
    for i in range(n):
        right = i % 4 == 0
        if right:
            body = {"username": f"staff{i % STAFF}", "password": PASSWORD}
        elif many_addresses:  # unknown usernames: no account ever locks, every try is hashed
            body = {"username": f"guess{i}", "password": f"wrong-{i}"}
        else:
            body = {"username": f"staff{i % STAFF}", "password": f"wrong-{i}"}
        headers = {}
        if many_addresses:
            headers["X-Forwarded-For"] = (
                f"10.{rng.randrange(256)}.{rng.randrange(256)}.{i % 250 + 1}"
            )
        out.append(_raw("POST", "/api/v1/auth/login", body, headers))
    return out


def figures(result: PhaseResult, duration: float) -> dict[str, Any]:
    lat = sorted(result.latencies_s)
    statuses = Counter(result.statuses)
    return {
        "rps": round(len(lat) / duration, 1),
        "p50_ms": round(percentile(lat, 0.50) * 1000, 1),
        "p99_ms": round(percentile(lat, 0.99) * 1000, 1),
        "requests": len(lat),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "samples": result.error_samples[:2],
    }


def phase(
    port: int, writes: list[bytes], storm: list[bytes] | None, args: argparse.Namespace
) -> dict[str, Any]:
    """The writes for --duration seconds; the storm, if any, runs over the same window (it
    starts during the writes' warm-up and ends after them)."""
    storm_result: list[PhaseResult] = []
    thread = None
    if storm is not None:

        def hammer() -> None:
            storm_result.append(
                run_phase(
                    host=HOST,
                    port=port,
                    mode="cycle",
                    work=storm,
                    concurrency=args.storm,
                    processes=args.client_procs,
                    warmup_s=args.warmup,
                    duration_s=args.duration + 1.0,
                )
            )

        thread = threading.Thread(target=hammer)
        thread.start()
        time.sleep(args.warmup / 2)
    result = run_phase(
        host=HOST,
        port=port,
        mode="once",
        work=[[w] for w in writes],
        concurrency=args.writers,
        processes=1,
        warmup_s=args.warmup,
        duration_s=args.duration,
    )
    out = {"write": figures(result, args.duration)}
    if result.exhausted:
        out["write"]["exhausted"] = True
    if thread is not None:
        thread.join()
        out["login"] = figures(storm_result[0], args.duration + 1.0)
    return out


def bench_engine(engine: str, url: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    secret = secrets.token_hex(32)
    settings = Settings(
        env=Environment.DEVELOPMENT,
        database_url=url,
        secret_key=secret,
        access_token_minutes=24 * 60,
    )
    tokens, where = seed(url, settings)
    per_phase = int(args.max_write_rps * (args.warmup + args.duration)) + 100
    server_args = argparse.Namespace(workers=args.workers, sql_stats=False, access_log=False)
    results: dict[str, Any] = {}
    with running_server(url, secret, server_args, tmp / f"{engine}-server.log") as server:
        for name, storm in (
            ("alone", None),
            ("storm_one_address", login_requests(5000, many_addresses=False)),
            ("storm_many_addresses", login_requests(5000, many_addresses=True)),
        ):
            log(f"{engine}: {name}")
            writes = wish_requests(tokens, where, per_phase)
            results[name] = phase(server.port, writes, storm, args)
    alone = results["alone"]["write"]["p99_ms"]
    for name in ("storm_one_address", "storm_many_addresses"):
        results[name]["write_p99_ratio"] = round(results[name]["write"]["p99_ms"] / alone, 2)
    return results


def print_engine(engine: str, results: dict[str, Any]) -> None:
    print(f"\n== {engine}: POST /wishes (write) with and without a login storm")
    head = f"{'phase':<24}{'write/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99 ratio':>11}"
    print(head + "   logins (status: count, per s)")
    for name, r in results.items():
        w = r["write"]
        ratio = r.get("write_p99_ratio", 1.0)
        logins = ""
        if "login" in r:
            lg = r["login"]
            logins = f"{lg['statuses']}  {lg['rps']}/s  login p99 {lg['p99_ms']} ms"
        errors = {k: v for k, v in w["statuses"].items() if not k.startswith("2")}
        flag = f"  write errors {errors}" if errors else ""
        print(
            f"{name:<24}{w['rps']:>9}{w['p50_ms']:>9}{w['p99_ms']:>9}{ratio:>11}   {logins}{flag}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--writers", type=int, default=4, help="write connections")
    parser.add_argument("--storm", type=int, default=24, help="login connections")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--max-write-rps",
        type=float,
        default=400.0,
        help="sizes the pool of distinct write requests per phase",
    )
    args = parser.parse_args(argv)
    os.environ["TRUSTED_PROXIES"] = "127.0.0.1"
    os.environ["SCHEDULER_ENABLED"] = "false"
    admin_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    tmp = Path(tempfile.mkdtemp(prefix="login-storm-"))
    summary: dict[str, Any] = {"settings": vars(args)}
    try:
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            if engine == "postgresql" and (reason := postgres_unreachable(admin_url)):
                log(f"PostgreSQL skipped: {reason}")
                summary[engine] = {"skipped": reason}
                continue
            with fresh_database(engine, tmp, admin_url) as url:
                summary[engine] = bench_engine(engine, url, args, tmp)
            print_engine(engine, summary[engine])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
