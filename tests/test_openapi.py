"""The OpenAPI document clients generate code from (app/openapi.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine

from app.config import Environment, Settings
from app.db import Database
from app.main import API_PREFIX, create_app
from tests.conftest import TEST_SECRET

METHODS = {"get", "post", "put", "patch", "delete"}


def _schema_app() -> FastAPI:
    """An app for its document only (dev sign-in included, so that every operation is there)."""
    schema_settings = Settings(
        env=Environment.TEST,
        database_url="sqlite://",
        secret_key=TEST_SECRET,
        scheduler_enabled=False,
        dev_login_enabled=True,
    )
    return create_app(schema_settings, database=Database(create_engine("sqlite://")))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return _schema_app().openapi()


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every operation of the document by its id."""
    return {
        op["operationId"]: op
        for item in document["paths"].values()
        for method, op in item.items()
        if method in METHODS
    }


def operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    op: dict[str, Any] = document["paths"][API_PREFIX + path][method]
    return op


def test_operation_ids_are_unique_and_readable(document: dict[str, Any]) -> None:
    ids = [
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if method in METHODS
    ]
    assert len(ids) > 100
    assert len(ids) == len(set(ids))
    for op_id in ids:
        assert re.fullmatch(r"[a-z]+_[a-z0-9_]+", op_id), op_id


def test_operation_ids_name_the_domain_and_the_endpoint(document: dict[str, Any]) -> None:
    assert operation(document, "/wishes/{wish_id}/accept", "post")["operationId"] == (
        "wishes_accept"
    )
    assert operation(document, "/wishes", "post")["operationId"] == "wishes_create"
    assert operation(document, "/auth/login", "post")["operationId"].startswith("auth_")
    assert operation(document, "/me/wishes", "get")["operationId"] == "wishes_my_wishes"
