"""Pure ASGI middleware: the app's settings in force, request ids in logs, and a cap on request
body size."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings, settings_in_use
from app.errors import error_body

log = structlog.get_logger()


class SettingsInUse:
    """Every request runs with the settings the app was built with as the current settings
    (`config.current_settings`), whatever the environment says: time zone, weights, timers."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with settings_in_use(self.settings):
            await self.app(scope, receive, send)


class RequestContext:
    """Binds a request id (taken from `X-Request-ID` or made up) to every log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if status >= 500:
                log.error(
                    "http.request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )


class BodySizeLimit:
    """Refuses bodies over `max_bytes` with 413, whether announced or streamed.

    FastAPI's own `max_body_size` answers an announced oversize body in plain text, outside
    the error shape every client of this API relies on; this keeps one shape for all errors.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Sequence[tuple[str, int]] = ()
    ) -> None:
        """`larger`: (path regex, cap) for the routes that take more, such as file uploads."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = [(re.compile(pattern), cap) for pattern, cap in larger]

    def cap_for(self, path: str) -> int:
        for pattern, cap in self.larger:
            if pattern.fullmatch(path):
                return cap
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        # (A malformed Content-Length never gets here: the HTTP server answers it with 400.)
        if length is not None and (not length.isdigit() or int(length) > cap):
            await self._refuse(send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    # FastAPI passes HTTPExceptions raised while reading the body through to
                    # the error handlers, which render PAYLOAD_TOO_LARGE.
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        body = json.dumps(error_body("PAYLOAD_TOO_LARGE", "请求内容过大"), ensure_ascii=False)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})
