"""Serves the console: its page at `/console` and `/console/`, its files under
`/console/static/`.

Outside `/api/v1` and the OpenAPI document; GET only, so its routes take no Idempotency-Key.
Every answer carries a Content-Security-Policy that allows the console's own origin only (no
inline script or style, no other host), so data shown in the page can never run as code.
Files are served with `Cache-Control: no-cache` and an ETag: their names carry no version (no
build step), so the browser revalidates each one and gets a 304 while it is unchanged.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import Request, Response

from app.console.errors import AssetNotFound
from app.routing import make_router

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/console"

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

router = make_router(include_in_schema=False)


def _headers(etag: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "Cache-Control": "no-cache",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


@lru_cache(maxsize=256)
def _read(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    body = path.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _asset(relative: str) -> Path:
    """The file under static/ that `relative` names, or AssetNotFound: no dot-segments, no
    hidden files, no absolute or backslashed names, a known type, inside static/."""
    parts = relative.split("/")
    if (
        not relative
        or "\\" in relative
        or "\x00" in relative
        or any(not part or part.startswith(".") for part in parts)
    ):
        raise AssetNotFound()
    path = (STATIC / relative).resolve()
    if not path.is_relative_to(STATIC) or path.suffix not in MEDIA_TYPES or not path.is_file():
        raise AssetNotFound()
    return path


def _serve(path: Path, request: Request) -> Response:
    body, etag = _read(path, path.stat().st_mtime_ns)
    headers = _headers(etag)
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPES[path.suffix], headers=headers)


@router.get(PREFIX)
@router.get(f"{PREFIX}/")
def index(request: Request) -> Response:
    """The console's only page; the hash names the view (`/console/#/review`)."""
    return _serve(STATIC / "index.html", request)


@router.get(f"{PREFIX}/static/{{relative:path}}")
def asset(relative: str, request: Request) -> Response:
    return _serve(_asset(relative), request)
