"""Engine, sessions and the one-transaction-per-request dependency.

SQLite needs care to be correct under concurrency: every connection turns on foreign keys, WAL
and a busy timeout, and the driver's own transaction handling is replaced by explicit `BEGIN`
statements so that write transactions can start with `BEGIN IMMEDIATE` (they take the write lock
up front instead of failing with "database is locked" when a read turns into a write).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Environment, Settings, get_settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SQLITE_BEGIN = "sqlite_begin"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _install_sqlite_hooks(engine: Engine, busy_timeout: float) -> None:
    # SQLite admits one writer at a time. Within a process, writers queue on this lock (handed
    # straight to the next waiter) rather than on SQLite's busy handler (which polls with
    # growing sleeps); between processes, the busy timeout arbitrates. A thread waits here
    # only while it holds an admitted session, and fewer sessions than worker threads are
    # admitted (see `Admission`), so the holder always finds a thread to commit with.
    writer = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Erased personal data (retention, account deletion, withdrawn consent) is overwritten
        # with zeros in the file, not left readable in free space.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
        if mode == "IMMEDIATE" and not conn.info.get(_HOLDS_WRITER):
            if not writer.acquire(timeout=busy_timeout):
                raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
            conn.info[_HOLDS_WRITER] = True
        conn.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # The transaction has ended (commit or rollback) and the connection is back in the
        # pool: the next writer may begin.
        if record.info.pop(_HOLDS_WRITER, False):
            writer.release()


_HOLDS_WRITER = "holds_sqlite_writer"


def make_engine(url: str, settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = normalise_url(url)
    # In production, statement parameters (personal data among them) stay out of error
    # messages and logs.
    hide = settings.env == Environment.PRODUCTION
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={
                "timeout": settings.sqlite_busy_timeout_seconds,
                "check_same_thread": False,
            },
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            hide_parameters=hide,
        )
        _install_sqlite_hooks(engine, settings.sqlite_busy_timeout_seconds)
        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        hide_parameters=hide,
    )


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take the SQLite write lock at BEGIN."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})


def limit_waits(
    session: Session, *, lock_timeout: float, statement_timeout: float, durable: bool = True
) -> None:
    """Bound every wait of this (worker) transaction on PostgreSQL: a lock not granted within
    `lock_timeout` or a statement running past `statement_timeout` fails the transaction
    instead of blocking it. On SQLite the busy timeout bounds waits for the write lock.

    `durable=False` lets the commit return before its WAL record is flushed
    (`synchronous_commit=off`): for writes whose loss in a server crash is harmless, such as a
    delivery's outcome (lost, the message is sent again and its receiver drops the repeat)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT set_config('lock_timeout', :lock, true),"
            " set_config('statement_timeout', :st, true),"
            " set_config('synchronous_commit', :sync, true)"
        ),
        {
            "lock": f"{int(lock_timeout * 1000)}ms",
            "st": f"{int(statement_timeout * 1000)}ms",
            "sync": "on" if durable else "off",
        },
    )


class Database:
    """The engine and the two session factories (read and write) of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.read_sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self.write_sessions = sessionmaker(writer(engine), expire_on_commit=False, autoflush=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool) -> Session:
        return (self.write_sessions if write else self.read_sessions)()


class Admission:
    """How many requests may hold a database session at once, per process.

    Sync work runs on a bounded thread pool, and the commit is a separate hop onto it. If every
    pool thread were blocked waiting for a lock (a row lock on PostgreSQL, the write lock on
    SQLite), the transaction holding it could not get a thread to commit, and everyone would
    wait until a timeout. Requests therefore wait here, in the event loop and without a thread,
    before they open a session: fewer sessions than pool threads may be open at once.
    """

    def __init__(self, *, sessions: int) -> None:
        self.sessions = anyio.Semaphore(sessions)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def admitted(request: Request) -> AsyncIterator[None]:
    admission: Admission = request.app.state.admission
    async with admission.sessions:
        yield


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def get_session(
    request: Request, _admitted: Annotated[None, Depends(admitted, scope="function")]
) -> AsyncIterator[Session]:
    """One transaction per request: commit on success, roll back on any error.

    Runs with `scope="function"`, so the commit happens before the response is sent: a client
    that sees a 2xx knows its change is stored. Opening a session does no I/O, so it happens in
    the event loop; the commit (or rollback) runs on a worker thread, shielded from
    cancellation so that a client that hangs up cannot leave a transaction half-done.
    """
    database = get_database(request)
    session = database.session(write=request.method in WRITE_METHODS)
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_rollback_and_close, session)
        raise
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(_commit_and_close, session)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
