"""Keyset pagination: `limit` (bounded) and an opaque `cursor` naming the last item seen."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from app.errors import BadRequest

T = TypeVar("T")


class _HasId(Protocol):
    @property
    def id(self) -> Any: ...


R = TypeVar("R", bound=_HasId)
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int
    after_id: int | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        kind, _, value = raw.partition(":")
        last_id = int(value)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadRequest("分页游标无效", code="INVALID_CURSOR") from None
    if kind != "id" or not (0 < last_id <= 2_147_483_647):
        raise BadRequest("分页游标无效", code="INVALID_CURSOR")
    return last_id


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=64, description="上一页返回的 next_cursor")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after_id=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


def make_page(rows: Sequence[R], params: PageParams, convert: Callable[[R], T]) -> Page[T]:
    """Build a page from up to `limit + 1` rows fetched in keyset order (each row has `.id`)."""
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(rows[-1].id) if has_more and rows else None
    return Page[T](items=[convert(r) for r in rows], next_cursor=next_cursor)
