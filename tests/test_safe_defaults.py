"""Safe by default: production refuses every insecure setting, the demo and the development
login; the image runs in production mode; liveness and readiness probes."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cli import cli
from app.config import PLACEHOLDER_SECRET, Environment, Settings, get_settings, secret_entropy_bits
from app.crypto.sealing import DEVELOPMENT_DATA_KEY, new_key
from app.db import Database, make_engine
from app.main import create_app
from tests.fixtures.databases import fresh_database

ROOT = Path(__file__).resolve().parents[1]
STRONG = secrets.token_hex(32)
WECHAT = {"wechat_app_id": "wx1234567890abcdef", "wechat_app_secret": secrets.token_hex(16)}
KEYS = {"data_keys": {"2027a": new_key()}, "lookup_key": new_key()}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def production(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": Environment.PRODUCTION,
        "secret_key": STRONG,
        "database_url": "sqlite:////tmp/wenming-never-created/prod.db",
        **WECHAT,
        **KEYS,
    }
    values.update(overrides)
    return Settings(**values)


def test_a_safe_production_configuration_starts(tmp_path: Path) -> None:
    settings = production(database_url=f"sqlite:///{tmp_path / 'p.db'}", scheduler_enabled=False)
    assert settings.dev_login_enabled is False
    app = create_app(settings)
    paths = app.openapi()["paths"]
    assert "/api/v1/auth/dev-login" not in paths and "/api/v1/auth/wechat/login" in paths
    with TestClient(app) as client:
        r = client.post("/api/v1/auth/dev-login", json={"phone": "13900000001"})
        assert (r.status_code, r.json()["error"]["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"secret_key": PLACEHOLDER_SECRET}, "placeholder"),
        ({"secret_key": "change-me-" + secrets.token_hex(20)}, "placeholder"),
        ({"secret_key": secrets.token_hex(15)}, "at least 32"),
        ({"secret_key": "a" * 64}, "predictable"),
        ({"secret_key": "abcd" * 16}, "predictable"),
        ({"secret_key": "password" * 5}, "predictable"),
        ({"secret_key": "01234567890123456789012345678901"}, "predictable"),
        ({"dev_login_enabled": True}, "DEV_LOGIN_ENABLED"),
        ({"wechat_app_id": None}, "WECHAT_APP_ID"),
        ({"wechat_app_secret": ""}, "WECHAT_APP_SECRET"),
        ({"wechat_api_base": "http://api.weixin.qq.com"}, "https"),
        ({"data_keys": None}, "DATA_KEYS and LOOKUP_KEY must be set"),
        ({"lookup_key": None}, "DATA_KEYS and LOOKUP_KEY must be set"),
        ({"data_keys": {"dev": _b64(DEVELOPMENT_DATA_KEY)}}, "development"),
    ],
    ids=[
        "placeholder secret",
        "placeholder-like secret",
        "short secret",
        "one repeated character",
        "repeated pattern",
        "repeated word",
        "digits only",
        "dev login on",
        "no wechat app id",
        "no wechat secret",
        "wechat over http",
        "no data keys",
        "no lookup key",
        "development data key",
    ],
)
def test_production_refuses_each_insecure_setting(overrides: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        production(**overrides)
    assert says in str(refused.value)


def test_the_entropy_rule() -> None:
    """128 bits by the estimate: 32 random bytes in hex or base64 pass, patterns and small
    alphabets do not, however long."""
    for _ in range(20):
        assert secret_entropy_bits(secrets.token_hex(32)) >= 128
        assert secret_entropy_bits(secrets.token_urlsafe(32)) >= 128
    assert secret_entropy_bits("a" * 100) == 0
    assert secret_entropy_bits("ab" * 500) < 128  # 1 bit a character, but a pattern
    assert secret_entropy_bits("wenming" * 20) < 128


def test_development_is_unchanged() -> None:
    settings = Settings(env=Environment.DEVELOPMENT)
    assert settings.secret_key == PLACEHOLDER_SECRET and settings.dev_login_enabled is True


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    db = tmp_path / "prod.db"
    for key, value in {
        "ENV": "production",
        "SECRET_KEY": STRONG,
        "WECHAT_APP_ID": WECHAT["wechat_app_id"],
        "WECHAT_APP_SECRET": WECHAT["wechat_app_secret"],
        "DATABASE_URL": f"sqlite:///{db}",
        "DATA_KEYS": json.dumps(KEYS["data_keys"]),
        "LOOKUP_KEY": str(KEYS["lookup_key"]),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DEV_LOGIN_ENABLED", raising=False)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [["seed-demo"], ["serve", "--demo"]])
def test_the_demo_is_refused_in_production(production_env: Path, command: list[str]) -> None:
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2, result.output
    assert "演示" in result.output
    assert not production_env.exists()  # refused before touching the database


def test_a_weak_production_secret_stops_the_cli(
    production_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code != 0
    assert not production_env.exists()


def test_create_admin_chooses_a_strong_password(production_env: Path) -> None:
    weak = CliRunner().invoke(cli, ["create-admin", "--username", "root", "--password", "12345678"])
    assert weak.exit_code != 0 and not production_env.exists()


def test_the_image_runs_in_production() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    env_lines = [line for line in dockerfile.splitlines() if "ENV=production" in line]
    assert env_lines, "the Dockerfile must set ENV=production"
    assert "--no-proxy-headers" in dockerfile


# ---------------------------------------------------------------- probes


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready" and r.json()["database"] == "ok"
    assert r.json()["migrations"]["current"] == r.json()["migrations"]["head"]


def test_readyz_refuses_an_unmigrated_database(engine_name: str, tmp_path: Path) -> None:
    with fresh_database(engine_name, tmp_path, migrated=False) as url:
        settings = Settings(
            env=Environment.TEST,
            database_url=url,
            secret_key="test-secret-key-with-enough-length-0123456789",
            scheduler_enabled=False,
        )
        engine = make_engine(url, settings)
        try:
            with TestClient(create_app(settings, database=Database(engine))) as client:
                assert client.get("/healthz").status_code == 200
                r = client.get("/readyz")
                assert r.status_code == 503, r.text
                error = r.json()["error"]
                assert error["code"] == "NOT_READY"
                assert error["details"]["database"] == "ok"
                assert error["details"]["migrations"]["current"] == []
        finally:
            engine.dispose()


def test_readyz_refuses_an_unreachable_database() -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    settings = Settings(
        env=Environment.TEST,
        database_url=url,
        secret_key="test-secret-key-with-enough-length-0123456789",
        scheduler_enabled=False,
    )
    with TestClient(create_app(settings)) as client:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["error"]["details"]["database"].startswith("unreachable")


def test_no_test_leaves_production_on() -> None:
    assert os.environ.get("ENV", "test") != "production"
