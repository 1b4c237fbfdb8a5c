"""The OpenAPI document clients generate code from (app/openapi.py)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.config import Environment, Settings
from app.db import Database
from app.errors import error_body
from app.main import API_PREFIX, create_app
from app.openapi import ErrorResponse
from tests.conftest import TEST_SECRET
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    wish_body,
)

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
    assert "Retry-After" in login["responses"]["429"]["headers"]
    assert "401" in login["responses"] and "UNAUTHORIZED" not in codes(login, 401)
    # A status declared by hand that nothing can send is dropped (reads are never a 409).
    assert "409" not in operation(document, "/wishes/{wish_id}", "get")["responses"]
    # A code given at the raise (`code="..."`) is the one declared.
    decline = operation(document, "/wishes/{wish_id}/decline", "post")
    assert "NO_PENDING_OFFER" in codes(decline, 403)


# ---------------------------------------------------------------- what real requests answer


class Recorder:
    """Sends requests through the test client and notes (operation id, status) for each."""

    def __init__(self, client: TestClient, document: dict[str, Any]) -> None:
        self.client = client
        self.document = document
        self.seen: dict[tuple[str, int], str] = {}
        self.templates = [
            (path, [None if part.startswith("{") else part for part in path.split("/")])
            for path in document["paths"]
        ]

    def operation_of(self, method: str, url: str) -> str:
        parts = url.split("?")[0].split("/")
        best: tuple[int, str] | None = None
        for path, template in self.templates:
            if len(template) != len(parts) or method not in self.document["paths"][path]:
                continue
            if all(t is None or t == p for t, p in zip(template, parts, strict=True)):
                literal = sum(t is not None for t in template)
                if best is None or literal > best[0]:
                    best = (literal, path)
        assert best is not None, f"no operation for {method.upper()} {url}"
        op_id: str = self.document["paths"][best[1]][method]["operationId"]
        return op_id

    def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.client.request(method.upper(), url, **kwargs)
        op_id = self.operation_of(method.lower(), url)
        self.seen.setdefault((op_id, response.status_code), response.text[:300])
        return response

    def undeclared(self) -> list[str]:
        ops = operations(self.document)
        return [
            f"{op_id} {status}: {text}"
            for (op_id, status), text in sorted(self.seen.items())
            if str(status) not in ops[op_id]["responses"]
        ]


def _sample(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    if schema.get("type") == "integer":
        return "999999"
    if "enum" in schema:
        return str(schema["enum"][0])
    return "zz"


def _url(path: str, document: dict[str, Any], method: str) -> str:
    op = document["paths"][path][method]
    for parameter in op.get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", _sample(parameter))
    return path


def test_every_status_real_requests_meet_is_declared(
    client: TestClient, session: Session, settings: Settings
) -> None:
    document = client.app.openapi()  # type: ignore[attr-defined]
    send = Recorder(client, document)
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = make_resident(session)
    other_resident = make_resident(session)
    coordinator = make_coordinator(session, station)
    admin = make_admin(session)
    v1_user, v1 = make_volunteer(session, station, skills=("errands",))
    v2_user, v2 = make_volunteer(session, station, skills=("errands",))
    as_resident = auth(resident, settings)
    as_coordinator = auth(coordinator, settings)
    as_v1, as_v2 = auth(v1_user, settings), auth(v2_user, settings)
    body = wish_body(station.lat, station.lng)

    # The loop, and a stolen accept.
    wish = send("post", f"{API_PREFIX}/wishes", json=body, headers=as_resident)
    assert wish.status_code == 201, wish.text
    wish_url = f"{API_PREFIX}/wishes/{wish.json()['id']}"
    assert send("post", f"{wish_url}/approve", headers=as_coordinator).status_code == 200
    offer = {"volunteer_ids": [v1.id, v2.id], "expires_in_minutes": 30}
    assert send("post", f"{wish_url}/offer", json=offer, headers=as_coordinator).status_code == 200
    assert send("post", f"{wish_url}/accept", headers=as_v1).status_code == 200
    stolen = send("post", f"{wish_url}/accept", headers=as_v2)
    assert stolen.status_code == 409, stolen.text
    # Other people's wishes, unknown and malformed ids, wrong roles.
    assert send("get", wish_url, headers=auth(other_resident, settings)).status_code == 404
    assert send("get", f"{API_PREFIX}/wishes/999999", headers=as_resident).status_code == 404
    assert send("get", f"{API_PREFIX}/wishes/abc", headers=as_resident).status_code == 422
    assert send("get", f"{API_PREFIX}/wishes", headers=as_resident).status_code == 403
    assert send("post", f"{wish_url}/approve", headers=as_resident).status_code in (403, 409)
    # No token, a forged one, bad bodies, a bad cursor, a reused idempotency key.
    assert send("get", wish_url).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert send("get", wish_url, headers=forged).status_code == 401
    assert send("post", f"{API_PREFIX}/wishes", json={}, headers=as_resident).status_code == 422
    too_big = b"{" + b" " * settings.max_request_bytes + b"}"
    big = send("post", f"{API_PREFIX}/wishes", content=too_big, headers=as_resident)
    assert big.status_code == 413
    cursor = send("get", f"{API_PREFIX}/me/wishes?cursor=zz", headers=as_resident)
    assert cursor.status_code == 400, cursor.text
    keyed = {**as_resident, "Idempotency-Key": "same-key-1"}
    assert send("post", f"{API_PREFIX}/wishes", json=body, headers=keyed).status_code == 201
    other = {**body, "title": "另一件事"}
    assert send("post", f"{API_PREFIX}/wishes", json=other, headers=keyed).status_code == 422
    login = {"username": "nobody", "password": "wrong-password"}
    assert send("post", f"{API_PREFIX}/auth/login", json=login).status_code == 401

    # Every operation, as nobody and as a resident with an empty body; every read as staff
    # and as a volunteer, on ids that do not exist.
    callers = {"nobody": {}, "resident": as_resident}
    readers = {"admin": auth(admin, settings), "coordinator": as_coordinator, "volunteer": as_v1}
    for path, item in document["paths"].items():
        for method in item:
            url = _url(path, document, method)
            for headers in callers.values():
                kwargs: dict[str, Any] = {"headers": headers}
                if method != "get":
                    kwargs["json"] = {}
                send(method, url, **kwargs)
            if method == "get":
                for headers in readers.values():
                    send(method, url, headers=headers)

    assert not [s for (_, s) in send.seen if s >= 500], send.seen
    assert {400, 401, 403, 404, 409, 413, 422} <= {s for (_, s) in send.seen}
    assert send.undeclared() == []


# ---------------------------------------------------------------- docs pages without internet


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_everything_from_the_app(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200
    assert "text/html" in html.headers["content-type"]
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html.text)
    assert any(url.endswith(".js") for url in assets), assets
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from elsewhere"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url
    # No address of another host anywhere in the page (scripts, styles, fonts, comments).
    assert re.findall(r"https?://[^\s\"'<>]+", html.text) == []
    assert "/api/v1/openapi.json" in html.text


def test_one_tag_per_domain_with_a_chinese_description(document: dict[str, Any]) -> None:
    tags = {tag["name"]: tag for tag in document["tags"]}
    assert len(tags) == len(document["tags"])
    for name, tag in tags.items():
        assert re.fullmatch(r"[a-z_]+", name), name
        assert re.search(r"[\u3400-\u9fff]", tag.get("description", "")), f"{name} undescribed"
        assert re.search(r"[\u3400-\u9fff]", tag.get("x-displayName", "")), name
    domains = set()
    for op_id, op in operations(document).items():
        assert len(op["tags"]) == 1 and op["tags"][0] in tags, (op_id, op["tags"])
        assert op_id.startswith(op["tags"][0] + "_"), op_id
        domains.add(op["tags"][0])
    assert domains == set(tags)
    assert operation(document, "/wishes/{wish_id}/accept", "post")["tags"] == ["wishes"]
    assert operation(document, "/me/wishes", "get")["tags"] == ["wishes"]


# ---------------------------------------------------------------- what a client developer reads

CJK = re.compile(r"[\u3400-\u9fff]")
REF = "#/components/schemas/"


# The hours and ledger routes of app/records/router.py move to app/records/hours/ and are
# described there.
def test_every_operation_has_a_chinese_summary_and_description(document: dict[str, Any]) -> None:
    missing = []
    for op_id, op in operations(document).items():
        assert CJK.search(op.get("summary", "")), f"{op_id}: no Chinese summary"
        if not CJK.search(op.get("description", "")):
            missing.append(op_id)
    assert missing == []
    # English developer notes after `\f` stay out of the document.
    for op_id, op in operations(document).items():
        assert "\f" not in op.get("description", ""), op_id


def test_schema_names_are_plain(document: dict[str, Any]) -> None:
    names = list(document["components"]["schemas"])
    assert [name for name in names if "__" in name or not re.fullmatch(r"\w+", name)] == []


def _app_models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        if model.__module__.startswith("app.") and model not in seen:
            seen.append(model)
    return seen


def _model_examples(model: type[BaseModel]) -> list[Any]:
    extra = model.model_config.get("json_schema_extra")
    return list(extra.get("examples", [])) if isinstance(extra, dict) else []


def test_examples_validate_against_their_own_models(document: dict[str, Any]) -> None:
    checked = 0
    for model in _app_models():
        if model.__pydantic_generic_metadata__["parameters"]:
            continue  # Page[T] itself
        known = set(model.model_fields) | set(model.model_computed_fields)
        for example in _model_examples(model):
            model.model_validate(example)
            # Response models ignore unknown keys: a field renamed or dropped must not linger.
            # (A model open to extra keys, such as WeChat's subscription answers, is exempt.)
            if model.model_config.get("extra") != "allow":
                assert set(example) <= known, (model.__name__, set(example) - known)
            checked += 1
        for field in model.model_fields.values():
            if not field.examples:
                continue
            adapter = TypeAdapter(Annotated[field.annotation, *field.metadata, field])
            for example in field.examples:
                adapter.validate_python(example)
                checked += 1
    assert checked > 20


EXAMPLED = [
    ("/wishes", "post"),
    ("/wishes/{wish_id}/approve", "post"),
    ("/wishes/{wish_id}/reject", "post"),
    ("/wishes/{wish_id}/offer", "post"),
    ("/wishes/{wish_id}/check-in", "post"),
    ("/wishes/{wish_id}/check-out", "post"),
    ("/wishes/{wish_id}/rate", "post"),
    ("/auth/login", "post"),
    ("/auth/wechat/login", "post"),
    ("/me/volunteer", "post"),
]


def has_example(document: dict[str, Any], content: dict[str, Any]) -> bool:
    """Whether a JSON body shows an example: its own, or its model's."""
    schemas = document["components"]["schemas"]
    media = content["application/json"]
    if media.get("example") is not None or media.get("examples"):
        return True
    schema = media["schema"]
    if schema.get("examples"):
        return True
    # A model or an optional one (anyOf with null).
    for option in [schema, *schema.get("anyOf", [])]:
        named = schemas.get(option.get("$ref", "").removeprefix(REF), {})
        if named.get("examples"):
            return True
    return False


@pytest.mark.parametrize(("path", "method"), EXAMPLED)
def test_the_wish_loop_sign_in_and_registration_carry_examples(
    document: dict[str, Any], path: str, method: str
) -> None:
    op = operation(document, path, method)
    assert has_example(document, op["requestBody"]["content"]), f"{method} {path}: request"
    ok = next(status for status in op["responses"] if status.startswith("2"))
    assert has_example(document, op["responses"][ok]["content"]), f"{method} {path}: response"


def test_every_json_request_body_carries_an_example(document: dict[str, Any]) -> None:
    """A client developer sees what to send: a new body without an example fails here."""
    bodies = {
        op_id: op["requestBody"]["content"]
        for op_id, op in operations(document).items()
        if "application/json" in op.get("requestBody", {}).get("content", {})
    }
    assert len(bodies) > 40
    assert [op_id for op_id, content in bodies.items() if not has_example(document, content)] == []


# Responses a mini-program shows most: the service record, the hours, the inbox, the settings.
SHOWN = [
    "AttendanceOut",
    "HoursSummary",
    "HoursEntryOut",
    "NotificationOut",
    "NotificationPreferencesOut",
    "PolicyOut",
    "RulesOut",
]


@pytest.mark.parametrize("name", SHOWN)
def test_the_responses_shown_most_carry_examples(document: dict[str, Any], name: str) -> None:
    assert document["components"]["schemas"][name].get("examples"), name


# The statistics, ranking, exports, imports and staff operations: a JSON answer shows an
# example, a file is declared as binary in each of its formats.
REPORTING = [
    ("/org-units/{unit_id}/stats", "get"),
    ("/org-units/{unit_id}/stats/series", "get"),
    ("/org-units/{unit_id}/stats/drill", "get"),
    ("/org-units/{unit_id}/stats/export", "get"),
    ("/org-units/{unit_id}/ranking", "get"),
    ("/org-units/{unit_id}/ranking-weights", "get"),
    ("/org-units/{unit_id}/ranking-weights", "put"),
    ("/org-units/{unit_id}/ledger", "get"),
    ("/imports/templates/{kind}", "get"),
    ("/org-units/{unit_id}/imports/{kind}", "post"),
    ("/imports/{import_id}", "get"),
    ("/org-units/{unit_id}/staff", "get"),
]


def page_of_examples(document: dict[str, Any], content: dict[str, Any]) -> bool:
    """A page (`items`, `next_cursor`) whose item model shows an example."""
    schemas = document["components"]["schemas"]
    page = schemas.get(content["application/json"]["schema"].get("$ref", "").removeprefix(REF), {})
    item = page.get("properties", {}).get("items", {}).get("items", {})
    return bool(schemas.get(item.get("$ref", "").removeprefix(REF), {}).get("examples"))


@pytest.mark.parametrize(("path", "method"), REPORTING)
def test_reporting_answers_show_an_example_or_are_binary_files(
    document: dict[str, Any], path: str, method: str
) -> None:
    op = operation(document, path, method)
    ok = next(status for status in op["responses"] if status.startswith("2"))
    content = op["responses"][ok]["content"]
    if "application/json" in content:
        assert has_example(document, content) or page_of_examples(document, content), (
            f"{method} {path}: response"
        )
        return
    assert content, f"{method} {path}: no content declared"
    for media, body in content.items():
        assert body["schema"] == {"type": "string", "format": "binary"}, (path, media)
