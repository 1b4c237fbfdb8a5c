"""WeChat's server access token, shared by every process through the database.

One row per app id in `wechat_access_tokens` holds the token and its expiry. A process uses the
stored token while it has more than `REFRESH_MARGIN` left; otherwise one process at a time
takes the row's lease (a conditional UPDATE), fetches a token from the stable-token API and
stores it. The others keep using the old token while it is valid (WeChat keeps both valid for
five minutes around a refresh) or wait briefly for the refresher. The stable-token API in its
normal mode returns the same token to every caller, so processes never invalidate each
other's token; `force_refresh` is used only after WeChat rejected the stored token, and only
if no other process has replaced it meanwhile. No transaction is open while WeChat is called.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import clock
from app.db import Database
from app.models import WechatAccessToken
from app.wechat.client import WechatClient
from app.wechat.errors import AccessTokenRejected, WechatBusy

REFRESH_MARGIN = timedelta(minutes=5)
LEASE = timedelta(seconds=30)
WAIT_SECONDS = 10.0
_OWNER = f"{socket.gethostname()[:40]}:{os.getpid()}"

T = TypeVar("T")


def _stored(database: Database, app_id: str) -> tuple[str | None, datetime | None]:
    with database.session(write=False) as session:
        row = session.execute(
            select(WechatAccessToken.access_token, WechatAccessToken.expires_at).where(
                WechatAccessToken.app_id == app_id
            )
        ).one_or_none()
    return (row.access_token, row.expires_at) if row is not None else (None, None)


def _take_lease(database: Database, app_id: str, *, unless_token_is_not: str | None) -> bool:
    """Take the refresh lease while the stored token still needs replacing (none, or near its
    expiry; with `unless_token_is_not`, while that rejected token is still the stored one):
    a process that read the row before another stored a fresh token does not fetch again."""
    now = clock.now()
    with database.session(write=True) as session, session.begin():
        if session.get(WechatAccessToken, app_id) is None:
            try:
                with session.begin_nested():
                    session.add(WechatAccessToken(app_id=app_id))
            except IntegrityError:
                pass  # another process created the row
        query = (
            update(WechatAccessToken)
            .where(
                WechatAccessToken.app_id == app_id,
                WechatAccessToken.lease_until.is_(None) | (WechatAccessToken.lease_until < now),
            )
            .values(lease_until=now + LEASE, lease_owner=_OWNER)
        )
        if unless_token_is_not is not None:
            query = query.where(WechatAccessToken.access_token == unless_token_is_not)
        else:
            query = query.where(
                WechatAccessToken.access_token.is_(None)
                | WechatAccessToken.expires_at.is_(None)
                | (WechatAccessToken.expires_at <= now + REFRESH_MARGIN)
            )
        return bool(session.execute(query).rowcount == 1)  # type: ignore[attr-defined]


def _store(database: Database, app_id: str, token: str | None, expires_at: datetime | None) -> None:
    with database.session(write=True) as session, session.begin():
        values: dict[str, object] = {"lease_until": None, "lease_owner": None}
        if token is not None:
            values |= {"access_token": token, "expires_at": expires_at}
        session.execute(
            update(WechatAccessToken)
            .where(WechatAccessToken.app_id == app_id, WechatAccessToken.lease_owner == _OWNER)
            .values(**values)
        )


def _usable(token: str | None, expires_at: datetime | None, margin: timedelta) -> bool:
    return token is not None and expires_at is not None and expires_at - clock.now() > margin


def access_token(database: Database, client: WechatClient, *, rejected: str | None = None) -> str:
    """A valid access token; `rejected` names a token WeChat just refused."""
    app_id = client.app_id
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        token, expires_at = _stored(database, app_id)
        if rejected is None and _usable(token, expires_at, REFRESH_MARGIN):
            assert token is not None
            return token
        if rejected is not None and token != rejected and _usable(token, expires_at, timedelta()):
            assert token is not None
            return token  # someone already replaced the rejected token
        force = rejected is not None
        if _take_lease(database, app_id, unless_token_is_not=rejected if force else None):
            try:
                fresh = client.stable_token(force_refresh=force)
            except BaseException:
                _store(database, app_id, None, None)  # release the lease
                raise
            _store(
                database,
                app_id,
                fresh.access_token,
                clock.now() + timedelta(seconds=fresh.expires_in),
            )
            return fresh.access_token
        if rejected is None and _usable(token, expires_at, timedelta()):
            assert token is not None
            return token  # another process is refreshing; the old token is still good
        if time.monotonic() > deadline:
            raise WechatBusy()
        time.sleep(0.1)


def with_access_token(database: Database, client: WechatClient, call: Callable[[str], T]) -> T:
    """Run `call(token)`; if WeChat rejects the token, refresh it and retry once."""
    token = access_token(database, client)
    try:
        return call(token)
    except AccessTokenRejected:
        token = access_token(database, client, rejected=token)
    try:
        return call(token)
    except AccessTokenRejected:
        raise WechatBusy() from None
