"""Running the Alembic migrations from code (CLI, tests, benchmarks)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from app.db import normalise_url


def alembic_config(database_url: str) -> Config:
    candidates = [
        os.environ.get("ALEMBIC_CONFIG"),
        Path.cwd() / "alembic.ini",
        Path(__file__).resolve().parents[1] / "alembic.ini",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            config = Config(str(candidate))
            break
    else:
        raise FileNotFoundError("alembic.ini not found (set ALEMBIC_CONFIG)")
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Fails if the models and the migrations disagree."""
    command.check(alembic_config(database_url))
