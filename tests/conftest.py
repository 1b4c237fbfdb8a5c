from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from app.config import Environment, Settings
from app.db import Database, make_engine
from app.main import create_app
from tests.fixtures.databases import fresh_database
from tests.fixtures.fake_wechat import FakeWechat

TEST_SECRET = "test-secret-key-with-enough-length-0123456789"
WECHAT_APP_ID = "wx-test-app"
WECHAT_SECRET = "test-wechat-secret"

# Tests that must not run beside others: real server processes (the `server` marker), worker
# processes, races between threads, and waits measured against a deadline. They are marked
# `serial`: scripts/test runs them in a pass of their own after the parallel one, and within an
# xdist run they share one group, which `--dist loadgroup` runs on a single worker.
SERIAL_GROUP = "serial"
SERIAL_MODULES = frozenset(
    {
        "tests/auth/test_wechat_token.py",
        "tests/delivery/test_workers_fault.py",
        "tests/jobs/test_bounded_waits.py",
        "tests/jobs/test_two_workers.py",
        "tests/push/test_races.py",
    }
)
ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database engine the suite runs against",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that cannot run beside others `serial` (see SERIAL_MODULES)."""
    missing = sorted(m for m in SERIAL_MODULES if not (ROOT / m).is_file())
    if missing:
        raise pytest.UsageError(f"SERIAL_MODULES names files that do not exist: {missing}")
    xdist = config.pluginmanager.hasplugin("xdist")
    for item in items:
        module = item.nodeid.split("::", 1)[0]  # relative to the root, where pyproject.toml is
        if item.get_closest_marker("server") or module in SERIAL_MODULES:
            item.add_marker(pytest.mark.serial)
            if xdist:
                item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP))


@pytest.fixture(scope="session", autouse=True)
def _no_process_caches() -> None:
    """Tests roll back and (on SQLite) reuse ids, so nothing read in one may be reused in the
    next: the per-process caches of the catalogue and of dispatch policies are off."""
    from app.catalogue.service import QUALIFIED_CACHE
    from app.matching.catalogue import CATALOGUE_CACHE
    from app.rules.dispatch import POLICIES
    from app.rules.records import RULES

    for cache in (CATALOGUE_CACHE, QUALIFIED_CACHE, POLICIES.cache, RULES.cache):
        cache.ttl = 0


@pytest.fixture(autouse=True)
def _principal_cache_off() -> Iterator[None]:
    """A test that builds its own app (with default settings) must not leave the process-wide
    principal cache on for the tests after it."""
    yield
    from app.auth.cache import principal_cache, revocation_feed
    from app.auth.security import configure_hashing

    if principal_cache.ttl != 0:
        principal_cache.configure(0)
    revocation_feed.reset()
    configure_hashing(1)


@pytest.fixture(scope="session")
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--engine"))


@pytest.fixture(scope="session")
def database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(engine_name, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def fake_wechat() -> Iterator[FakeWechat]:
    """The fake WeChat API every test app talks to (a real HTTP server on a free port)."""
    fake = FakeWechat(app_id=WECHAT_APP_ID, secret=WECHAT_SECRET, timeout_sleep=1.5).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def settings(database_url: str, fake_wechat: FakeWechat) -> Settings:
    return Settings(
        env=Environment.TEST,
        database_url=database_url,
        secret_key=TEST_SECRET,
        dev_login_enabled=True,
        # Rolled-back tests reuse ids on SQLite; a cached principal would outlive its user.
        principal_cache_seconds=0,
        # Tests run the timers themselves, with a controlled clock.
        scheduler_enabled=False,
        wechat_api_base=fake_wechat.url,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_SECRET,
        wechat_timeout_seconds=1.0,
        # Throttled sign-ins answer at once in tests (test_staff_login checks the pause).
        login_refusal_delay_seconds=0,
    )


@pytest.fixture(scope="session")
def engine(database_url: str, settings: Settings) -> Iterator[Engine]:
    engine = make_engine(database_url, settings)
    yield engine
    engine.dispose()


class BoundDatabase(Database):
    """Every request's session joins the test's outer transaction through a savepoint."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        super().__init__(engine)
        self.connection = connection

    def session(self, *, write: bool) -> Session:
        return Session(
            bind=self.connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
        )


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session for the test's own setup and checks, inside the rolled-back transaction."""
    with Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    ) as s:
        yield s


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, database=Database(engine))


@pytest.fixture
def client(
    app: FastAPI, engine: Engine, connection: Connection, fake_wechat: FakeWechat
) -> Iterator[TestClient]:
    app.state.database = BoundDatabase(engine, connection)
    app.state.throttle.reset()
    fake_wechat.reset()
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
