"""HTTP benchmark of the wish API against a real uvicorn server, on SQLite and PostgreSQL.

    .venv/bin/python bench/api.py                      # both engines, 10 s per endpoint
    .venv/bin/python bench/api.py --quick              # smoke run
    .venv/bin/python bench/api.py --engines sqlite --duration 20 --concurrency 32 --workers 2

See bench/README.md for what is measured and how. The last line of stdout is one JSON object
with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import psycopg  # noqa: E402
from load import (  # noqa: E402
    PhaseResult,
    build_request,
    cpu_delta,
    cpu_seconds,
    descendants,
    machine_busy,
    postgres_backends,
    run_phase,
    start_null_server,
)
from seed import Seeded, accepted_count, seed  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import migrate  # noqa: E402
from app.auth.sessions import open_session  # noqa: E402
from app.config import Environment, Settings  # noqa: E402
from app.logging import configure_logging  # noqa: E402

RESULTS = BENCH_DIR / "results"
DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
API = "/api/v1"

# Endpoint key -> (label, kind, target ratio to the baseline)
ENDPOINTS: dict[str, tuple[str, str, float | None]] = {
    "baseline": ("GET /bench/pk/{id}  (1 PK select)", "baseline", None),
    "detail": ("GET /wishes/{id}  (detail)", "read", 0.5),
    "open": ("GET /wishes/open  (near me)", "read", 0.5),
    "accept": ("POST /wishes/{id}/accept", "write", 0.4),
    "baseline_end": ("GET /bench/pk/{id}  (again)", "baseline", None),
}


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- databases


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_unreachable(admin_url: str) -> str | None:
    try:
        with psycopg.connect(_psycopg_dsn(admin_url), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip()}"


@contextlib.contextmanager
def fresh_database(engine: str, tmp_dir: Path, admin_url: str) -> Iterator[str]:
    """A new database migrated to head, removed afterwards (also on Ctrl-C)."""
    if engine == "sqlite":
        path = tmp_dir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            url = f"sqlite:///{path}"
            migrate.upgrade(url)
            yield url
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = _psycopg_dsn(admin_url)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped PostgreSQL database {name}")


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    db_name: str | None

    def pids(self) -> list[int]:
        return descendants(self.proc.pid)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _get(port: int, path: str, token: str | None = None, timeout: float = 10) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, body[:200]
    finally:
        conn.close()


@contextlib.contextmanager
def running_server(
    url: str, secret: str, args: argparse.Namespace, log_path: Path
) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("BENCH_SQL_STATS", None)
    if args.sql_stats:
        env["BENCH_SQL_STATS"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "baseline_app:create_app",
        "--factory",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--log-level",
        "info",
    ]
    if not args.access_log:
        cmd.append("--no-access-log")
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    parsed = make_url(url)
    db_name = parsed.database if parsed.get_backend_name() == "postgresql" else None
    server = Server(proc, port, log_path, db_name)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}:\n{server.tail()}")
            try:
                if _get(port, "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start in 60 s:\n{server.tail()}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group (uvicorn and its workers), which this script started."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


# ---------------------------------------------------------------- phases


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    warmup_errors: int
    server_cpu: float  # cores
    client_cpu: float  # cores
    db_cpu: float  # cores (PostgreSQL backends of this database; SQLite runs in the server)
    machine_cpu: float  # cores (all processes)
    wall_s: float = 0.0
    all_requests: int = 0  # warm-up included
    exhausted: bool = False
    ok_total: int = 0
    samples: tuple[str, ...] = ()
    latencies_s: list[float] = field(default_factory=list, repr=False)  # sorted
    rounds_rps: tuple[float, ...] = ()

    @property
    def spread(self) -> float:
        """(max - min) / mean of the per-round req/s (0 with one round)."""
        if len(self.rounds_rps) < 2:
            return 0.0
        mean = sum(self.rounds_rps) / len(self.rounds_rps)
        return (max(self.rounds_rps) - min(self.rounds_rps)) / mean if mean else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Server + database CPU per request, warm-up included (robust to a busy machine)."""
        return (self.server_cpu + self.db_cpu) * self.wall_s / max(1, self.all_requests) * 1000

    @property
    def other_cpu(self) -> float:
        """CPU used by processes outside the benchmark (others sharing the machine)."""
        return max(0.0, self.machine_cpu - self.server_cpu - self.client_cpu - self.db_cpu)

    def as_json(self) -> dict[str, Any]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "requests": self.requests,
            "errors": self.errors,
            "warmup_errors": self.warmup_errors,
            "server_cpu_cores": round(self.server_cpu, 2),
            "client_cpu_cores": round(self.client_cpu, 2),
            "db_cpu_cores": round(self.db_cpu, 2),
            "cpu_ms_per_request": round(self.cpu_ms_per_request, 3),
            "other_cpu_cores": round(self.other_cpu, 2),
            "machine_cpu_cores": round(self.machine_cpu, 2),
            "rounds_rps": [round(r, 1) for r in self.rounds_rps],
            **({"pool_exhausted": True} if self.exhausted else {}),
        }


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def wait_for_quiet(max_wait: float, threshold: float = 0.35) -> float:
    """Wait (up to max_wait s) for the machine to be idle before a phase: other people's jobs
    share these two cores. Returns the busy cores seen in the last second."""
    deadline = time.monotonic() + max_wait
    while True:
        b0, t0 = machine_busy()
        time.sleep(1.0)
        b1, t1 = machine_busy()
        busy = (b1 - b0) / (t1 - t0) * (os.cpu_count() or 1)
        if busy < threshold or time.monotonic() >= deadline:
            return busy


def measure(
    server: Server | None,
    port: int,
    mode: str,
    work: list[Any],
    args: argparse.Namespace,
    duration: float | None = None,
    profile_name: str | None = None,
) -> Figures:
    duration = duration or args.duration
    pids = server.pids() if server else []
    spy = _start_py_spy(server, args, profile_name, duration) if profile_name else None
    db_pids = postgres_backends(server.db_name) if server and server.db_name else []
    cpu0 = cpu_seconds(pids)
    db0 = cpu_seconds(db_pids)
    busy0, _ = machine_busy()
    t0 = time.monotonic()
    result: PhaseResult = run_phase(
        host=HOST,
        port=port,
        mode=mode,
        work=work,
        concurrency=args.concurrency,
        processes=args.client_procs,
        warmup_s=args.warmup,
        duration_s=duration,
    )
    wall = time.monotonic() - t0
    if spy is not None:
        spy.join()
    busy1, _ = machine_busy()
    cpu1 = cpu_seconds(pids)
    if server and server.db_name:
        db_pids = sorted(set(db_pids) | set(postgres_backends(server.db_name)))
    db1 = cpu_seconds(db_pids)
    lat = sorted(result.latencies_s)
    errors = sum(1 for s in result.statuses if not 200 <= s < 300)
    # server/client/machine CPU over the whole phase (warm-up included), in cores
    return Figures(
        rps=len(lat) / duration,
        p50_ms=percentile(lat, 0.50) * 1000,
        p99_ms=percentile(lat, 0.99) * 1000,
        requests=len(lat),
        errors=errors + result.warmup_errors,
        warmup_errors=result.warmup_errors,
        server_cpu=cpu_delta(cpu0, cpu1) / wall,
        db_cpu=cpu_delta(db0, db1) / wall,
        client_cpu=result.client_cpu_s / wall,
        machine_cpu=(busy1 - busy0) / wall,
        wall_s=wall,
        all_requests=len(lat) + result.warmup_requests,
        exhausted=result.exhausted,
        ok_total=result.ok_total,
        samples=tuple(result.error_samples),
        latencies_s=lat,
        rounds_rps=(len(lat) / duration,),
    )


def combine(rounds: list[Figures]) -> Figures:
    """One endpoint's figures over several rounds: mean req/s, pooled latencies, summed errors,
    CPU weighted by time."""
    if len(rounds) == 1:
        return rounds[0]
    lat = sorted(x for f in rounds for x in f.latencies_s)
    wall = sum(f.wall_s for f in rounds)

    def weighted(name: str) -> float:
        return sum(getattr(f, name) * f.wall_s for f in rounds) / wall

    return Figures(
        rps=sum(f.rps for f in rounds) / len(rounds),
        p50_ms=percentile(lat, 0.50) * 1000,
        p99_ms=percentile(lat, 0.99) * 1000,
        requests=sum(f.requests for f in rounds),
        errors=sum(f.errors for f in rounds),
        warmup_errors=sum(f.warmup_errors for f in rounds),
        server_cpu=weighted("server_cpu"),
        client_cpu=weighted("client_cpu"),
        db_cpu=weighted("db_cpu"),
        machine_cpu=weighted("machine_cpu"),
        wall_s=wall,
        all_requests=sum(f.all_requests for f in rounds),
        exhausted=any(f.exhausted for f in rounds),
        ok_total=sum(f.ok_total for f in rounds),
        samples=tuple(s for f in rounds for s in f.samples)[:5],
        latencies_s=lat,
        rounds_rps=tuple(f.rps for f in rounds),
    )


def _start_py_spy(
    server: Server | None, args: argparse.Namespace, name: str, duration: float
) -> threading.Thread | None:
    """Profiling: sample the server with py-spy over the measured window (collapsed stacks)."""
    if server is None or not args.py_spy:
        return None
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.txt"
    cmd = [
        exe, "record", "--pid", str(server.proc.pid), "--subprocesses", "--gil", "--rate", "250",
        "--duration", str(max(1, int(duration))), "--format", "raw", "--output", str(out),
        "--nonblocking",
    ]  # fmt: skip

    def run() -> None:
        time.sleep(args.warmup + 0.5)
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def calibrate(args: argparse.Namespace) -> dict[str, Any]:
    """The client's own ceiling, against a server that answers without doing anything."""
    proc, port = start_null_server()
    try:
        work = [build_request("GET", f"/bench/pk/{i}", f"{HOST}:{port}") for i in range(1, 50)]
        fig = measure(None, port, "cycle", work, args, duration=args.calibrate_s)
        return {
            "client_max_rps": round(fig.rps, 1),
            "client_cpu_cores": round(fig.client_cpu, 2),
            "client_cpu_us_per_request": round(
                fig.client_cpu * (args.warmup + args.calibrate_s) / max(1, fig.requests) * 1e6, 1
            ),
            "p50_ms": round(fig.p50_ms, 3),
        }
    finally:
        proc.terminate()
        proc.join(timeout=5)


def tokens_for(user_ids: set[int], settings: Settings) -> dict[int, str]:
    """A staff session per user (every role the account holds), written to the database."""
    from sqlalchemy.orm import Session

    from app.db import make_engine, writer
    from app.models.enums import SessionKind

    engine = make_engine(settings.database_url, settings)
    try:
        with Session(writer(engine)) as session, session.begin():
            return {
                uid: open_session(
                    session=session, user_id=uid, kind=SessionKind.STAFF, settings=settings
                ).access_token
                for uid in user_ids
            }
    finally:
        engine.dispose()


def preflight(
    server: Server, seeded: Seeded, open_users: list[int], tokens: dict[int, str]
) -> dict[str, Any]:
    """One request of each kind before the load: fail early and describe what is served."""
    port = server.port
    status, body = _get(port, f"/bench/pk/{seeded.unit_ids[0]}")
    if status != 200 or body.get("id") != seeded.unit_ids[0]:
        raise RuntimeError(f"baseline endpoint answered {status}: {body}")
    for wish_id, user_id in seeded.detail[:6]:
        status, body = _get(port, f"{API}/wishes/{wish_id}", tokens[user_id])
        if status != 200:
            raise RuntimeError(f"wish detail {wish_id} as user {user_id} answered {status}: {body}")
    sizes = []
    for user_id in open_users[:40]:
        status, body = _get(port, f"{API}/wishes/open", tokens[user_id])
        if status != 200:
            raise RuntimeError(f"open near me as user {user_id} answered {status}: {body}")
        sizes.append(len(body))
    return {"open_near_me_avg_items": round(sum(sizes) / len(sizes), 1)}


def bench_engine(
    engine: str,
    url: str,
    args: argparse.Namespace,
    tmp_dir: Path,
    secret: str,
) -> dict[str, Any]:
    # Tokens made here must outlive the run (the default lifetime is 15 minutes).
    settings = Settings(
        env=Environment.DEVELOPMENT,
        database_url=url,
        secret_key=secret,
        access_token_minutes=24 * 60,
    )
    pool = args.accept_pool or max(
        1000, int(args.accept_rate_guess * (args.warmup + args.duration))
    )
    t0 = time.monotonic()
    seeded = seed(
        url,
        settings,
        volunteers=args.volunteers,
        open_wishes=args.open_wishes,
        accept_pool=pool,
    )
    log(f"{engine}: seeded in {time.monotonic() - t0:.1f} s: {seeded.counts}")
    rng = random.Random(7)
    open_users = rng.sample(seeded.open_users, min(600, len(seeded.open_users)))
    accept_users = {u for group in seeded.accept_groups for _, u in group}
    tokens = tokens_for({u for _, u in seeded.detail} | set(open_users) | accept_users, settings)

    with running_server(url, secret, args, tmp_dir / f"server-{engine}.log") as server:
        info = preflight(server, seeded, open_users, tokens)
        host = f"{HOST}:{server.port}"
        detail = list(seeded.detail)
        rng.shuffle(detail)
        units = list(seeded.unit_ids)
        work: dict[str, tuple[str, list[Any]]] = {
            "baseline": (
                "cycle",
                [build_request("GET", f"/bench/pk/{u}", host) for u in units * 8],
            ),
            "detail": (
                "cycle",
                [build_request("GET", f"{API}/wishes/{w}", host, tokens[u]) for w, u in detail],
            ),
            "open": (
                "cycle",
                [build_request("GET", f"{API}/wishes/open", host, tokens[u]) for u in open_users],
            ),
            "accept": (
                "once",
                [
                    [
                        build_request("POST", f"{API}/wishes/{w}/accept", host, tokens[u])
                        for w, u in group
                    ]
                    for group in seeded.accept_groups
                ],
            ),
        }
        work["baseline_end"] = work["baseline"]
        # Each round takes its own share of the accept pairs.
        groups = work["accept"][1]
        share = math.ceil(len(groups) / args.rounds)
        accept_rounds = [groups[i * share : (i + 1) * share] for i in range(args.rounds)]

        # Warm the server up (connections, caches) before anything is measured.
        mixed = [r for key in ("baseline", "detail", "open") for r in work[key][1][:200]]
        random.Random(3).shuffle(mixed)
        log(f"{engine}: server warm-up ({args.server_warmup:g} s) ...")
        measure(server, server.port, "cycle", mixed, args, duration=args.server_warmup)

        sequence = [
            (r, key) for r in range(args.rounds) for key in ENDPOINTS if key != "baseline_end"
        ] + [(args.rounds - 1, "baseline_end")]
        per_round: dict[str, list[Figures]] = {key: [] for key in ENDPOINTS}
        sql_stats: dict[str, Any] = {}
        for r, key in sequence:
            mode, requests = work[key]
            if key == "accept":
                requests = accept_rounds[r]
            busy = wait_for_quiet(args.quiet_wait) if args.quiet_wait > 0 else math.nan
            label = f"{engine}: round {r + 1}/{args.rounds}: {key}"
            log(f"{label} ... (machine busy before: {busy:.2f} cores)")
            if args.sql_stats:
                _get(server.port, "/bench/sql-stats")  # reset
            fig = measure(
                server, server.port, mode, requests, args, profile_name=f"{engine}-{key}-{r + 1}"
            )
            per_round[key].append(fig)
            if args.sql_stats:
                sql_stats[key] = _get(server.port, "/bench/sql-stats")[1]
            log(
                f"{label}: {fig.rps:.0f} req/s, p50 {fig.p50_ms:.1f} ms, "
                f"p99 {fig.p99_ms:.1f} ms, errors {fig.errors}"
            )
            for sample in fig.samples:
                log(f"  error sample: {sample}")
            if fig.exhausted:
                log(f"{label}: the accept pool ran out; raise --accept-pool")
        figures = {key: combine(rounds) for key, rounds in per_round.items()}
        server_log_errors = [
            line
            for line in server.tail(400).splitlines()
            if "Traceback" in line or "[error" in line
        ]
    accept_ids = [w for group in seeded.accept_groups for w, _ in group]
    accepted = accepted_count(url, settings, accept_ids)
    return {
        "figures": figures,
        "seeded": seeded.counts,
        "info": info,
        "accepted_in_db": accepted,
        "accept_200s": figures["accept"].ok_total,
        "server_log_errors": server_log_errors[:10],
        "sql_stats": sql_stats,
    }


# ---------------------------------------------------------------- report


def baseline_rps(figures: dict[str, Figures]) -> float:
    """The mean req/s of every baseline run (each round's, and the last one)."""
    runs = [r for k in ("baseline", "baseline_end") for r in figures[k].rounds_rps]
    return sum(runs) / len(runs)


def baseline_cpu_ms(figures: dict[str, Figures]) -> float:
    runs = [figures[k] for k in ("baseline", "baseline_end")]
    cpu_s = sum(f.cpu_ms_per_request * f.all_requests for f in runs)
    return cpu_s / max(1, sum(f.all_requests for f in runs))


def verdict(key: str, fig: Figures, ratio: float) -> str:
    target = ENDPOINTS[key][2]
    problems = []
    if fig.errors:
        problems.append("errors")
    if target is not None and ratio < target:
        problems.append(f"ratio<{target}")
    if fig.exhausted:
        problems.append("pool ran out")
    return "MISS " + ",".join(problems) if problems else "ok"


def print_engine(engine: str, out: dict[str, Any], args: argparse.Namespace) -> None:
    figures: dict[str, Figures] = out["figures"]
    base = baseline_rps(figures)
    base_cpu = baseline_cpu_ms(figures)
    header = (
        f"{'endpoint':<36} {'req/s':>7} {'spread':>6} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'ratio':>5} {'target':>6}  {'cpu:srv':>7} {'db':>4} {'client':>6} {'other':>5} "
        f"{'ms/req':>6} {'cpu-ratio':>9}  verdict"
    )
    print()
    runs = len(figures["baseline"].rounds_rps) + len(figures["baseline_end"].rounds_rps)
    print(f"== {engine}  (baseline = {base:.0f} req/s, the mean of its {runs} runs)")
    print(header)
    print("-" * len(header))
    for key, (label, _kind, target) in ENDPOINTS.items():
        fig = figures[key]
        ratio = fig.rps / base if base else math.nan
        target_s = f">={target}" if target is not None else ""
        print(
            f"{label:<36} {fig.rps:>7.0f} {fig.spread:>6.0%} {fig.p50_ms:>7.1f} {fig.p99_ms:>7.1f} "
            f"{fig.errors:>6} "
            f"{ratio:>5.2f} {target_s:>6}  {fig.server_cpu:>7.2f} {fig.db_cpu:>4.2f} "
            f"{fig.client_cpu:>6.2f} {fig.other_cpu:>5.2f} {fig.cpu_ms_per_request:>6.2f} "
            f"{base_cpu / fig.cpu_ms_per_request:>9.2f}  {verdict(key, fig, ratio)}"
        )
    seeded = out["seeded"]
    print(
        f"data: {seeded['volunteers']} volunteers, {seeded['open_wishes']} open wishes "
        f"(+{seeded['submitted_wishes']} submitted, {seeded['accepted_wishes']} accepted), "
        f"{seeded['accept_pool']} accept pairs; open-near-me returns "
        f"{out['info']['open_near_me_avg_items']} wishes on average"
    )
    ok = out["accept_200s"] == out["accepted_in_db"]
    print(
        f"accept check: {out['accept_200s']} accepts answered 200 (warm-up included), "
        f"{out['accepted_in_db']} wishes accepted in the database: {'ok' if ok else 'MISMATCH'}"
    )
    if out["server_log_errors"]:
        print("server log errors:")
        for line in out["server_log_errors"]:
            print(f"  {line}")
    if args.sql_stats:
        print_sql_stats(out["sql_stats"])


def print_sql_stats(stats: dict[str, Any]) -> None:
    print("SQL statements per request (profiling run: throughput figures above are not clean)")
    for phase, routes in stats.items():
        for route, data in routes.items():
            n = data["requests"] or 1
            stmts = data["statements"]
            per_req = sum(s["count"] for s in stmts) / n
            sql_ms = sum(s["ms_total"] for s in stmts) / n
            req_ms = data["request_ms_total"] / n
            print(
                f"  [{phase}] {route}: {per_req:.1f} statements/request, "
                f"{sql_ms:.2f} ms in the driver of {req_ms:.2f} ms in the app per request"
            )
            for s in stmts[:25]:
                print(
                    f"      {s['count'] / n:>5.2f}x {s['ms_total'] / n:>6.3f} ms  {s['sql'][:150]}"
                )


def summary_json(
    results: dict[str, Any], args: argparse.Namespace, calibration: dict[str, Any]
) -> dict[str, Any]:
    engines: dict[str, Any] = {}
    for engine, out in results.items():
        if "skipped" in out:
            engines[engine] = {"skipped": out["skipped"]}
            continue
        figures: dict[str, Figures] = out["figures"]
        base = baseline_rps(figures)
        engines[engine] = {
            "baseline_rps": round(base, 1),
            "endpoints": {
                key: {
                    **fig.as_json(),
                    "ratio": round(fig.rps / base, 3) if base else None,
                    "cpu_ratio": round(baseline_cpu_ms(figures) / fig.cpu_ms_per_request, 3)
                    if fig.cpu_ms_per_request
                    else None,
                    "target_ratio": ENDPOINTS[key][2],
                    "meets_target": verdict(key, fig, fig.rps / base if base else 0) == "ok",
                }
                for key, fig in figures.items()
            },
            "seeded": out["seeded"],
            "open_near_me_avg_items": out["info"]["open_near_me_avg_items"],
            "accept_200s": out["accept_200s"],
            "accepted_in_db": out["accepted_in_db"],
        }
    return {
        "settings": {
            "engines": args.engines,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rounds": args.rounds,
            "server_warmup_s": args.server_warmup,
            "concurrency": args.concurrency,
            "client_processes": args.client_procs,
            "server_workers": args.workers,
            "access_log": args.access_log,
            "volunteers": args.volunteers,
            "open_wishes": args.open_wishes,
            "quick": args.quick,
            "quiet_wait_s": args.quiet_wait,
            "sql_stats": args.sql_stats,
            "cpus": os.cpu_count(),
        },
        "calibration": calibration,
        "engines": engines,
    }


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--engines", default="sqlite,postgresql", help="comma-separated")
    p.add_argument("--duration", type=float, default=None, help="measured seconds per endpoint")
    p.add_argument("--warmup", type=float, default=None, help="warm-up seconds per endpoint")
    p.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    p.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="times the endpoint sequence is repeated (figures are the mean over rounds)",
    )
    p.add_argument("--client-procs", type=int, default=2, help="load generator processes")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--volunteers", type=int, default=None, help="main-area volunteers")
    p.add_argument("--open-wishes", type=int, default=None, help="wishes open for grab")
    p.add_argument("--accept-pool", type=int, default=None, help="accept pairs to seed")
    p.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="uvicorn access log (on, like `wenming serve`)",
    )
    p.add_argument(
        "--sql-stats",
        action="store_true",
        help="profiling: count SQL statements per request (slows the server)",
    )
    p.add_argument(
        "--py-spy",
        action="store_true",
        help="profiling: sample the server with py-spy into bench/results/ (py-spy not included)",
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="before each endpoint, wait up to this many seconds for the machine to be idle",
    )
    p.add_argument("--quick", action="store_true", help="short smoke run")
    args = p.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for engine in args.engines:
        if engine not in ("sqlite", "postgresql"):
            p.error(f"unknown engine {engine!r}")
    quick = args.quick
    args.duration = args.duration or (3.0 if quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 2.0)
    args.volunteers = args.volunteers or (800 if quick else 3000)
    args.open_wishes = args.open_wishes or (120 if quick else 300)
    args.calibrate_s = 1.5 if quick else 3.0
    args.server_warmup = 2.0 if quick else 5.0
    args.rounds = args.rounds or (1 if quick else 2)
    if args.quiet_wait is None:
        args.quiet_wait = 3.0 if quick else 20.0
    # accepts per second the seeded pool must be able to feed (more than either engine does)
    args.accept_rate_guess = 500
    if min(args.concurrency, args.workers, args.client_procs, args.rounds) < 1:
        p.error("--concurrency, --workers, --client-procs and --rounds must be at least 1")
    return args


def _raise_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(json=False, level=logging.WARNING)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    admin_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    secret = secrets.token_urlsafe(48)
    tmp_dir = Path(tempfile.mkdtemp(prefix="wm-bench-"))
    results: dict[str, Any] = {}
    try:
        log(f"client calibration against a null server ({args.concurrency} connections) ...")
        calibration = calibrate(args)
        log(f"client ceiling: {calibration}")
        for engine in args.engines:
            if engine == "postgresql":
                reason = postgres_unreachable(admin_url)
                if reason is not None:
                    message = (
                        f"PostgreSQL at {admin_url} is unreachable ({' '.join(reason.split())})"
                    )
                    rest = "benchmarking SQLite only" if "sqlite" in args.engines else "skipped"
                    print(f"!! {message}: {rest}", flush=True)
                    results[engine] = {"skipped": message}
                    continue
            with fresh_database(engine, tmp_dir, admin_url) as url:
                results[engine] = bench_engine(engine, url, args, tmp_dir, secret)
    except KeyboardInterrupt:
        log("interrupted: cleaned up servers, databases and temporary files")
        return 130
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)

    print()
    print(
        f"settings: {args.concurrency} connections from {args.client_procs} client processes, "
        f"{args.workers} uvicorn worker(s), access log {'on' if args.access_log else 'off'}, "
        f"{args.server_warmup:g} s server warm-up, then {args.rounds} round(s) of "
        f"{args.warmup:g} s warm-up + {args.duration:g} s per endpoint, {os.cpu_count()} CPUs"
    )
    print(
        f"client ceiling (null server, same connections): {calibration['client_max_rps']:.0f} "
        f"req/s, {calibration['client_cpu_us_per_request']:.0f} us client CPU per request"
    )
    fastest = max(
        (
            out["figures"][k].rps
            for out in results.values()
            if "figures" in out
            for k in out["figures"]
        ),
        default=0.0,
    )
    if fastest:
        headroom = calibration["client_max_rps"] / fastest
        calibration["headroom_over_fastest_endpoint"] = round(headroom, 1)
        print(
            f"client bottleneck check: ceiling is {headroom:.0f}x the fastest endpoint measured "
            f"({fastest:.0f} req/s): {'not the bottleneck' if headroom >= 5 else 'TOO CLOSE'}"
        )
    print(
        "req/s: mean over the rounds; spread: (max - min) / mean of the rounds' req/s.\n"
        "targets: reads >= 0.5 x baseline, accept >= 0.4 x baseline, zero errors. CPU columns: "
        "cores used during the phase by\n  the uvicorn processes (srv), this database's "
        "PostgreSQL backends (db), the load generator (client), everything else on the machine "
        "(other);\n  ms/req = server+db CPU per request; cpu-ratio = baseline ms/req / endpoint "
        "ms/req (the ratio a CPU-bound server would reach; steadier when the machine is shared)"
    )
    for engine, out in results.items():
        if "skipped" in out:
            print(f"\n== {engine}: skipped: {out['skipped']}")
            continue
        print_engine(engine, out, args)
    print()
    print(json.dumps(summary_json(results, args, calibration), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
