"""Sign-in throttling with the `limits` library: per account and per client address.

Counts live in memory in each process (the embedded default), or in Redis when `REDIS_URL` is
set, so that several processes share them. Windows are moving windows:

- password attempts per client address (`LOGIN_IP_LIMITS`), counted before the password is
  hashed, so a storm of attempts costs no hashing once it is over the limit;
- failed passwords per account from one client address (`LOGIN_ACCOUNT_LIMITS`): several
  tiers, each a longer lockout (5 in 15 minutes locks for up to 15 minutes, 10 in an hour for up
  to an hour, 20 in a day for up to a day): the back-off grows with repeated failures. A success
  from that address clears its count. Keyed by account *and* address, so that someone guessing
  from one address cannot lock the real user out from another;
- failed passwords per account from all addresses together (`LOGIN_ACCOUNT_TOTAL_LIMITS`,
  higher): bounds a guesser spread over many addresses. A success does not clear it (the real
  user signing in must not reset a distributed guesser's budget);
- WeChat sign-ins per client address (`WECHAT_LOGIN_IP_LIMITS`).

A refusal is `429 LOGIN_THROTTLED` with `Retry-After` (seconds until the earliest window frees).
If Redis cannot be reached, the process counts in memory instead and logs it: throttling stays
on, shared counts resume when Redis is back.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Sequence

import structlog
from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.auth.errors import LoginThrottled
from app.config import Settings

log = structlog.get_logger()


class LoginThrottle:
    def __init__(self, settings: Settings, *, namespace: str = "wenming") -> None:
        self.namespace = namespace
        self.shared = settings.redis_url is not None
        storage: Storage = (
            storage_from_string(settings.redis_url)  # type: ignore[assignment]
            if settings.redis_url
            else MemoryStorage()
        )
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self.account_limits = parse_many(settings.login_account_limits)
        self.account_total_limits = parse_many(settings.login_account_total_limits)
        self.ip_limits = parse_many(settings.login_ip_limits)
        self.wechat_ip_limits = parse_many(settings.wechat_login_ip_limits)

    # ------------------------------------------------------------ the checks

    def before_password(self, *, username: str, ip: str) -> None:
        """Refuse if the account is locked or the address over its limit; else count the
        attempt against the address. Costs no hashing."""
        for limits, key, reason in self._account_keys(username, ip):
            locked = [limit for limit in limits if not self._test(limit, key)]
            if locked:
                self._refuse(locked, key, reason=reason)
        self._hit_all(self.ip_limits, ("ip", ip), reason="ip")

    def password_failed(self, *, username: str, ip: str) -> None:
        for limits, key, _ in self._account_keys(username, ip):
            for limit in limits:
                self._call("hit", limit, key)

    def password_succeeded(self, *, username: str, ip: str) -> None:
        pair = ("account-ip", f"{username.lower()}|{ip}")
        for limit in self.account_limits:
            self._call("clear", limit, pair)

    def before_wechat(self, *, ip: str) -> None:
        self._hit_all(self.wechat_ip_limits, ("wechat-ip", ip), reason="wechat_ip")

    def reset(self) -> None:
        """Forget every count (tests)."""
        self.storage.reset()
        self._fallback = MovingWindowRateLimiter(MemoryStorage())

    # ------------------------------------------------------------ plumbing

    def _account_keys(
        self, username: str, ip: str
    ) -> tuple[tuple[list[RateLimitItem], tuple[str, str], str], ...]:
        name = username.lower()
        return (
            (self.account_limits, ("account-ip", f"{name}|{ip}"), "account"),
            (self.account_total_limits, ("account", name), "account_total"),
        )

    def _ids(self, key: tuple[str, str]) -> tuple[str, ...]:
        return (self.namespace, *key)

    def _call(self, method: str, limit: RateLimitItem, key: tuple[str, str]) -> object:
        ids = self._ids(key)
        try:
            return getattr(self.limiter, method)(limit, *ids)
        except Exception as exc:  # Redis down or unreachable: count in this process instead
            log.error("throttle.storage_unavailable", error=type(exc).__name__)
            return getattr(self._fallback, method)(limit, *ids)

    def _test(self, limit: RateLimitItem, key: tuple[str, str]) -> bool:
        return bool(self._call("test", limit, key))

    def _hit_all(self, limits: Sequence[RateLimitItem], key: tuple[str, str], reason: str) -> None:
        refused = [limit for limit in limits if not self._call("hit", limit, key)]
        if refused:
            self._refuse(refused, key, reason=reason)

    def _refuse(self, limits: list[RateLimitItem], key: tuple[str, str], *, reason: str) -> None:
        now = time.time()
        waits = []
        for limit in limits:
            stats = self._call("get_window_stats", limit, key)
            reset_time = getattr(stats, "reset_time", now + limit.get_expiry())
            waits.append(max(1, math.ceil(reset_time - now)))
        retry_after = max(waits)
        log.warning("auth.throttled", reason=reason, retry_after=retry_after)
        raise LoginThrottled(
            details={"retry_after_seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def client_ip(request: Request, settings: Settings) -> str:
    """The caller's address: the connection's peer, or, when the peer is a trusted proxy, the
    nearest address in X-Forwarded-For that is not a trusted proxy."""
    peer = request.client.host if request.client else ""
    trusted = settings.trusted_proxy_networks
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed entry: trust nothing further left
        address = hop
        if not _is_trusted(hop, trusted):
            break
    return address


def _is_trusted(
    address: str, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
