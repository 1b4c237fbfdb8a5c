"""The real application plus a baseline endpoint, for benchmark runs only.

`GET /bench/pk/{unit_id}` does exactly one primary-key SELECT (one org unit) through the same
session dependency (`app.db.SessionDep`: a transaction per request, committed before the
response), the same engine, pool, middleware and server settings as the API. No auth. Its
throughput is what every other endpoint is compared with.

Profiling aids, off unless asked for (they cost time, so the benchmark's figures are taken
without them):

- `BENCH_SQL_STATS=1`: counts the SQL statements (and their time in the driver) of every
  request, by route; `GET /bench/sql-stats` returns them and starts again.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from contextvars import ContextVar
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy import event

from app.db import SessionDep
from app.main import create_app as create_real_app
from app.models import OrgUnit
from app.schemas import IdPath

router = APIRouter(prefix="/bench", include_in_schema=False)


@router.get("/pk/{unit_id}")
def pk(unit_id: IdPath, session: SessionDep) -> dict[str, Any]:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        return {"id": None}
    return {"id": unit.id, "code": unit.code, "name": unit.name}


class SqlStats:
    """Statements per request, grouped by route template, from cursor events."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # the current request's statements: normalised SQL -> [count, seconds]
        self.current: ContextVar[dict[str, list[float]] | None] = ContextVar(
            "bench_statements", default=None
        )
        self.requests: dict[str, int] = defaultdict(int)
        self.request_s: dict[str, float] = defaultdict(float)
        # route -> normalised statement -> [count, seconds]
        self.statements: dict[str, dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(lambda: [0, 0.0])
        )

    def install(self, app: FastAPI) -> None:
        engine = app.state.database.engine
        started: ContextVar[float] = ContextVar("bench_stmt_started", default=0.0)

        @event.listens_for(engine, "before_cursor_execute")
        def _before(*_args: Any) -> None:
            started.set(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            elapsed = time.perf_counter() - started.get()
            current = self.current.get()
            if current is None:
                return
            entry = current.setdefault(" ".join(statement.split())[:400], [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed

        # Plain ASGI middleware, outermost. The context var holds a dict that the threadpool's
        # copies of the context share, so statements run in worker threads land in it.
        inner_build = app.build_middleware_stack

        def build() -> Any:
            inner = inner_build()

            async def asgi(scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] != "http" or scope["path"] == "/bench/sql-stats":
                    await inner(scope, receive, send)
                    return
                mine: dict[str, list[float]] = {}
                token = self.current.set(mine)
                begun = time.perf_counter()
                try:
                    await inner(scope, receive, send)
                finally:
                    self.current.reset(token)
                    route = scope.get("route")
                    key = f"{scope['method']} {getattr(route, 'path', scope['path'])}"
                    with self.lock:
                        self.requests[key] += 1
                        self.request_s[key] += time.perf_counter() - begun
                        for sql, (count, seconds) in mine.items():
                            entry = self.statements[key][sql]
                            entry[0] += count
                            entry[1] += seconds

            return asgi

        app.build_middleware_stack = build  # type: ignore[method-assign]

        @app.get("/bench/sql-stats", include_in_schema=False)
        def sql_stats() -> dict[str, Any]:
            with self.lock:
                out = {
                    route: {
                        "requests": n,
                        "request_ms_total": round(self.request_s[route] * 1000, 1),
                        "statements": sorted(
                            (
                                {"sql": sql, "count": int(c), "ms_total": round(s * 1000, 2)}
                                for sql, (c, s) in self.statements[route].items()
                            ),
                            key=lambda item: -float(item["ms_total"]),
                        ),
                    }
                    for route, n in self.requests.items()
                }
                self.requests.clear()
                self.request_s.clear()
                self.statements.clear()
            return out


def create_app() -> FastAPI:
    app = create_real_app()
    app.include_router(router)
    if os.environ.get("BENCH_SQL_STATS") == "1":
        SqlStats().install(app)
    return app
