"""Retries that never double: the `Idempotency-Key` header of state-changing requests.

Mobile networks drop replies and clients retry. A request that changes something may carry
`Idempotency-Key: <1–255 printable ASCII characters>` (a UUID, say). Keys belong to the signed-in
user and live for 24 hours (`IDEMPOTENCY_KEY_HOURS`), with the semantics payment APIs use:

- the same key with the same request (method, path, query and body; a JSON body compared by
  value) gets the stored first response — status, body and content type, marked with the header
  `Idempotent-Replayed: true` — and changes nothing;
- the same key with another request is refused: 422 `IDEMPOTENCY_KEY_REUSED`;
- a request that arrives while the first with its key is still running waits for it and then
  gets its response; after `IDEMPOTENCY_WAIT_SECONDS` it is answered 409
  `IDEMPOTENCY_IN_PROGRESS` (on SQLite it waits like every writer, for the write lock);
- a malformed key is a request validation error (422 `VALIDATION_ERROR` on the header).

How it stays atomic: the key's row and the request's effect commit in one transaction, the
request's own (app/db.get_session commits after the handler has built its response).
1. `reserve_key`, a dependency of every state-changing route that shares the request's session,
   inserts the key's row before the handler runs. On PostgreSQL a concurrent request with the
   same key blocks on the unique index until the first commits or rolls back, then finds its
   row (or inserts its own); on SQLite writers run one at a time from `BEGIN IMMEDIATE`.
2. The route class (app/routing.py) writes the handler's response into that row, in the same
   session, before the transaction commits.
A request that fails rolls back with its key, so errors are not stored: unlike a payment
network, an error here changes nothing (one transaction per request), so running the request
again is exactly right, and a retry after, say, a 409 sees the state as it is now.

`/auth/*` takes no key: those responses carry fresh tokens, which must never be stored.

The stored body can hold personal data (a wish's address and phone, a volunteer's name): it is
written and read only through `seal` and `unseal`, which encrypt it at rest with the data key in
force (app/crypto/sealing.py; `wenming reencrypt` moves it to a new key like every sealed value).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import structlog
from fastapi import Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Insert, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import clock
from app.auth.deps import CurrentUser
from app.config import Settings
from app.crypto.sealing import keyring
from app.db import SessionDep
from app.errors import AppError, Conflict
from app.models import IdempotencyKey

log = structlog.get_logger()

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x20-\x7e]+$"  # printable ASCII
KEY_MAX_LENGTH = 255
SCOPE_KEY = "wenming.idempotency"  # the request's reservation, in the ASGI scope
PURGE_BATCH = 1000
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout ran out

HEADER_DESCRIPTION = (
    "可选。幂等键（1–255 个可打印 ASCII 字符，建议每次操作生成一个 UUID，重试时沿用）。"
    "同一用户以同一幂等键重发相同的请求（方法、路径、请求体相同）时，返回第一次的响应"
    f"（响应头 {REPLAYED_HEADER}: true），不会重复执行；同一幂等键用于不同的请求时返回 "
    "422 IDEMPOTENCY_KEY_REUSED；第一次的请求仍在处理时等待其完成，等待过久返回 "
    "409 IDEMPOTENCY_IN_PROGRESS。失败的请求不保存结果，可用同一幂等键重试。幂等键保留 24 小时。"
)


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "该幂等键已用于另一个不同的请求，请为新的操作生成新的幂等键"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
    message = "使用相同幂等键的请求正在处理中，请稍后重试"


# ---------------------------------------------------------------- the stored body


BODY_CONTEXT = "idempotency_keys.response_body"


def seal(body: bytes) -> bytes:
    """The bytes stored for a response body: sealed with the data key in force (it can hold a
    wish's address and phone, a volunteer's name; see app/crypto/sealing.py)."""
    return keyring().encrypt_bytes(body, BODY_CONTEXT).encode("ascii")


def unseal(stored: bytes) -> bytes:
    """The response body back from what `seal` stored."""
    return keyring().decrypt_bytes(stored.decode("ascii"), BODY_CONTEXT)


# ---------------------------------------------------------------- what "the same request" is


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """SHA-256 over the method, path, query and body; a JSON body by value (key order and
    spacing do not matter), any other body byte for byte."""
    try:
        value = json.loads(body)
    except ValueError:  # not JSON (or empty): the bytes themselves
        canonical = b"r" + body
    else:
        canonical = (
            b"j"
            + json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        )
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


async def body_of(request: Request) -> bytes:
    """What a request sends, for its fingerprint: the body's bytes, or for a form (a file
    upload) its fields and files in order, without the multipart boundary, which clients
    choose afresh on every send (FastAPI has parsed the form already and kept it)."""
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await request.body()
    parts: list[bytes] = [b"form"]
    for name, value in (await request.form()).multi_items():
        if isinstance(value, str):
            parts += [name.encode(), b"s", value.encode()]
        else:
            content = await value.read()
            await value.seek(0)
            parts += [name.encode(), b"f", (value.filename or "").encode(), content]
    return b"".join(len(part).to_bytes(8, "big") + part for part in parts)


# ---------------------------------------------------------------- reserving a key


@dataclass(frozen=True)
class Reservation:
    """A key's row inserted by this request, to be filled in with its response."""

    row_id: int
    session: Session


@dataclass(frozen=True)
class Stored:
    """The response a key already holds."""

    status_code: int
    content_type: str | None
    body: bytes

    def response(self) -> Response:
        headers = {REPLAYED_HEADER: "true"}
        if self.content_type:
            headers["content-type"] = self.content_type
        return Response(content=self.body, status_code=self.status_code, headers=headers)


class Replay(Exception):
    """Raised by `reserve_key` to answer with the stored response instead of running the
    handler; the route class (app/routing.py) turns it into that response."""

    def __init__(self, stored: Stored) -> None:
        super().__init__("idempotent replay")
        self.stored = stored


def _insert_statement(dialect: str) -> Insert:
    insert_for = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return (
        insert_for(IdempotencyKey)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IdempotencyKey.id)
    )


@contextmanager
def _waiting_at_most(session: Session, seconds: float) -> Iterator[None]:
    """On PostgreSQL, lock waits inside the block (on the key's row or on a transaction that is
    inserting it) give up after `seconds`: 409 IDEMPOTENCY_IN_PROGRESS. The setting is local to
    the transaction and restored after the block. On SQLite a transaction that writes holds
    the write lock from its start, so nothing here waits."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.scalar(text("SELECT current_setting('lock_timeout')"))
    session.execute(
        text("SELECT set_config('lock_timeout', :wait, true)"),
        {"wait": f"{max(1, round(seconds * 1000))}ms"},
    )
    try:
        yield
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise IdempotencyInProgress() from exc
        raise
    session.execute(text("SELECT set_config('lock_timeout', :before, true)"), {"before": before})


def reserve(
    session: Session,
    *,
    user_id: int,
    key: str,
    request_hash: str,
    method: str,
    path: str,
    settings: Settings,
    now: datetime,
) -> Reservation | Stored:
    """This request's row for the key, or the response the key already holds.

    Raises IdempotencyKeyReused when the key was first used for another request, and
    IdempotencyInProgress when the request holding it runs for too long."""
    with _waiting_at_most(session, settings.idempotency_wait_seconds):
        return _reserve(
            session,
            user_id=user_id,
            key=key,
            request_hash=request_hash,
            method=method,
            path=path,
            hours=settings.idempotency_key_hours,
            now=now,
        )


def _reserve(
    session: Session,
    *,
    user_id: int,
    key: str,
    request_hash: str,
    method: str,
    path: str,
    hours: float,
    now: datetime,
) -> Reservation | Stored:
    statement = _insert_statement(session.get_bind().dialect.name).values(
        user_id=user_id,
        key=key,
        request_hash=request_hash,
        method=method,
        path=path[:500],
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    for _ in range(3):
        # On PostgreSQL, a row another transaction is inserting makes this wait for it.
        row_id = session.execute(statement).scalar_one_or_none()
        if row_id is not None:
            return Reservation(row_id, session)
        found = session.execute(
            select(
                IdempotencyKey.request_hash,
                IdempotencyKey.method,
                IdempotencyKey.path,
                IdempotencyKey.status_code,
                IdempotencyKey.content_type,
                IdempotencyKey.response_body,
                IdempotencyKey.expires_at,
            ).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        ).one_or_none()
        if found is None:  # expired and deleted in between: take it
            continue
        if found.expires_at <= now:
            # A key past its lifetime is free again (the scheduler deletes the rest in bulk).
            session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.user_id == user_id,
                    IdempotencyKey.key == key,
                    IdempotencyKey.expires_at <= now,
                ),
                execution_options={"synchronize_session": False},
            )
            continue
        if found.request_hash != request_hash:
            raise IdempotencyKeyReused(details={"method": found.method, "path": found.path})
        if found.status_code is None or found.response_body is None:
            raise IdempotencyInProgress()  # not expected: rows commit with their response
        return Stored(found.status_code, found.content_type, unseal(found.response_body))
    raise IdempotencyInProgress()


def record(reservation: Reservation, response: Response) -> None:
    """Write the handler's response into the key's row, in the request's transaction."""
    body = getattr(response, "body", None)
    session = reservation.session
    if not isinstance(body, bytes):
        # A streamed response cannot be replayed: keep no key rather than a key without one.
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == reservation.row_id))
        log.warning("idempotency.not_stored", reason="streamed response")
        return
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == reservation.row_id)
        .values(
            status_code=response.status_code,
            content_type=response.headers.get("content-type"),
            response_body=seal(body),
        ),
        execution_options={"synchronize_session": False},
    )


async def reserve_key(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=KEY_MAX_LENGTH,
            pattern=KEY_PATTERN,
            description=HEADER_DESCRIPTION,
        ),
    ] = None,
) -> None:
    """The route dependency: reserve the key (or replay its response) before the handler."""
    if key is None:
        return
    settings: Settings = request.app.state.settings
    method, path = request.method, request.url.path
    request_hash = fingerprint(method, path, request.url.query, await body_of(request))
    found = await run_in_threadpool(
        lambda: reserve(
            session,
            user_id=principal.user_id,
            key=key,
            request_hash=request_hash,
            method=method,
            path=path,
            settings=settings,
            now=clock.now(),
        )
    )
    if isinstance(found, Stored):
        log.info("idempotency.replayed", path=path, status=found.status_code)
        raise Replay(found)
    request.scope[SCOPE_KEY] = found


def reservation_of(request: Request) -> Reservation | None:
    found = request.scope.get(SCOPE_KEY)
    return found if isinstance(found, Reservation) else None


# ---------------------------------------------------------------- expiry


def purge_expired(session: Session, now: datetime, batch: int = PURGE_BATCH) -> int:
    """Delete up to `batch` expired keys; how many went."""
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.expires_at <= now)
        .order_by(IdempotencyKey.expires_at)
        .limit(batch)
        .scalar_subquery()
    )
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.id.in_(expired)),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
