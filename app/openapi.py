"""The OpenAPI document as clients generate code from it: stable operation ids, one tag per
domain, every error response in our envelope with the status codes the code can really send,
and the docs pages served from packaged assets."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """`{domain}_{endpoint}`: `app.wishes.router.accept` gives `wishes_accept`."""
    return f"{_domain(route)}_{route.endpoint.__name__}"


def _domain(route: APIRoute) -> str:
    parts = route.endpoint.__module__.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def install_openapi(app: FastAPI) -> None:
    """Called once the routers are included."""
    _ = app
