"""Where one request's time goes, step by step, without HTTP and without concurrency.

    .venv/bin/python bench/breakdown.py [--engine sqlite|postgresql] [--n 300]

Seeds a fresh database like `api.py` (smaller), then runs, one at a time, the same calls the
endpoints make (token check, principal, wish load, access, view, JSON) and reports the mean
milliseconds and SQL statements of each step. Sequential timings on an idle path: they show
the relative cost of the steps, which a profile of the loaded server (api.py --py-spy) confirms.
The HTTP and framework share of a request is what the baseline endpoint costs (api.py).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import DEFAULT_POSTGRES_URL, fresh_database, postgres_unreachable
from pydantic import TypeAdapter
from seed import seed
from sqlalchemy import event, func, select

from app.auth.principal import load_principal
from app.auth.security import create_access_token, decode_access_token
from app.config import Environment, Settings
from app.db import Database, make_engine
from app.geo import bounding_box
from app.logging import configure_logging
from app.models import OrgUnit, Wish
from app.models.enums import SessionKind, WishStatus
from app.wishes import queries
from app.wishes.access import visible_wish
from app.wishes.schemas import WishSummary
from app.wishes.service import apply_event
from app.wishes.state import WishEvent
from app.wishes.views import wish_out, wish_summary


class Steps:
    def __init__(self, engine: Any) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.sql: dict[str, int] = defaultdict(int)
        self.runs: dict[str, int] = defaultdict(int)
        self.stack: list[str] = []

        @event.listens_for(engine, "after_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN (app/db.py)
                for name in self.stack:
                    self.sql[name] += 1

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.stack.append(name)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name].append((time.perf_counter() - t0) * 1000)
            self.runs[name] += 1
            self.stack.pop()

    def report(self, title: str, names: list[str]) -> None:
        print(f"\n{title}")
        print(f"  {'step':<44} {'mean ms':>8} {'median':>8} {'SQL/req':>8}")
        for name in names:
            values = self.ms[name]
            sql = self.sql[name] / max(1, self.runs[name])
            print(
                f"  {name:<44} {statistics.fmean(values):>8.3f} "
                f"{statistics.median(values):>8.3f} {sql:>8.1f}"
            )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--engine", default="sqlite", choices=["sqlite", "postgresql"])
    p.add_argument("--n", type=int, default=300)
    args = p.parse_args()
    configure_logging(json=False, level=40)
    admin_url = DEFAULT_POSTGRES_URL
    if args.engine == "postgresql" and postgres_unreachable(admin_url):
        sys.exit("PostgreSQL is unreachable")
    tmp = Path(tempfile.mkdtemp(prefix="wm-breakdown-"))
    try:
        with fresh_database(args.engine, tmp, admin_url) as url:
            run(url, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(url: str, args: argparse.Namespace) -> None:
    settings = Settings(env=Environment.DEVELOPMENT, database_url=url, secret_key="x" * 40)
    seeded = seed(url, settings, volunteers=3000, open_wishes=300, accept_pool=args.n + 50)
    database = Database(make_engine(url, settings))
    steps = Steps(database.engine)
    rng = random.Random(1)
    n = args.n

    # -- detail
    for i in range(n):
        wish_id, user_id = seeded.detail[i % len(seeded.detail)]
        token = create_access_token(user_id, settings, session_id=1, kind=SessionKind.STAFF)[0]
        with steps.step("detail: total"), database.session(write=False) as session:
            with steps.step("token decode"):
                decode_access_token(token, settings)
            with steps.step("load_principal"):
                actor = load_principal(session, user_id)
                assert actor is not None
            with steps.step("visible_wish (load_wish + access_to)"):
                outcome = visible_wish(session, wish_id=wish_id, actor=actor)
            with steps.step("wish_out (view + its queries)"):
                out = wish_out(session, outcome)
            with steps.step("WishOut -> JSON"):
                out.model_dump_json()
            session.commit()
    steps.report(
        f"GET /wishes/{{id}} as requester or coordinator ({args.engine}, n={n})",
        [
            "token decode",
            "load_principal",
            "visible_wish (load_wish + access_to)",
            "wish_out (view + its queries)",
            "WishOut -> JSON",
            "detail: total",
        ],
    )

    # -- open near me
    adapter = TypeAdapter(list[WishSummary])
    sizes = []
    for _ in range(n):
        user_id = rng.choice(seeded.open_users)
        with steps.step("open: total"), database.session(write=False) as session:
            with steps.step("load_principal "):
                actor = load_principal(session, user_id)
                assert actor is not None
            volunteer = actor.volunteer
            assert volunteer is not None
            with steps.step("queries.open_near (SQL + rows + exact distance)"):
                rows = queries.open_near(session, volunteer=volunteer, radius_m=None, limit=20)
            with steps.step("wish_summary x 20"):
                summaries = [wish_summary(w, d) for w, d in rows]
            with steps.step("list[WishSummary] -> JSON"):
                adapter.dump_json(summaries)
            session.commit()
        with database.session(write=False) as session:
            box = bounding_box(volunteer.lat, volunteer.lng, volunteer.service_radius_m)
            candidates = session.scalar(
                select(func.count())
                .select_from(Wish)
                .where(
                    Wish.grab_open.is_(True),
                    Wish.lat.between(box[0], box[1]),
                    Wish.lng.between(box[2], box[3]),
                    Wish.status == WishStatus.DISPATCHING,
                )
            )
            sizes.append(candidates or 0)
    steps.report(
        f"GET /wishes/open ({args.engine}, n={n}; {statistics.fmean(sizes):.0f} wishes in the "
        "bounding box on average, up to 20 returned)",
        [
            "load_principal ",
            "queries.open_near (SQL + rows + exact distance)",
            "wish_summary x 20",
            "list[WishSummary] -> JSON",
            "open: total",
        ],
    )

    # -- accept
    pairs = [pair for group in seeded.accept_groups for pair in group][:n]
    for wish_id, user_id in pairs:
        with steps.step("accept: total"), database.session(write=True) as session:
            with steps.step("load_principal  "):
                actor = load_principal(session, user_id)
                assert actor is not None
            with steps.step("apply_event(ACCEPT)"):
                outcome = apply_event(
                    session=session, wish_id=wish_id, event=WishEvent.ACCEPT, actor=actor
                )
            with steps.step("response: wish_out"):
                out = wish_out(session, outcome)
            with steps.step("response: JSON"):
                out.model_dump_json()
            with steps.step("commit"):
                session.commit()
    steps.report(
        f"POST /wishes/{{id}}/accept ({args.engine}, n={len(pairs)})",
        [
            "load_principal  ",
            "apply_event(ACCEPT)",
            "response: wish_out",
            "response: JSON",
            "commit",
            "accept: total",
        ],
    )

    # -- baseline
    name = "baseline: session.get(OrgUnit) + commit"
    for i in range(n):
        unit_id = seeded.unit_ids[i % len(seeded.unit_ids)]
        with steps.step(name), database.session(write=False) as session:
            session.get(OrgUnit, unit_id)
            session.commit()
    steps.report(f"GET /bench/pk/{{id}} ({args.engine}, n={n})", [name])
    database.engine.dispose()


if __name__ == "__main__":
    main()
