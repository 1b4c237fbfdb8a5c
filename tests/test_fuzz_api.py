"""Schemathesis fuzzes every operation of the API as an admin: no 5xx, every 4xx is ours, and
every response conforms to the document clients generate code from (its status is declared, its
content type and body are the declared ones).

The schema is read from a throwaway app built at import time (the OpenAPI document does not touch
the database); each request is sent to the test's `app`, whose database is the test's
`BoundDatabase`, so every operation runs inside one outer transaction that is rolled back.
`_leaves_no_rows` checks that afterwards from a separate connection.

Bounded to stay well under a minute per engine: no coverage phase, a few examples per operation,
a fixed seed and derandomised generation. `WENMING_FUZZ_DEEP=1` turns on the coverage phase
(boundary values, missing and wrongly typed fields: about 2,200 more requests) and 100 examples.

A failure prints the request (as a curl command) that broke a check.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from app.config import Environment, Settings
from app.db import Database
from app.main import API_PREFIX, create_app
from app.models import Base
from app.models.enums import VolunteerStatus, WishStatus
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

DEEP = os.environ.get("WENMING_FUZZ_DEEP") == "1"
MAX_EXAMPLES = 100 if DEEP else 12
SEED = 20_261_126
CJK = re.compile(r"[\u3400-\u9fff]")


def _schema_app() -> FastAPI:
    """An app used only to produce the OpenAPI document; its database is never opened."""
    schema_settings = Settings(
        env=Environment.TEST,
        database_url="sqlite://",
        secret_key=TEST_SECRET,
        scheduler_enabled=False,
    )
    return create_app(schema_settings, database=Database(create_engine("sqlite://")))


schema = schemathesis.openapi.from_asgi(
    f"{API_PREFIX}/openapi.json",
    _schema_app(),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",  # valid and invalid data
                "deterministic": True,
                "database": "none",  # no example database: every run is the same
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": DEEP, "unexpected-methods": []},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    ),
)


def error_body_shape(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A 4xx body is `{"error": {"code": str, "message": Chinese str, "details": dict}}`."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"not our error shape: {body!r}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message", "details"}, body
    assert isinstance(error["code"], str) and re.fullmatch(r"[A-Z][A-Z_]*", error["code"]), body
    assert isinstance(error["message"], str) and CJK.search(error["message"]), body
    assert isinstance(error["details"], dict), body
    return None


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def _leaves_no_rows(engine: Engine) -> Iterator[None]:
    """Set up before the test's connection and torn down after its rollback: what fuzzing
    wrote must be gone, seen from another connection."""
    before = _row_counts(engine)
    yield
    assert _row_counts(engine) == before


@pytest.fixture
def admin_headers(_leaves_no_rows: None, session: Session, settings: Settings) -> dict[str, str]:
    """Some data for the generated ids to hit, and an admin who can reach every operation.

    The admin is made last so that the small ids the fuzzer favours name other users (it
    would otherwise deactivate itself early on).
    """
    tree = make_tree(session)
    resident = make_resident(session)
    make_coordinator(session, tree.townships[0])
    _, volunteer = make_volunteer(session, tree.stations[0], skills=("errands",))
    make_volunteer(session, tree.stations[2], status=VolunteerStatus.SUSPENDED)
    for status in (WishStatus.SUBMITTED, WishStatus.APPROVED):
        make_wish(session, station=tree.stations[0], requester=resident, status=status)
    make_wish(
        session,
        station=tree.stations[0],
        requester=resident,
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
    )
    for status in (WishStatus.ACCEPTED, WishStatus.COMPLETED):
        make_wish(
            session, station=tree.stations[1], requester=resident, status=status, assignee=volunteer
        )
    return auth(make_admin(session), settings)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # The fixtures hold the test's transaction; sharing it across examples is the point.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_error_and_our_error_shape(
    case: schemathesis.Case, admin_headers: dict[str, str], app: FastAPI, client: TestClient
) -> None:
    # `client` binds `app` to the test's rolled-back transaction; the request goes to `app`.
    case.call_and_validate(
        app=app,
        headers=admin_headers,
        checks=[
            not_a_server_error,
            error_body_shape,
            # Against the document clients generate code from (app/openapi.py): every status
            # is declared, every body has the declared type and fits the declared schema.
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
