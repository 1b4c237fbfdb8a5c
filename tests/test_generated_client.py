"""A client generated from /api/v1/openapi.json type-checks against what the API really sends.

Pydantic v2 models are generated from the document (datamodel-code-generator, extra fields
forbidden), then a real flow runs through the app: a resident places a wish, a coordinator
reviews and dispatches it, a volunteer accepts it, lists are read, and errors are met. Each body is
validated strictly against the generated model the document names for that operation and status,
so an undocumented field, a missing one or a wrong type fails here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from datamodel_code_generator import DataModelType, InputFileType, generate
from datamodel_code_generator.format import Formatter
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import API_PREFIX
from tests.fixtures.builders import (
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    wish_body,
)
from tests.test_openapi import _schema_app, operations

REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return _schema_app().openapi()


@pytest.fixture(scope="module")
def models(document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    out = tmp_path_factory.mktemp("client") / "generated_models.py"
    generate(
        json.dumps(document),
        input_file_type=InputFileType.OpenAPI,
        output=out,
        output_model_type=DataModelType.PydanticV2BaseModel,
        extra_fields="forbid",
        formatters=[Formatter.BUILTIN],  # no black or isort needed, and faster
    )
    return _import(out)


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("generated_models", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the postponed annotations through it
    spec.loader.exec_module(module)
    return module


def class_name(schema_name: str) -> str:
    """The generator's class for a schema: `Page_WishSummary_` gives `PageWishSummary`."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", schema_name) if p)


class Client:
    """Looks up, for each response, the model the document declares and validates the body."""

    def __init__(self, client: TestClient, document: dict[str, Any], models: ModuleType) -> None:
        self.client = client
        self.operations = operations(document)
        self.models = models
        self.checked: list[tuple[str, int]] = []

    def adapter(self, op_id: str, status: int) -> TypeAdapter[Any]:
        response = self.operations[op_id]["responses"].get(str(status))
        assert response is not None, f"{op_id} does not declare {status}"
        schema = response["content"]["application/json"]["schema"]
        return TypeAdapter(self._type(schema))

    def _type(self, schema: dict[str, Any]) -> Any:
        if "$ref" in schema:
            name = class_name(schema["$ref"].removeprefix(REF))
            model = getattr(self.models, name)
            assert isinstance(model, type) and issubclass(model, BaseModel), name
            return model
        if schema.get("type") == "array":
            return list[self._type(schema["items"])]  # type: ignore[misc]
        raise AssertionError(f"no model for {schema}")

    def call(self, op_id: str, method: str, url: str, want: int, **kwargs: Any) -> Any:
        response = self.client.request(method, API_PREFIX + url, **kwargs)
        assert response.status_code == want, response.text
        if want != 204:
            self.adapter(op_id, want).validate_json(response.content, strict=True)
            self.checked.append((op_id, want))
        return response.json() if response.content else None


def test_a_generated_client_accepts_real_responses(
    client: TestClient,
    session: Session,
    settings: Settings,
    document: dict[str, Any],
    models: ModuleType,
) -> None:
    api = Client(client, document, models)
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = auth(make_resident(session), settings)
    coordinator = auth(make_coordinator(session, station), settings)
    v1_user, v1 = make_volunteer(session, station, skills=("errands",))
    v2_user, v2 = make_volunteer(session, station, skills=("errands",))
    as_v1, as_v2 = auth(v1_user, settings), auth(v2_user, settings)

    body = wish_body(station.lat, station.lng)
    wish = api.call("wishes_create", "POST", "/wishes", 201, json=body, headers=resident)
    url = f"/wishes/{wish['id']}"
    queue = api.call("wishes_review_queue", "GET", "/wishes/review-queue", 200, headers=coordinator)
    assert [w["id"] for w in queue["items"]] == [wish["id"]]
    api.call("wishes_approve", "POST", f"{url}/approve", 200, headers=coordinator)
    offer = {"volunteer_ids": [v1.id, v2.id], "expires_in_minutes": 30}
    api.call("wishes_offer", "POST", f"{url}/offer", 200, json=offer, headers=coordinator)
    offers = api.call("wishes_my_offers", "GET", "/me/offers", 200, headers=as_v1)
    assert offers["items"]
    accepted = api.call("wishes_accept", "POST", f"{url}/accept", 200, headers=as_v1)
    assert accepted["status"] == "accepted"
    api.call("wishes_get_wish", "GET", url, 200, headers=as_v1)
    api.call("wishes_get_wish", "GET", url, 200, headers=resident)
    api.call("wishes_events", "GET", f"{url}/events", 200, headers=coordinator)
    api.call("wishes_my_wishes", "GET", "/me/wishes", 200, headers=resident)
    api.call("wishes_list_wishes", "GET", "/wishes", 200, headers=coordinator)
    api.call("wishes_open_near_me", "GET", "/wishes/open", 200, headers=as_v2)

    # Errors are the envelope the document declares.
    taken = api.call("wishes_accept", "POST", f"{url}/accept", 409, headers=as_v2)
    assert taken["error"]["code"] in ("WISH_ALREADY_TAKEN", "INVALID_TRANSITION")
    api.call("wishes_get_wish", "GET", "/wishes/999999", 404, headers=resident)
    api.call("wishes_list_wishes", "GET", "/wishes", 403, headers=resident)
    api.call("wishes_create", "POST", "/wishes", 422, json={}, headers=resident)
    api.call("wishes_get_wish", "GET", url, 401)
    assert len(api.checked) == 17


def test_the_generated_models_refuse_what_the_document_does_not_say(
    client: TestClient,
    session: Session,
    settings: Settings,
    document: dict[str, Any],
    models: ModuleType,
) -> None:
    """The check above can fail: an extra field, a wrong type or a missing field is refused."""
    api = Client(client, document, models)
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = auth(make_resident(session), settings)
    wish = client.post(
        f"{API_PREFIX}/wishes", json=wish_body(station.lat, station.lng), headers=resident
    ).json()
    adapter = api.adapter("wishes_create", 201)
    adapter.validate_python(wish)
    for broken in (
        {**wish, "surprise": 1},
        {**wish, "id": "one"},
        {k: v for k, v in wish.items() if k != "status"},
        {**wish, "status": "no_such_status"},
    ):
        with pytest.raises(ValidationError):
            adapter.validate_json(json.dumps(broken), strict=True)
    error = api.adapter("wishes_get_wish", 404)
    with pytest.raises(ValidationError):
        error.validate_json(json.dumps({"detail": "Not Found"}), strict=True)
