"""Delivery benchmark: queued messages delivered by `wenming worker` processes to a local fake
receiver, on SQLite and PostgreSQL, with 1 and 2 workers.

    .venv/bin/python bench/delivery.py                          # 10,000 messages, both engines
    .venv/bin/python bench/delivery.py --messages 2000 --engines sqlite --workers 1

For each engine and worker count, on a fresh database:
- backlog: `--messages` messages are committed (in transactions of 1,000) while the workers
  idle, then delivered: messages/s from the first commit to the last delivery, duplicates at the
  receiver (by uid; must be 0), and the lag from each message's commit to its arrival (p50, p99:
  in a backlog this is mostly the wait in the queue);
- trickle: `--trickle` messages committed one per transaction at `--rate` per second while the
  workers run: the lag from commit to arrival (p50, p99) when nothing is queued, i.e. the poll
  interval (DELIVERY_INTERVAL_SECONDS, default 1 s) plus the work itself.
The baseline, measured in the same run: the same receiver hit directly by a plain loop with the
same HTTP client (httpx2, keep-alive), one message per request; the ratio is workers' messages/s
over the baseline's. The workers are real processes running `app.workers.Worker` (what
`wenming worker` runs) with the default settings, and a channel that posts to the receiver.
The last line of stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(ROOT))

from api import DEFAULT_POSTGRES_URL, fresh_database, postgres_unreachable  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.config import Environment, Settings  # noqa: E402
from app.db import make_engine, writer  # noqa: E402
from app.models import OutboxMessage, User  # noqa: E402
from app.notifications.outbox import enqueue_many  # noqa: E402
from tests.fixtures.fake_receiver import FakeReceiver  # noqa: E402

SECRET = "bench-secret-key-with-enough-length-0123456789"
CHANNEL = "bench"


def settings_for(url: str) -> Settings:
    return Settings(env=Environment.TEST, database_url=url, secret_key=SECRET)


def worker_main(url: str, receiver_url: str) -> None:
    """A worker process: the real worker, with the bench channel posting to the receiver."""
    import logging

    import httpx2

    from app.db import Database
    from app.delivery import channels
    from app.logging import configure_logging
    from app.workers import Worker

    configure_logging(json=False, level=logging.WARNING)
    client = httpx2.Client(timeout=5.0)
    pid = os.getpid()

    def post(_ctx: channels.DeliveryContext, message: channels.Outgoing) -> channels.Result:
        r = client.post(receiver_url, json={"uid": message.uid, "pid": pid})
        return channels.Sent(via="webhook") if r.status_code == 200 else channels.Retry("HTTP")

    channels.register(CHANNEL, post)
    settings = settings_for(url)
    database = Database(make_engine(url, settings))
    Worker(database, settings, interval=settings.scheduler_interval_seconds).run()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def baseline(receiver: FakeReceiver, n: int) -> float:
    import httpx2

    with httpx2.Client(timeout=5.0) as client:
        started = time.perf_counter()
        for i in range(n):
            client.post(receiver.url, json={"uid": f"base_{i}", "pid": 0})
        return n / (time.perf_counter() - started)


class Queue:
    """Commits messages and remembers when each committed (by uid)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, settings_for(url))
        self.committed: dict[str, float] = {}
        self.last_id = 0
        with Session(writer(self.engine)) as session, session.begin():
            user = User(name="收件人", phone="13900000000")
            session.add(user)
            session.flush()
            self.user_id = user.id

    def commit(self, count: int) -> None:
        with Session(writer(self.engine)) as session, session.begin():
            enqueue_many(
                session=session,
                messages=[("bench.ping", [self.user_id], {"n": i}) for i in range(count)],
                channel=CHANNEL,
            )
        at = time.time()
        with Session(self.engine) as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.uid).where(OutboxMessage.id > self.last_id)
            ).all()
        for id_, uid in rows:
            self.committed[uid] = at
            self.last_id = max(self.last_id, id_)

    def close(self) -> None:
        self.engine.dispose()


def wait_for(receiver: FakeReceiver, uids: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not uids <= set(receiver.uids()):
        if time.monotonic() > deadline:
            missing = len(uids - set(receiver.uids()))
            raise SystemExit(f"timed out: {missing} messages not delivered")
        time.sleep(0.05)


def run(engine: str, url: str, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    receiver = FakeReceiver().start()
    queue = Queue(url)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=worker_main, args=(url, receiver.url)) for _ in range(workers)
    ]
    try:
        for process in processes:
            process.start()
        queue.commit(1)  # warm-up: every worker is up once this arrives and a pass has gone by
        wait_for(receiver, set(queue.committed), 120)
        time.sleep(2)
        warm = set(queue.committed)

        started = time.time()
        remaining = args.messages
        while remaining:
            queue.commit(min(1000, remaining))
            remaining -= min(1000, remaining)
        backlog = set(queue.committed) - warm
        wait_for(receiver, backlog, 600)
        arrivals: dict[str, float] = {}
        for r in receiver.snapshot():
            arrivals.setdefault(r.uid, r.at)
        finished = max(arrivals[u] for u in backlog)
        backlog_lag = [arrivals[u] - queue.committed[u] for u in backlog]

        before = set(queue.committed)
        for _ in range(args.trickle):
            queue.commit(1)
            time.sleep(1 / args.rate)
        trickle = set(queue.committed) - before
        wait_for(receiver, trickle, 120)
        for r in receiver.snapshot():
            arrivals.setdefault(r.uid, r.at)
        trickle_lag = [arrivals[u] - queue.committed[u] for u in trickle]
        counts = receiver.uids()
        duplicates = sum(n - 1 for u, n in counts.items() if n > 1 and u in queue.committed)
        per_worker = sorted(receiver.by_pid().values(), reverse=True)
    finally:
        for process in processes:
            if process.is_alive():
                os.kill(process.pid or 0, signal.SIGTERM)
        for process in processes:
            process.join(30)
        queue.close()
        receiver.stop()
    return {
        "engine": engine,
        "workers": workers,
        "messages": len(backlog),
        "messages_per_s": len(backlog) / (finished - started),
        "duplicates": duplicates,
        "backlog_lag_p50_s": percentile(backlog_lag, 0.5),
        "backlog_lag_p99_s": percentile(backlog_lag, 0.99),
        "trickle_messages": len(trickle),
        "trickle_lag_p50_s": percentile(trickle_lag, 0.5),
        "trickle_lag_p99_s": percentile(trickle_lag, 0.99),
        "per_worker": per_worker,
        "exit_codes": [p.exitcode for p in processes],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="trickle messages per second")
    args = parser.parse_args()

    receiver = FakeReceiver().start()
    baseline(receiver, 500)  # warm-up
    base = statistics.median(baseline(receiver, args.messages // 2) for _ in range(3))
    receiver.stop()
    print(f"baseline: plain loop, one keep-alive httpx2 client: {base:,.0f} messages/s")

    admin_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    results = []
    with tempfile.TemporaryDirectory(prefix="wm-bench-delivery-") as tmp:
        for engine in args.engines.split(","):
            if engine == "postgresql":
                reason = postgres_unreachable(admin_url)
                if reason:
                    print(f"PostgreSQL at {admin_url} is unreachable ({reason}): skipped")
                    continue
            for workers in (int(w) for w in args.workers.split(",")):
                with fresh_database(engine, Path(tmp), admin_url) as url:
                    result = run(engine, url, workers, args)
                result["ratio_to_baseline"] = result["messages_per_s"] / base
                results.append(result)
                print(
                    f"{engine:<10} {workers} worker(s): {result['messages_per_s']:8,.0f} msg/s "
                    f"({result['ratio_to_baseline']:.2f} x baseline), "
                    f"duplicates {result['duplicates']}, "
                    f"backlog lag p50 {result['backlog_lag_p50_s']:.2f}s "
                    f"p99 {result['backlog_lag_p99_s']:.2f}s, "
                    f"trickle lag p50 {result['trickle_lag_p50_s'] * 1000:.0f}ms "
                    f"p99 {result['trickle_lag_p99_s'] * 1000:.0f}ms, "
                    f"per worker {result['per_worker']}",
                    flush=True,
                )
    print(json.dumps({"baseline_messages_per_s": base, "runs": results}))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
