"""Every router of the app is made here, with the route class that gives state-changing
requests their `Idempotency-Key` (app/idempotency.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute

from app import idempotency
from app.db import WRITE_METHODS

F = TypeVar("F", bound=Callable[..., Any])

_NO_KEY = "__takes_no_idempotency_key__"


def changes_nothing(endpoint: F) -> F:
    """Mark a POST endpoint that only computes (it reads through a read-only session): it
    takes no Idempotency-Key, since running it again is the same as replaying it."""
    setattr(endpoint, _NO_KEY, True)
    return endpoint


class Route(APIRoute):
    """A route whose state-changing methods take an optional Idempotency-Key.

    The key is reserved by a dependency in the request's session before the handler runs (or
    the stored response is replayed instead of running it); once the handler has built its
    response, the response is written into the key's row in the same session, so it commits
    (or rolls back) with the request's own changes."""

    takes_keys = True

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | set[str] | None = None,
        dependencies: Sequence[DependsParam] | None = None,
        **kwargs: Any,
    ) -> None:
        self.idempotent = (
            self.takes_keys
            and bool({m.upper() for m in methods or ()} & WRITE_METHODS)
            and not getattr(endpoint, _NO_KEY, False)
        )
        if self.idempotent:
            dependencies = [Depends(idempotency.reserve_key), *(dependencies or ())]
            kwargs["responses"] = _with_in_progress(kwargs.get("responses"))
        super().__init__(
            path,
            endpoint,
            methods=list(methods) if methods is not None else None,
            dependencies=list(dependencies) if dependencies is not None else None,
            **kwargs,
        )

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        if not self.idempotent:
            return handler

        async def keyed(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except idempotency.Replay as replay:
                return replay.stored.response()
            reservation = idempotency.reservation_of(request)
            if reservation is not None:
                await run_in_threadpool(idempotency.record, reservation, response)
            return response

        return keyed


def _with_in_progress(
    responses: dict[int | str, dict[str, Any]] | None,
) -> dict[int | str, dict[str, Any]]:
    """The route's documented responses, with 409 naming IDEMPOTENCY_IN_PROGRESS too (a copy:
    routes share their tables of responses)."""
    merged = dict(responses or {})
    conflict = dict(merged.get(409, {}))
    text = "相同幂等键的请求仍在处理（IDEMPOTENCY_IN_PROGRESS）"
    described = conflict.get("description")
    conflict["description"] = f"{described}；{text}" if described else text
    merged[409] = conflict
    return merged


class KeylessRoute(Route):
    """For `/auth/*`: their responses carry fresh tokens, which must never be stored."""

    takes_keys = False


def make_router(*, idempotency_keys: bool = True, **kwargs: Any) -> APIRouter:
    """An APIRouter whose routes are `Route`s (`KeylessRoute`s with idempotency_keys=False)."""
    return APIRouter(route_class=Route if idempotency_keys else KeylessRoute, **kwargs)
