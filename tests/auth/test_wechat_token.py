"""WeChat's access token is fetched once and shared: many threads (as many processes would)
asking at once make one stable-token call; a rejected token is force-refreshed once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.config import Environment, Settings
from app.db import Database, make_engine
from app.models import WechatAccessToken
from app.wechat.client import WechatClient
from app.wechat.tokens import access_token
from tests.conftest import TEST_SECRET, WECHAT_APP_ID, WECHAT_SECRET
from tests.fixtures.databases import fresh_database
from tests.fixtures.fake_wechat import FakeWechat

THREADS = 8


@pytest.fixture
def shared(
    engine_name: str, tmp_path: Path, fake_wechat: FakeWechat
) -> Iterator[tuple[Database, Settings]]:
    fake_wechat.reset()
    with fresh_database(engine_name, tmp_path) as url:
        settings = Settings(
            env=Environment.TEST,
            database_url=url,
            secret_key=TEST_SECRET,
            wechat_api_base=fake_wechat.url,
            wechat_app_id=WECHAT_APP_ID,
            wechat_app_secret=WECHAT_SECRET,
        )
        engine = make_engine(url, settings)
        try:
            yield Database(engine), settings
        finally:
            engine.dispose()


def _all_at_once(database: Database, settings: Settings, **kw: str) -> list[str]:
    barrier = threading.Barrier(THREADS)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def ask() -> None:
        client = WechatClient(settings)  # each "process" its own client
        try:
            barrier.wait()
            tokens.append(access_token(database, client, **kw))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=ask) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return tokens


def test_one_fetch_serves_every_caller(
    shared: tuple[Database, Settings], fake_wechat: FakeWechat
) -> None:
    database, settings = shared
    tokens = _all_at_once(database, settings)
    assert len(tokens) == THREADS and len(set(tokens)) == 1
    assert fake_wechat.calls["stable_token"] == 1
    with Session(database.engine) as session:
        row = session.get(WechatAccessToken, WECHAT_APP_ID)
        assert row is not None and row.access_token == tokens[0] and row.lease_until is None
    # Later callers read it from the database.
    assert _all_at_once(database, settings) == tokens
    assert fake_wechat.calls["stable_token"] == 1


def test_a_rejected_token_is_replaced_once(
    shared: tuple[Database, Settings], fake_wechat: FakeWechat
) -> None:
    database, settings = shared
    [first] = set(_all_at_once(database, settings))
    fake_wechat.expire_tokens()
    renewed = _all_at_once(database, settings, rejected=first)
    assert len(set(renewed)) == 1 and renewed[0] != first
    assert fake_wechat.force_refreshes == 1  # one process forced; the others took its token
