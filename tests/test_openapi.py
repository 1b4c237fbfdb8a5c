"""The OpenAPI document clients generate code from (app/openapi.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import create_engine

from app.config import Environment, Settings
from app.db import Database
from app.errors import error_body
from app.main import API_PREFIX, create_app
from app.openapi import ErrorResponse
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


def codes(op: dict[str, Any], status: int) -> set[str]:
    """The error codes an operation declares for a status (one example each)."""
    response = op["responses"].get(str(status))
    if response is None:
        return set()
    return set(response["content"]["application/json"].get("examples", {}))


def test_every_error_response_is_our_envelope(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    for op_id, op in operations(document).items():
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (op_id, status)
            assert re.search(r"[\u3400-\u9fff]", response["description"]), (op_id, status)


def test_the_envelope_schema_is_what_the_handlers_send() -> None:
    body = error_body("WISH_NOT_FOUND", "心愿不存在", {"wish_id": 3})
    assert ErrorResponse.model_validate(body).model_dump() == body
    with pytest.raises(ValidationError):
        ErrorResponse.model_validate({"error": {**body["error"], "extra": 1}})
    with pytest.raises(ValidationError):
        ErrorResponse.model_validate({"detail": [{"loc": ["body"], "msg": "x"}]})


def test_operations_with_parameters_answer_422_in_our_envelope(document: dict[str, Any]) -> None:
    accept = operation(document, "/wishes/{wish_id}/accept", "post")
    assert "VALIDATION_ERROR" in codes(accept, 422)
    create = operation(document, "/wishes", "post")
    assert "VALIDATION_ERROR" in codes(create, 422)
    assert "PAYLOAD_TOO_LARGE" in codes(create, 413)


def test_statuses_are_derived_from_the_code(document: dict[str, Any]) -> None:
    accept = operation(document, "/wishes/{wish_id}/accept", "post")
    assert {"WISH_ALREADY_TAKEN", "WISH_CHANGED", "INVALID_TRANSITION"} <= codes(accept, 409)
    assert codes(accept, 404) == {"WISH_NOT_FOUND"}
    assert {"UNAUTHORIZED", "INVALID_TOKEN"} <= codes(accept, 401)
    assert {"NOT_OFFERED", "NOT_ELIGIBLE", "ROLE_NOT_ALLOWED"} <= codes(accept, 403)
    assert "DATABASE_BUSY" in codes(accept, 503)
    # Dependencies count: StaffUser refuses residents, the page cursor can be bad.
    staff_list = operation(document, "/wishes", "get")
    assert "STAFF_ONLY" in codes(staff_list, 403)
    assert "INVALID_CURSOR" in codes(staff_list, 400)
    assert "413" not in staff_list["responses"]
    # Sign-in: no token needed, but throttled.
    login = operation(document, "/auth/login", "post")
    assert "LOGIN_THROTTLED" in codes(login, 429)
    assert "401" in login["responses"] and "UNAUTHORIZED" not in codes(login, 401)
    # A code given at the raise (`code="..."`) is the one declared.
    decline = operation(document, "/wishes/{wish_id}/decline", "post")
    assert "NO_PENDING_OFFER" in codes(decline, 403)
