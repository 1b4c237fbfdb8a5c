"""Retries at the same moment, over HTTP, against a running server, on both engines, with one
and two server processes.

- Twelve copies of one order sent at once with one Idempotency-Key create exactly one wish, and
  every caller gets the same 201 body (all but one marked as replays).
- A request whose key another transaction holds waits, then answers 409
  IDEMPOTENCY_IN_PROGRESS (PostgreSQL); on SQLite it waits for the write lock like every writer.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx2
import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import clock, idempotency
from app.config import Environment, Settings
from app.db import make_engine, writer
from app.models import IdempotencyKey, Wish, WishEventRecord
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import (
    auth,
    make_resident,
    make_tree,
    wish_body,
)
from tests.fixtures.databases import fresh_database
from tests.fixtures.server import Served, all_at_once, running_server, served

pytestmark = pytest.mark.server

CALLERS = 12
CHECKERS = 8


Server = Served


@pytest.fixture(scope="module", params=[1, 2], ids=["1-worker", "2-workers"])
def server(
    request: pytest.FixtureRequest, engine_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with served(engine_name, tmp_path_factory.mktemp("idempotency"), workers=request.param) as live:
        yield live


def test_concurrent_retries_with_one_key_create_one_wish(server: Server) -> None:
    with Session(writer(server.engine), expire_on_commit=False) as session, session.begin():
        station = make_tree(session).stations[0]
        resident = make_resident(session)
    assert station.lat is not None and station.lng is not None
    body = wish_body(station.lat, station.lng)
    key = str(uuid.uuid4())
    headers = {**auth(resident, server.settings), idempotency.HEADER: key}

    responses = all_at_once(
        server.base_url, CALLERS, lambda c: c.post("/api/v1/wishes", json=body, headers=headers)
    )

    assert [r.status_code for r in responses] == [201] * CALLERS, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1  # every caller got the same body
    replayed = [r.headers.get(idempotency.REPLAYED_HEADER) for r in responses]
    assert sorted(replayed, key=str) == [None] + ["true"] * (CALLERS - 1)
    with Session(server.engine) as session:
        wishes = session.scalars(select(Wish.id).where(Wish.requester_id == resident.id)).all()
        assert wishes == [responses[0].json()["id"]]
        submits = session.scalar(
            select(func.count())
            .select_from(WishEventRecord)
            .where(WishEventRecord.wish_id == wishes[0])
        )
        assert submits == 1
        keys = session.scalars(
            select(IdempotencyKey.status_code).where(IdempotencyKey.user_id == resident.id)
        ).all()
        assert keys == [201]


def test_a_key_held_by_a_running_request_is_in_progress(
    engine_name: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Another transaction holds the key (it inserted the row and has not committed): the
    request waits IDEMPOTENCY_WAIT_SECONDS (1 here), then answers 409 IDEMPOTENCY_IN_PROGRESS
    and changes nothing. On SQLite the holder holds the write lock, and the request waits for
    it like every writer (503 DATABASE_BUSY after the busy timeout). Once the holder is gone,
    the same request goes through."""
    tmp = tmp_path_factory.mktemp("in-progress")
    with fresh_database(engine_name, tmp) as url:
        settings = Settings(env=Environment.TEST, database_url=url, secret_key=TEST_SECRET)
        engine = make_engine(url, settings)
        try:
            with Session(writer(engine), expire_on_commit=False) as session, session.begin():
                station = make_tree(session).stations[0]
                resident = make_resident(session)
            assert station.lat is not None and station.lng is not None
            body = wish_body(station.lat, station.lng)
            key = str(uuid.uuid4())
            headers = {**auth(resident, settings), idempotency.HEADER: key}
            env = {"IDEMPOTENCY_WAIT_SECONDS": "1", "SQLITE_BUSY_TIMEOUT_SECONDS": "1"}
            with (
                running_server(url, TEST_SECRET, settings=env) as base,
                httpx2.Client(base_url=base, timeout=30) as client,
            ):
                with _holding_key(engine_name, url, resident.id, key):
                    r = client.post("/api/v1/wishes", json=body, headers=headers)
                expected = (
                    (409, "IDEMPOTENCY_IN_PROGRESS")
                    if engine_name == "postgresql"
                    else (503, "DATABASE_BUSY")
                )
                assert (r.status_code, r.json()["error"]["code"]) == expected, r.text
                r = client.post("/api/v1/wishes", json=body, headers=headers)
                assert r.status_code == 201, r.text
            with Session(engine) as session:
                count = session.scalar(
                    select(func.count()).select_from(Wish).where(Wish.requester_id == resident.id)
                )
                assert count == 1
        finally:
            engine.dispose()


class _holding_key:
    """Another transaction holds the key: on PostgreSQL it inserted the key's row and has not
    committed; on SQLite it holds the write lock (as any writer of that key would)."""

    def __init__(self, engine_name: str, url: str, user_id: int, key: str) -> None:
        self.engine_name, self.url, self.user_id, self.key = engine_name, url, user_id, key
        self.connection: Any = None

    def __enter__(self) -> None:
        if self.engine_name == "postgresql":
            now = clock.now()
            dsn = make_url(self.url).set(drivername="postgresql").render_as_string(False)
            self.connection = psycopg.connect(dsn)
            self.connection.execute(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, method, path,"
                " created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (self.user_id, self.key, "0" * 64, "POST", "/api/v1/wishes", now,
                 now + timedelta(hours=1)),
            )  # fmt: skip
        else:
            path = make_url(self.url).database
            assert path is not None
            self.connection = sqlite3.connect(path, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, *_exc: object) -> None:
        self.connection.rollback()
        self.connection.close()
