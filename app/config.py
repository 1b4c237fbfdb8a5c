"""Settings read from the environment (and an optional `.env` file), and which settings are in
force: an app or a worker runs with the ones it was built with (`current_settings`).

Size: `Settings` declares every environment variable the service reads, each with its bounds
and meaning, in one class an operator can read top to bottom; the rest of the file is small.
"""

from __future__ import annotations

import ipaddress
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import time
from enum import StrEnum
from functools import lru_cache, wraps
from pathlib import Path
from typing import Concatenate, Literal, ParamSpec, Protocol, TypeVar

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.crypto.sealing import Keyring, KeySettingError, keyring_from, set_key_source

PLACEHOLDER_SECRET = "change-me-development-only-secret-key"
# A production SECRET_KEY: at least this many characters and this many bits by the estimate in
# `secret_entropy_bits` (32 random bytes in hex or base64 give 128 and 192 bits).
SECRET_MIN_LENGTH = 32
SECRET_MIN_BITS = 128
DEFAULT_SQLITE_PATH = Path("data") / "wenming.db"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


# Subscription-message template kinds (app/push) and what a template's data may carry.
TEMPLATE_KINDS = ("offer", "wish_update", "task", "todo", "record")
TEMPLATE_SEMANTICS = ("subject", "status", "time", "place", "person", "note")
_TEMPLATE_KEY = re.compile(
    r"^(thing|number|letter|symbol|character_string|time|date|amount|phone_number|car_number"
    r"|name|phrase)\d{1,2}$"
)


class WechatTemplate(BaseModel):
    """One subscription-message template: its id and which data key carries each semantic
    value, e.g. `{"id": "x-Ab…", "fields": {"subject": "thing1", "time": "time2"}}`."""

    id: str = Field(min_length=1, max_length=128)
    fields: dict[str, str] = Field(min_length=1, max_length=10)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    secret_key: str = PLACEHOLDER_SECRET
    # Our own access tokens are short; clients renew them with the refresh token.
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # A session's absolute lifetime (refreshing never extends it): residents and volunteers
    # sign in again silently through WeChat; staff sign in each working day.
    consumer_session_days: int = Field(default=30, ge=1, le=365)
    staff_session_hours: int = Field(default=12, ge=1, le=7 * 24)
    # How long a process may reuse what it read of a session's principal (0: read on every
    # request). Revocations reach every process sooner: see `revocation_poll_seconds`.
    principal_cache_seconds: float = Field(default=30.0, ge=0, le=300)
    # How often (at most) each process reads the revocation feed, and only when requests come.
    revocation_poll_seconds: float = Field(default=1.0, gt=0, le=2)
    # Phone-number login without a password, for the demo. Never in production.
    dev_login_enabled: bool | None = None

    # WeChat mini-program (https://api.weixin.qq.com unless a test or a proxy says otherwise).
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    wechat_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # Subscription messages: template kind → template (JSON); none set: no WeChat pushes.
    wechat_templates: dict[str, WechatTemplate] = Field(default_factory=dict)
    wechat_miniprogram_state: Literal["formal", "trial", "developer"] = "formal"
    # Quiet hours, local time (TIMEZONE): non-urgent pushes wait for their end. Users may
    # turn them off or choose their own.
    quiet_hours_start: time = time(22, 0)
    quiet_hours_end: time = time(7, 0)
    # SMS: "log" writes a masked line and sends nothing; "tencent" is Tencent Cloud SMS.
    sms_provider: Literal["log", "tencent"] = "log"
    sms_daily_cap_per_number: int = Field(default=5, ge=0, le=100)
    sms_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com"
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_secret_id: str | None = None
    tencent_sms_secret_key: str | None = None
    tencent_sms_sdk_app_id: str | None = None
    tencent_sms_sign_name: str | None = None
    # A template with two parameters: {1} the title, {2} the text.
    tencent_sms_template_id: str | None = None

    # Sign-in throttling (`limits` notation, several separated by ';'). In memory in each
    # process, or shared through Redis when REDIS_URL is set.
    redis_url: str | None = None
    # Failed passwords per account from one client address: each tier is a longer lockout
    # (back-off). Per address, so a guesser cannot lock the real user out from elsewhere.
    login_account_limits: str = "5 per 15 minutes; 10 per hour; 20 per day"
    # Failed passwords per account from all addresses together: bounds a guesser spread over
    # many addresses (and is what such a guesser can use to lock an account).
    login_account_total_limits: str = "30 per hour; 100 per day"
    # Password attempts per client address (every attempt costs a hash): a short and a long
    # window.
    login_ip_limits: str = "20 per minute; 200 per hour"
    # WeChat sign-ins per client address.
    wechat_login_ip_limits: str = "30 per minute; 300 per hour"
    # A refused (throttled) sign-in is answered after this pause: a client hammering in a loop
    # gets one answer a second per connection, and the pause costs the server nothing.
    login_refusal_delay_seconds: float = Field(default=1.0, ge=0, le=10)
    # Password hashes (Argon2, every core for tens of milliseconds) running at once, per process.
    password_hash_concurrency: int = Field(default=1, ge=1, le=16)
    # Proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
    trusted_proxies: str = ""
    # The city's local time zone: naive times from clients are read in it.
    timezone: str = "Asia/Shanghai"

    # Outgoing webhooks (app/webhooks): each POST bounded (connect apart); a rotated secret
    # still signs beside the new one for the grace period; a receiver's Retry-After is obeyed
    # up to the cap. Addresses must be https:// in production.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_connect_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    webhook_secret_grace_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    webhook_retry_after_max_seconds: int = Field(default=3600, ge=1, le=24 * 3600)

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
    # Workers (timers and deliveries, in this process or in `wenming worker`): how long a claim
    # holds (a worker that dies loses its claims after this; running work renews it), and the
    # bounds on every wait of a worker transaction on PostgreSQL (on SQLite the busy timeout,
    # SQLITE_BUSY_TIMEOUT_SECONDS, bounds them).
    worker_lease_seconds: float = Field(default=120.0, ge=5, le=3600)
    worker_lock_timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    worker_statement_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # A timer whose step failed (e.g. a lock not granted in time) runs again after this,
    # doubling with each failure (up to an hour).
    worker_retry_base_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Deliveries (app/delivery): how often an idle worker looks for due messages, how many it
    # claims at once, how many attempts before a message is dead-lettered, and the retry
    # back-off (exponential from the base, capped, with full jitter).
    delivery_interval_seconds: float = Field(default=1.0, gt=0, le=300)
    delivery_batch: int = Field(default=20, ge=1, le=500)
    # Delivery threads per process: each has one message in flight at a time.
    delivery_concurrency: int = Field(default=4, ge=1, le=64)
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    delivery_backoff_base_seconds: float = Field(default=10.0, gt=0, le=3600)
    delivery_backoff_cap_seconds: float = Field(default=3600.0, gt=0, le=7 * 24 * 3600)
    max_request_bytes: int = Field(default=1_000_000, ge=1_000)
    # Bulk import (app/imports): an uploaded sheet may be larger than any other request body,
    # up to `import_max_bytes`, with at most `import_max_rows` rows; files of more than
    # `import_background_rows` rows are written by the background timer while the client polls.
    # Staff sheets hash an initial password per row inside the write transaction, so they are
    # kept to `import_staff_max_rows` and always written within the request.
    import_max_bytes: int = Field(default=5_000_000, ge=10_000, le=100_000_000)
    import_max_rows: int = Field(default=5000, ge=1, le=100_000)
    import_background_rows: int = Field(default=200, ge=1)
    import_staff_max_rows: int = Field(default=200, ge=1, le=5000)
    # Row errors kept on an import (the count of all of them is kept too).
    import_max_errors: int = Field(default=500, ge=10, le=10_000)
    # Batch dispatch (app/dispatch/batch): a reviewed plan of more than `batch_background_offers`
    # lines is sent by a background timer, `batch_apply_chunk` lines per transaction (the
    # slices follow one another in one scheduler pass; each commits its progress and, on SQLite,
    # lets other writers in between), while the client polls its progress; smaller plans are
    # sent within the request.
    batch_background_offers: int = Field(default=200, ge=1)
    batch_apply_chunk: int = Field(default=100, ge=1, le=5000)
    # Requests holding a database session at once, per process. Keep it below the thread
    # pool's size (40), so that a transaction can always get a thread to commit.
    db_sessions: int = Field(default=16, ge=1, le=32)
    db_pool_size: int = Field(default=16, ge=1)
    # Expensive reads (statistics, ranking, ledger files, import uploads) running at once, per
    # process and per caller (app/heavy.py): fewer than DB_SESSIONS, so that a flood of them
    # leaves sessions for everything else. Over either bound: 429 at once.
    heavy_requests: int = Field(default=4, ge=1, le=32)
    heavy_requests_per_user: int = Field(default=2, ge=1, le=32)
    db_max_overflow: int = Field(default=4, ge=0)
    # PostgreSQL: a statistics overview's sections run on this many connections at once, all
    # on the request's snapshot (app/stats/together.py); 1 runs them in the request's own.
    # Each expensive request then holds 1 + this many sessions (HEAVY_REQUESTS of them).
    stats_connections: int = Field(default=2, ge=1, le=8)
    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0)
    # Idempotency-Key: how long a key and its stored response are kept, and how long a request
    # waits for another one with the same key (PostgreSQL) before answering 409.
    idempotency_key_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    idempotency_wait_seconds: float = Field(default=10.0, gt=0, le=300)
    log_json: bool = False

    # Personal data at rest (app/crypto/sealing.py): the data keys by id, as JSON
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
        if self.dev_login_enabled is None:
            self.dev_login_enabled = self.env != Environment.PRODUCTION
        if self.env == Environment.PRODUCTION:
            problems = production_problems(self)
            if problems:
                raise ValueError("production settings refused: " + "; ".join(problems))
        self.trusted_proxy_networks  # noqa: B018 - refuses a malformed TRUSTED_PROXIES now
        for text in (
            self.login_account_limits,
            self.login_account_total_limits,
            self.login_ip_limits,
            self.wechat_login_ip_limits,
        ):
            _parse_limits(text)
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

    @model_validator(mode="after")
    def _check_push(self) -> Settings:
        for kind, template in self.wechat_templates.items():
            if kind not in TEMPLATE_KINDS:
                raise ValueError(f"WECHAT_TEMPLATES: kinds are {list(TEMPLATE_KINDS)}")
            for semantic, key in template.fields.items():
                if semantic not in TEMPLATE_SEMANTICS or not _TEMPLATE_KEY.match(key):
                    raise ValueError(
                        f"WECHAT_TEMPLATES[{kind}]: fields map {list(TEMPLATE_SEMANTICS)} to "
                        f"data keys such as thing1, time2 (got {semantic!r}: {key!r})"
                    )
        if self.quiet_hours_start == self.quiet_hours_end:
            raise ValueError("QUIET_HOURS_START and QUIET_HOURS_END must differ")
        if self.sms_provider == "tencent":
            missing = [
                name.upper()
                for name in (
                    "tencent_sms_secret_id",
                    "tencent_sms_secret_key",
                    "tencent_sms_sdk_app_id",
                    "tencent_sms_sign_name",
                    "tencent_sms_template_id",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError("SMS_PROVIDER=tencent needs " + ", ".join(missing))
        return self

    @model_validator(mode="after")
    def _check_worker_timeouts(self) -> Settings:
        # A worker transaction must end (by its statement timeout) before its lease runs out,
        # or another worker could take the claim while the first still works on it.
        if self.worker_statement_timeout_seconds >= self.worker_lease_seconds:
            raise ValueError("WORKER_STATEMENT_TIMEOUT_SECONDS must be below WORKER_LEASE_SECONDS")
        if self.delivery_backoff_base_seconds > self.delivery_backoff_cap_seconds:
            raise ValueError("DELIVERY_BACKOFF_BASE_SECONDS must not exceed the cap")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.env == Environment.PRODUCTION

    @property
    def wechat_configured(self) -> bool:
        return bool(self.wechat_app_id and self.wechat_app_secret)

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        networks = []
        for part in self.trusted_proxies.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ValueError(f"TRUSTED_PROXIES: {part!r} is not an address or network") from exc
        return tuple(networks)


def secret_entropy_bits(secret: str) -> float:
    """An estimate of a secret's strength, the lower of two:

    - its length times the Shannon entropy of its own characters (small alphabets and skewed
      characters score low: a random hex string scores about 4 bits a character, base64 6);
    - the bits of its raw DEFLATE compression (repeated patterns score low: "abcd" * 16 has
      2 bits a character by the first measure, but compresses to a few bytes).
    """
    if not secret:
        return 0.0
    counts = Counter(secret)
    n = len(secret)
    per_char = -sum(c / n * math.log2(c / n) for c in counts.values())
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = len(deflate.compress(secret.encode()) + deflate.flush())
    return min(per_char * n, 8.0 * compressed)


def production_problems(settings: Settings) -> list[str]:
    """Every reason these settings are unsafe for production (empty: safe)."""
    problems = []
    secret = settings.secret_key
    if secret == PLACEHOLDER_SECRET or "change-me" in secret.lower():
        problems.append("SECRET_KEY is the development placeholder")
    elif len(secret) < SECRET_MIN_LENGTH:
        problems.append(f"SECRET_KEY must be at least {SECRET_MIN_LENGTH} characters")
    elif secret_entropy_bits(secret) < SECRET_MIN_BITS:
        problems.append(
            f"SECRET_KEY is too predictable (under {SECRET_MIN_BITS} bits by its character "
            "distribution): use e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    if settings.dev_login_enabled:
        problems.append("DEV_LOGIN_ENABLED cannot be on in production")
    if not settings.wechat_app_id or not settings.wechat_app_secret:
        problems.append("WECHAT_APP_ID and WECHAT_APP_SECRET are required in production")
    if not settings.wechat_api_base.startswith("https://"):
        problems.append("WECHAT_API_BASE must be an https:// address in production")
    return problems


def _parse_limits(text: str) -> None:
    from limits import parse_many

    try:
        if not parse_many(text):
            raise ValueError
    except ValueError as exc:
        raise ValueError(f"not a rate limit in `limits` notation: {text!r}") from exc


@lru_cache
def get_settings() -> Settings:
    """The settings the environment describes: what an app, a worker or a command is built
    with when it is given none. Domain code reads `current_settings()` instead."""
    return Settings()


_IN_USE: ContextVar[Settings | None] = ContextVar("settings_in_use", default=None)


def current_settings() -> Settings:
    """The settings of the app or worker this code runs for: those it was built with (the app's
    middleware sets them for each request, a worker for each of its steps); outside any, the
    environment's."""
    in_use = _IN_USE.get()
    return in_use if in_use is not None else get_settings()


@contextmanager
def settings_in_use(settings: Settings) -> Iterator[None]:
    """Run a block with `settings` as the current settings."""
    token = _IN_USE.set(settings)
    try:
        yield
    finally:
        _IN_USE.reset(token)


class _HasSettings(Protocol):
    settings: Settings


P = ParamSpec("P")
R = TypeVar("R")
W = TypeVar("W", bound=_HasSettings)


def with_own_settings(
    method: Callable[Concatenate[W, P], R],
) -> Callable[Concatenate[W, P], R]:
    """A worker's method runs with the worker's own settings as the current settings."""

    @wraps(method)
    def run(self: W, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with settings_in_use(self.settings):
            return method(self, *args, **kwargs)

    return run


def _settings_keyring() -> Keyring:
    settings = get_settings()
    return keyring_from(settings.data_keys, settings.data_key_id, settings.lookup_key)


# The process's keys for sealed columns come from the settings (app/crypto imports nothing
# above it, so the settings tell it where its keys are).
set_key_source(_settings_keyring)
