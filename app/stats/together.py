"""Several sections of one answer computed at once, on PostgreSQL, from one snapshot.

A unit's overview runs six sections, each a few aggregates over an index range; one after the
other they take the sum of their times. On PostgreSQL the request's transaction exports its
snapshot (`pg_export_snapshot()`), and `STATS_CONNECTIONS` worker connections each open a
REPEATABLE READ transaction on that very snapshot (`SET TRANSACTION SNAPSHOT`) and take the
sections from a shared queue: every figure is read from the same state of the database, as if
one transaction had computed them all, in about the time of the longest share.

It applies only where it can: PostgreSQL, a session bound to the engine itself (not to a
connection with uncommitted work of its own, which other connections cannot see), more than
one section and more than one connection allowed. Otherwise, and for SQLite, the sections run
in the request's own transaction, one after the other (`None`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, SimpleQueue

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.config import current_settings, settings_in_use
from app.models import OrgUnit
from app.stats.figures import Figure, Scope, Section
from app.stats.queries import for_statistics

SNAPSHOT = re.compile(r"^[0-9A-Fa-f-]+$")


def computed_together(
    session: Session, scope: Scope, chosen: Sequence[Section]
) -> list[list[Figure]] | None:
    """The figures of each chosen section, computed on worker connections sharing the session's
    snapshot; None where that does not apply (compute them in the session then)."""
    settings = current_settings()
    workers = min(settings.stats_connections, len(chosen))
    engine = session.get_bind()
    if workers < 2 or not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
        return None
    snapshot = str(session.execute(text("SELECT pg_export_snapshot()")).scalar_one())
    if not SNAPSHOT.match(snapshot):  # never seen; the id is written into a statement below
        return None
    queue: SimpleQueue[int] = SimpleQueue()
    for index in range(len(chosen)):
        queue.put(index)
    found: dict[int, list[Figure]] = {}

    def work() -> None:
        with settings_in_use(settings), engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin(), Session(bind=connection) as mine:
                mine.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                for_statistics(mine)
                unit = mine.get(OrgUnit, scope.unit.id)
                assert unit is not None  # the snapshot is the session's, which read it
                here = Scope(unit, scope.starts_at, scope.ends_at)
                while True:
                    try:
                        index = queue.get_nowait()
                    except Empty:
                        return
                    found[index] = chosen[index].compute(mine, here)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stats") as pool:
        for done in [pool.submit(work) for _ in range(workers)]:
            done.result()
    return [found[index] for index in range(len(chosen))]
