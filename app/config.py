"""Settings read from the environment (and an optional `.env` file)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.privacy.crypto import KeySettingError, keyring_from

PLACEHOLDER_SECRET = "change-me-development-only-secret-key"
DEFAULT_SQLITE_PATH = Path("data") / "wenming.db"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    secret_key: str = PLACEHOLDER_SECRET
    access_token_minutes: int = Field(default=12 * 60, ge=5, le=30 * 24 * 60)
    # How long a process may reuse what it read of a user's roles (0: read on every request).
    principal_cache_seconds: float = Field(default=30.0, ge=0, le=300)
    # Phone-number login without a password, for residents and volunteers until WeChat login
    # is wired in. Off by default outside development.
    dev_login_enabled: bool | None = None
    # The city's local time zone: naive times from clients are read in it.
    timezone: str = "Asia/Shanghai"

    default_offer_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    # How often a volunteer may set their home location (registration counts): what they are
    # shown about wishes depends on where they live, so moving at will would let one probe.
    home_moves_per_day: int = Field(default=3, ge=1, le=100)
    home_moves_per_30_days: int = Field(default=10, ge=1, le=1000)
    # Matching: the weight of each factor in a candidate's score (they are normalised).
    match_weights: dict[str, float] = Field(
        default={
            "distance": 0.30,
            "skill": 0.15,
            "theme": 0.15,
            "availability": 0.15,
            "fairness": 0.15,
            "reliability": 0.10,
        }
    )
    # Timers: run the dispatch ladder in this process (the embedded default); turn off where
    # separate `wenming worker` processes run it.
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = Field(default=5.0, gt=0, le=300)
    max_request_bytes: int = Field(default=1_000_000, ge=1_000)
    # Requests holding a database session at once, per process. Keep it below the thread
    # pool's size (40), so that a transaction can always get a thread to commit.
    db_sessions: int = Field(default=16, ge=1, le=32)
    db_pool_size: int = Field(default=16, ge=1)
    db_max_overflow: int = Field(default=4, ge=0)
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)
    # Idempotency-Key: how long a key and its stored response are kept, and how long a request
    # waits for another one with the same key (PostgreSQL) before answering 409.
    idempotency_key_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    idempotency_wait_seconds: float = Field(default=10.0, gt=0, le=300)
    log_json: bool = False

    # Personal data at rest (app/privacy/crypto.py): the data keys by id, as JSON
    # (`{"2027a": "<base64 of 32 random bytes>"}`), the id new values are sealed with (needed
    # when there are several), and the key of the phone lookup hash. Unset: the development
    # keys, which production refuses. `wenming new-key` prints a fresh key.
    data_keys: dict[str, str] | None = None
    data_key_id: str | None = None
    lookup_key: str | None = None
    # Days after a wish is closed, cancelled or rejected until its personal data is erased
    # (full address, contact phone, exact place, check-in fixes).
    retention_days: int = Field(default=365, ge=1, le=3650)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.env == Environment.PRODUCTION and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("SECRET_KEY must be set to a real secret outside development")
        if self.env == Environment.PRODUCTION and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters in production")
        if self.dev_login_enabled is None:
            self.dev_login_enabled = self.env != Environment.PRODUCTION
        if self.env == Environment.PRODUCTION and self.dev_login_enabled:
            raise ValueError("DEV_LOGIN_ENABLED cannot be on in production")
        return self

    @model_validator(mode="after")
    def _check_privacy_keys(self) -> Settings:
        try:
            ring = keyring_from(self.data_keys, self.data_key_id, self.lookup_key)
        except KeySettingError as exc:
            raise ValueError(str(exc)) from None
        if ring.lookup_key in ring.keys.values():
            raise ValueError("LOOKUP_KEY must differ from every key in DATA_KEYS")
        if self.env == Environment.PRODUCTION:
            if not self.data_keys or not self.lookup_key:
                raise ValueError("DATA_KEYS and LOOKUP_KEY must be set in production")
            if ring.is_development:
                raise ValueError("the development data keys cannot be used in production")
        return self

    @model_validator(mode="after")
    def _check_weights(self) -> Settings:
        known = {"distance", "skill", "theme", "availability", "fairness", "reliability"}
        unknown = set(self.match_weights) - known
        if unknown or any(w < 0 for w in self.match_weights.values()):
            raise ValueError(f"MATCH_WEIGHTS: factors are {sorted(known)}, weights >= 0")
        if sum(self.match_weights.values()) <= 0:
            raise ValueError("MATCH_WEIGHTS: at least one weight must be positive")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
