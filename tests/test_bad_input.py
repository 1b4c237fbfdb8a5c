"""Bad input gets a clear 4xx with a stable code and a Chinese message, never a 500, and
changes nothing.

Most cases are rows of one table (`CASES`): who calls, what they send, the status and code
they must get back. Each is checked for the error shape and for leaving the database as it was
(row counts of every table, and each wish's status and version).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.accounts.service import create_staff_user
from app.auth.security import ALGORITHM, decode_access_token
from app.config import Settings
from app.main import API_PREFIX
from app.models import Base, Offer, OrgUnit, Volunteer, Wish
from app.models.enums import OfferStatus, WishStatus
from app.schemas import MAX_ID
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    wish_body,
)

API = API_PREFIX
CJK = re.compile(r"[\u3400-\u9fff]")
SHANGHAI = ZoneInfo("Asia/Shanghai")
TOO_BIG = MAX_ID + 1


# ---------------------------------------------------------------- checks


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is `status` with our error body and `code`; returns the error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and CJK.search(error["message"]), body
    assert isinstance(error["details"], dict), body
    return dict(error)


Snapshot = tuple[dict[str, int], list[tuple[int, str, int]]]


def snapshot(session: Session) -> Snapshot:
    """Row counts of every table, and every wish's (id, status, version)."""
    session.expire_all()
    counts = {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }
    wishes = [
        (row.id, row.status, row.version)
        for row in session.execute(select(Wish.id, Wish.status, Wish.version).order_by(Wish.id))
    ]
    return counts, wishes


@pytest.fixture
def unchanged(session: Session) -> Iterator[None]:
    """The test's requests must leave the database as they found it."""
    before = snapshot(session)
    yield
    assert snapshot(session) == before


# ---------------------------------------------------------------- the world


@dataclass
class World:
    station: OrgUnit  # stations[0], inside the coordinator's township
    headers: dict[str, dict[str, str]]  # by caller name
    ids: dict[str, int]  # named ids for the paths
    volunteer: Volunteer
    settings: Settings

    def wish_body(self, **overrides: Any) -> dict[str, Any]:
        """A valid 点单 body at this world's station; `overrides` replace fields."""
        assert self.station.lat is not None and self.station.lng is not None
        return wish_body(self.station.lat, self.station.lng, **overrides)

    def raw_wish(self, field_name: str, literal: str) -> bytes:
        """A wish body whose `field_name` is the raw JSON `literal` (NaN, a lone surrogate...)."""
        text = json.dumps(self.wish_body(**{field_name: "__RAW__"}), ensure_ascii=True)
        return text.replace('"__RAW__"', literal).encode()


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    tree = make_tree(session)
    station = tree.stations[0]
    resident = make_resident(session)
    other_resident = make_resident(session)
    coordinator = make_coordinator(session, tree.townships[0])
    admin = make_admin(session)
    volunteer_user, volunteer = make_volunteer(session, station, skills=("errands",))
    _, taker = make_volunteer(session, station, skills=("errands",))
    submitted = make_wish(session, station=station, requester=resident)
    approved = make_wish(session, station=station, requester=resident, status=WishStatus.APPROVED)
    # Offered to `volunteer`, but `taker` got there first: the offer was withdrawn.
    taken = make_wish(
        session,
        station=station,
        requester=resident,
        status=WishStatus.ACCEPTED,
        assignee=taker,
        offer_to=[volunteer],
    )
    session.execute(
        update(Offer).where(Offer.wish_id == taken.id).values(status=OfferStatus.WITHDRAWN)
    )
    disabled = make_resident(session)
    disabled.is_active = False
    session.flush()
    callers = {
        "resident": resident,
        "other_resident": other_resident,
        "coordinator": coordinator,
        "admin": admin,
        "volunteer": volunteer_user,
        "disabled": disabled,
    }
    headers = {name: auth(user, settings) for name, user in callers.items()}
    headers["nobody"] = {}
    ids = {
        "submitted": submitted.id,
        "approved": approved.id,
        "taken": taken.id,
        "station": station.id,
        "township": tree.townships[0].id,
        "volunteer": volunteer.id,
        "resident": resident.id,
    }
    return World(
        station=station,
        headers=headers,
        ids=ids,
        volunteer=volunteer,
        settings=settings,
    )


# ---------------------------------------------------------------- the table

Body = Callable[[World], Any]
V = "VALIDATION_ERROR"
# Callers, as named in `World.headers`.
STAFF, ADMIN, RES, OTHER, VOL = "coordinator", "admin", "resident", "other_resident", "volunteer"
SUB = "/wishes/{submitted}"
REJECT = f"{SUB}/reject"
OFFER = "/wishes/{approved}/offer"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Bad:
    name: str
    method: str
    path: str  # formatted with `World.ids`
    status: int
    code: str
    caller: str = STAFF
    json: Body | None = None
    raw: Callable[[World], bytes] | None = None
    content_type: str = "application/json"
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _const(value: Any) -> Body:
    return lambda _w: value


def _raw(data: bytes) -> Callable[[World], bytes]:
    return lambda _w: data


def order(name: str, status: int, code: str, /, **overrides: Any) -> Bad:
    """点单 by the resident: a valid body with `overrides`."""
    return Bad(name, "POST", "/wishes", status, code, RES, lambda w: w.wish_body(**overrides))


def order_raw(name: str, field_name: str, literal: str) -> Bad:
    """点单 with one field given as a raw JSON literal; refused as invalid."""
    return Bad(name, "POST", "/wishes", 422, V, RES, raw=lambda w: w.raw_wish(field_name, literal))


def window(name: str, start: timedelta, end: timedelta) -> Bad:
    """点单 with the wanted window [now + start, now + end]; refused as INVALID_TIME_WINDOW."""

    def body(w: World) -> Any:
        now = clock.now()
        return w.wish_body(
            wanted_start_at=(now + start).isoformat(), wanted_end_at=(now + end).isoformat()
        )

    return Bad(name, "POST", "/wishes", 400, "INVALID_TIME_WINDOW", RES, body)


def get(name: str, path: str, status: int, code: str, caller: str = STAFF, /, **params: Any) -> Bad:
    """A GET with query `params` (positional-only arguments, so a param may be called status)."""
    return Bad(name, "GET", path, status, code, caller, params=params)


def post(
    name: str, path: str, status: int, code: str, body: Any = None, caller: str = STAFF
) -> Bad:
    return Bad(name, "POST", path, status, code, caller, None if body is None else _const(body))


def token(name: str, code: str, authorization: str) -> Bad:
    return Bad(name, "GET", "/me", 401, code, "nobody", headers={"Authorization": authorization})


def _volunteer_nan(w: World) -> bytes:
    return f'{{"home_station_id": {w.ids["station"]}, "lat": NaN, "lng": 119.68}}'.encode()


def _outside_named_station(w: World) -> Any:
    # The point lies in stations[2]'s area, 20 km east, but the wish names stations[0].
    return w.wish_body(station_id=w.ids["station"], lng=w.wish_body()["lng"] + 0.2)


CASES: list[Bad] = [
    # ---- unknown enum values
    get("status filter", "/wishes", 422, V, status="lost"),
    order("urgency", 422, V, urgency="panic"),
    get("level filter", "/org-units/{station}/subtree", 422, V, level="planet"),
    post("unit level", "/org-units", 422, V, {"code": "9" * 12, "name": "省", "level": "x"}, ADMIN),
    post("role", "/admin/users/{resident}/roles", 422, V, {"role": "superuser"}, ADMIN),
    get("volunteer status filter", "/volunteers", 422, V, status="retired"),
    post("catalogue kind", "/catalogue/colours", 422, V, {"code": "red", "name": "红"}, ADMIN),
    # ---- coordinates
    order("lat above 90", 422, V, lat=90.5),
    order("lng below -180", 422, V, lng=-180.5),
    order_raw("lat NaN", "lat", "NaN"),
    order_raw("lng Infinity", "lng", "Infinity"),
    order_raw("lat -Infinity", "lat", "-Infinity"),
    get("locate NaN", "/org-units/locate", 422, V, lat="nan", lng="119"),
    get("locate inf", "/org-units/locate", 422, V, lat="30", lng="inf"),
    Bad("volunteer lat NaN", "POST", "/me/volunteer", 422, V, RES, raw=_volunteer_nan),
    # ---- oversize and blank text
    order("title 101", 422, V, title="愿" * 101),
    order("title blank", 422, V, title="   "),
    order("coarse address 101", 422, V, coarse_address="址" * 101),
    post("reason 501", REJECT, 422, V, {"reason": "因" * 501}),
    post("reason missing", REJECT, 422, V, {}),
    # ---- NUL bytes, control characters, lone surrogates
    order("NUL in title", 422, V, title="买\x00菜"),
    order("newline in title", 422, V, title="买\n菜"),
    order_raw("lone surrogate in title", "title", '"\\ud800"'),
    post("NUL in reason", REJECT, 422, V, {"reason": "不\x00行"}),
    post("escape in reason", f"{SUB}/cancel", 422, V, {"reason": "\x1b[31m"}, RES),
    Bad(
        "lone surrogate in comment",
        "POST",
        f"{SUB}/rate",
        422,
        V,
        RES,
        raw=_raw(b'{"score": 5, "comment": "\\udfff"}'),
    ),
    # ---- ids beyond the 32-bit columns, and ids below 1
    get("path id 2**31", f"/wishes/{TOO_BIG}", 422, V),
    get("path id 10**30", f"/wishes/{10**30}", 422, V),
    get("largest id, absent", f"/wishes/{MAX_ID}", 404, "WISH_NOT_FOUND"),
    get("query id 2**31", "/wishes", 422, V, station_id=TOO_BIG),
    get("parent id 2**31", "/org-units", 422, V, parent_id=TOO_BIG),
    post("body id 2**31", OFFER, 422, V, {"volunteer_ids": [TOO_BIG]}),
    order("station id 2**31", 422, V, station_id=TOO_BIG),
    get("negative path id", "/wishes/-1", 422, V),
    post("zero path id", "/volunteers/0/suspend", 422, V, {"reason": "违规"}),
    get("negative query id", "/volunteers", 422, V, station_id=-5),
    post("negative body id", OFFER, 422, V, {"volunteer_ids": [-1]}),
    # ---- wrong state, wrong person
    post("accept a submitted wish", f"{SUB}/accept", 409, "INVALID_TRANSITION"),
    post("approve twice", "/wishes/{approved}/approve", 409, "INVALID_TRANSITION"),
    post("rate too early", f"{SUB}/rate", 409, "INVALID_TRANSITION", {"score": 5}, RES),
    post("accept a taken wish", "/wishes/{taken}/accept", 409, "WISH_ALREADY_TAKEN", None, VOL),
    get("see another's wish", SUB, 404, "WISH_NOT_FOUND", OTHER),
    post("cancel another's wish", f"{SUB}/cancel", 404, "WISH_NOT_FOUND", None, OTHER),
    get("staff list as a resident", "/wishes", 403, "STAFF_ONLY", RES),
    # ---- the body itself
    Bad("malformed JSON", "POST", REJECT, 422, V, raw=_raw(b'{"reason": ')),
    post("JSON array", REJECT, 422, V, ["理由"]),
    Bad("invalid UTF-8", "POST", REJECT, 400, "BAD_REQUEST", raw=_raw(b'{"reason": "\xff\xfe"}')),
    Bad(
        "5,000-digit number",
        "POST",
        f"{SUB}/rate",
        400,
        "BAD_REQUEST",
        RES,
        raw=_raw(b'{"score": ' + b"9" * 5000 + b"}"),
    ),
    Bad(
        "text/plain",
        "POST",
        REJECT,
        422,
        V,
        json=_const({"reason": "重"}),
        content_type="text/plain",
    ),
    Bad(
        "form body",
        "POST",
        "/wishes",
        422,
        V,
        RES,
        raw=_raw(b"title=x&lat=30"),
        content_type="application/x-www-form-urlencoded",
    ),
    post("unknown field", REJECT, 422, V, {"reason": "重复", "urgent": True}),
    order("status smuggled into 点单", 422, V, status="approved"),
    post("missing body", REJECT, 422, V),
    # ---- tokens (expired and forged ones are made by hand below)
    get("no token", "/me", 401, "UNAUTHORIZED", "nobody"),
    token("basic scheme", "UNAUTHORIZED", "Basic dXNlcjpwYXNz"),
    token("garbage token", "INVALID_TOKEN", "Bearer not.a.jwt"),
    token("empty bearer", "UNAUTHORIZED", "Bearer "),
    get("disabled account", "/me", 401, "INVALID_TOKEN", "disabled"),
    # ---- pagination
    get("cursor not base64", "/wishes", 400, "INVALID_CURSOR", cursor="!!!"),
    get("cursor of another kind", "/wishes", 400, "INVALID_CURSOR", cursor="eDo1"),  # "x:5"
    get("cursor id 0", "/wishes", 400, "INVALID_CURSOR", cursor="aWQ6MA"),  # "id:0"
    get("cursor id 2**31", "/me/wishes", 400, "INVALID_CURSOR", RES, cursor="aWQ6MjE0NzQ4MzY0OA"),
    get("cursor too long", "/wishes", 422, V, cursor="a" * 65),
    get("limit 0", "/wishes", 422, V, limit=0),
    get("limit 1000", "/me/wishes", 422, V, RES, limit=1000),
    get("limit not a number", "/volunteers", 422, V, limit="ten"),
    # ---- time windows (naive times are tested below)
    window("window in the past", timedelta(hours=-3), timedelta(hours=-1)),
    window("end before start", 2 * DAY, DAY),
    window("empty window", DAY, DAY),
    window("window over 30 days", DAY, 32 * DAY),
    window("over a year ahead", 400 * DAY, 401 * DAY),
    order("year 2201", 422, V, wanted_start_at="2201-01-01T08:00", wanted_end_at="2201-01-02"),
    order("not a date", 422, V, wanted_start_at="明天上午"),
    get("created_from not a date", "/wishes", 422, V, created_from="昨天"),
    # ---- the service area and the catalogue
    order("outside every station", 400, "OUT_OF_SERVICE_AREA", lat=39.9042, lng=116.4074),
    Bad(
        "outside the named station",
        "POST",
        "/wishes",
        400,
        "OUT_OF_SERVICE_AREA",
        RES,
        _outside_named_station,
    ),
    Bad(
        "a township is not a station",
        "POST",
        "/wishes",
        404,
        "STATION_NOT_FOUND",
        RES,
        lambda w: w.wish_body(station_id=w.ids["township"]),
    ),
    order("unknown category", 400, "UNKNOWN_CATALOGUE_ENTRY", category_code="moon_landing"),
    order("unknown skill", 400, "UNKNOWN_CATALOGUE_ENTRY", skill_codes=["errands", "juggling"]),
    order("category code with capitals", 422, V, category_code="Elderly"),
]


def send(client: TestClient, world: World, case: Bad) -> Response:
    headers = {**world.headers[case.caller], **case.headers}
    content: bytes | None = None
    if case.raw is not None:
        content = case.raw(world)
    elif case.json is not None:
        content = json.dumps(case.json(world), ensure_ascii=False).encode()
    if content is not None:
        headers["Content-Type"] = case.content_type
    return client.request(
        case.method,
        API + case.path.format(**world.ids),
        params=case.params,
        content=content,
        headers=headers,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_cleanly(
    client: TestClient, session: Session, world: World, case: Bad
) -> None:
    before = snapshot(session)
    response = send(client, world, case)
    assert_error(response, case.status, case.code)
    assert snapshot(session) == before


def test_case_names_are_unique() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


# ---------------------------------------------------------------- tokens made by hand


def _token(world: World, *, secret: str | None = None, **claims: Any) -> dict[str, str]:
    """A bearer header; the claims are those of a valid token of the resident's session
    unless `claims` say otherwise."""
    settings = world.settings
    valid = decode_access_token(
        world.headers[RES]["Authorization"].removeprefix("Bearer "), settings
    )
    assert valid is not None
    now = clock.now()
    payload = {
        "iat": now,
        "exp": now + timedelta(hours=1),
        "typ": "access",
        "sid": valid.session_id,
        "kind": valid.kind.value,
        **claims,
    }
    token = jwt.encode(payload, secret or settings.secret_key, algorithm=ALGORITHM)
    return {"Authorization": f"Bearer {token}"}


def test_expired_token(client: TestClient, world: World, unchanged: None) -> None:
    user_id = str(world.ids["resident"])
    expired = _token(world, sub=user_id, exp=clock.now() - timedelta(seconds=1))
    assert_error(client.get(f"{API}/me", headers=expired), 401, "INVALID_TOKEN")
    fresh = _token(world, sub=user_id)
    assert client.get(f"{API}/me", headers=fresh).status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"typ": "refresh"},
        {"sub": "not-a-number"},
        {"sub": str(MAX_ID + 1)},
        {"sub": "0"},
        {"sid": "1"},
        {"sid": MAX_ID + 1},
        {"kind": "superuser"},
        {"sid": None},
    ],
    ids=[
        "wrong type",
        "sub not a number",
        "sub beyond ids",
        "sub zero",
        "sid not a number",
        "sid beyond ids",
        "unknown kind",
        "no session",
    ],
)
def test_token_with_bad_claims(
    client: TestClient, world: World, unchanged: None, claims: dict[str, Any]
) -> None:
    headers = _token(world, **{"sub": str(world.ids["resident"]), **claims})
    assert_error(client.get(f"{API}/me", headers=headers), 401, "INVALID_TOKEN")


def test_token_naming_a_session_it_does_not_belong_to(
    client: TestClient, world: World, unchanged: None
) -> None:
    """A forged sid or kind needs the secret; still, the session row must agree with both."""
    other = decode_access_token(
        world.headers[VOL]["Authorization"].removeprefix("Bearer "), world.settings
    )
    assert other is not None
    headers = _token(world, sub=str(world.ids["resident"]), sid=other.session_id)
    assert_error(client.get(f"{API}/me", headers=headers), 401, "INVALID_TOKEN")
    headers = _token(world, sub=str(world.ids["resident"]), kind="consumer")  # a staff session
    assert_error(client.get(f"{API}/me", headers=headers), 401, "INVALID_TOKEN")


def test_token_signed_with_another_key(client: TestClient, world: World, unchanged: None) -> None:
    forged = _token(world, sub=str(world.ids["resident"]), secret="x" * 48)
    assert_error(client.get(f"{API}/me", headers=forged), 401, "INVALID_TOKEN")


# ---------------------------------------------------------------- time zones


def _local_naive(instant: datetime) -> str:
    return instant.astimezone(SHANGHAI).replace(tzinfo=None).isoformat()


def test_naive_times_are_read_in_shanghai(client: TestClient, world: World) -> None:
    start = (clock.now() + timedelta(days=2)).replace(microsecond=0)
    end = start + timedelta(hours=2)
    body = world.wish_body(wanted_start_at=_local_naive(start), wanted_end_at=_local_naive(end))
    r = client.post(f"{API}/wishes", json=body, headers=world.headers["resident"])
    assert r.status_code == 201, r.text
    stored = datetime.fromisoformat(r.json()["wanted_start_at"])
    assert stored == start
    assert stored.utcoffset() == timedelta(0)


def test_naive_past_in_shanghai_is_past(client: TestClient, world: World, unchanged: None) -> None:
    # An hour ago in Shanghai; read as UTC it would be seven hours ahead and accepted.
    end = clock.now() - timedelta(hours=1)
    body = world.wish_body(
        wanted_start_at=_local_naive(end - timedelta(hours=1)), wanted_end_at=_local_naive(end)
    )
    r = client.post(f"{API}/wishes", json=body, headers=world.headers["resident"])
    assert_error(r, 400, "INVALID_TIME_WINDOW")


def test_aware_and_naive_times_mix(client: TestClient, world: World) -> None:
    start = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    body = world.wish_body(
        wanted_start_at=_local_naive(start),
        wanted_end_at=(start + timedelta(hours=1)).astimezone(UTC).isoformat(),
    )
    r = client.post(f"{API}/wishes", json=body, headers=world.headers["resident"])
    assert r.status_code == 201, r.text
    got = r.json()
    window = datetime.fromisoformat(got["wanted_end_at"]) - datetime.fromisoformat(
        got["wanted_start_at"]
    )
    assert window == timedelta(hours=1)


# ---------------------------------------------------------------- request size


def test_body_over_a_megabyte(client: TestClient, world: World, unchanged: None) -> None:
    body = b'{"reason": "' + b"x" * 1_000_001 + b'"}'
    r = client.post(
        f"{API}/wishes/{world.ids['submitted']}/reject",
        content=body,
        headers={**world.headers["coordinator"], "Content-Type": "application/json"},
    )
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")


def test_streamed_body_over_a_megabyte(client: TestClient, world: World, unchanged: None) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"reason": "'
        for _ in range(110):
            yield b"x" * 10_000
        yield b'"}'

    r = client.post(
        f"{API}/wishes/{world.ids['submitted']}/reject",
        content=chunks(),
        headers={**world.headers["coordinator"], "Content-Type": "application/json"},
    )
    assert r.request.headers.get("transfer-encoding") == "chunked"  # no Content-Length to trust
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")


# ---------------------------------------------------------------- unknown routes and methods


def test_unknown_route_and_method(client: TestClient, world: World, unchanged: None) -> None:
    headers = world.headers["coordinator"]
    assert_error(client.get(f"{API}/wishes/1/nothing", headers=headers), 404, "NOT_FOUND")
    assert_error(
        client.put(f"{API}/wishes/{world.ids['submitted']}", headers=headers),
        405,
        "METHOD_NOT_ALLOWED",
    )


# ---------------------------------------------------------------- length limits
#
# Every free-text field is declared with the `text(n)` type itself (or a name for it in
# app/schemas.py), never nested inside another `Annotated` (pydantic would ignore the inner
# one): each has its own length limit, control-character check and minimum length, so a NUL
# byte or a value longer than its column is a 422, never a DataError (500) on PostgreSQL.


def _free_text_limits(app: FastAPI) -> dict[str, int | None]:
    """maxLength of every free-text string (no pattern, enum or format) in every request body,
    by `Model.field`, following `$ref`s from the operations' request bodies."""
    spec = app.openapi()
    components = spec["components"]["schemas"]
    limits: dict[str, int | None] = {}
    seen: set[str] = set()

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, where)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            model = ref.rsplit("/", 1)[-1]
            if model not in seen:
                seen.add(model)
                for name, prop in components[model].get("properties", {}).items():
                    walk(prop, f"{model}.{name}")
            return
        if node.get("type") == "string" and not {"pattern", "enum", "format"} & set(node):
            limits[where] = node.get("maxLength")
        for key in ("anyOf", "allOf", "oneOf", "items"):
            if key in node:
                walk(node[key], where)

    for operations in spec["paths"].values():
        for operation in operations.values():
            body = operation.get("requestBody", {}).get("content", {})
            walk(body.get("application/json", {}).get("schema"), "body")
    return limits


def test_every_request_string_has_its_own_length_limit(app: FastAPI) -> None:
    """Every free-text field of every request body has a length limit of its own, not the
    10,000 fallback of `Schema`."""
    limits = _free_text_limits(app)
    assert limits["WishCreate.title"] == 100  # the walk reaches the request schemas
    assert limits["ReasonIn.reason"] == 500
    fallback = sorted(name for name, limit in limits.items() if limit in (None, 10_000))
    assert fallback == [], "no limit of their own: " + ", ".join(fallback)


@pytest.mark.parametrize(
    ("field_name", "value"),
    [
        ("description", "说" * 2001),
        ("description", "每周\x00两次"),
        ("full_address", "址" * 201),
        ("full_address", ""),
        ("full_address", "3 组\x0012 号"),
    ],
    ids=["description 2001", "NUL in description", "address 201", "empty address", "NUL address"],
)
def test_wish_text_limits(
    client: TestClient, world: World, session: Session, field_name: str, value: str
) -> None:
    """A wish's description and address refuse NUL, empty and over-long values (422, nothing
    written), on both engines."""
    before = snapshot(session)
    body = world.wish_body(**{field_name: value})
    r = client.post(f"{API}/wishes", json=body, headers=world.headers["resident"])
    assert_error(r, 422, V)
    assert snapshot(session) == before


def test_offer_note_limit(client: TestClient, world: World, session: Session) -> None:
    """An offer's note is at most 200 characters, as its column: 422 beyond, nothing written."""
    before = snapshot(session)
    r = client.post(
        f"{API}/wishes/{world.ids['approved']}/offer",
        json={"volunteer_ids": [world.volunteer.id], "note": "请" * 201},
        headers=world.headers["coordinator"],
    )
    assert_error(r, 422, V)
    assert snapshot(session) == before


def test_login_username_with_nul(client: TestClient, world: World, unchanged: None) -> None:
    """A NUL in the username of the public sign-in is a 422, never a 500 from the lookup."""
    r = client.post(f"{API}/auth/login", json={"username": "admin\x00", "password": "whatever"})
    assert_error(r, 422, V)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/catalogue/skills", {"code": "knitting", "name": "编" * 51}),
        ("/catalogue/skills", {"code": "knitting", "name": "编\x00织"}),
        ("/org-units", {"code": "990000000000", "name": "市" * 101, "level": "city"}),
    ],
    ids=["skill name 51", "NUL in skill name", "unit name 101"],
)
def test_admin_text_limits(
    client: TestClient, world: World, session: Session, path: str, body: dict[str, Any]
) -> None:
    """Catalogue and unit names refuse NUL and values longer than their columns (422, nothing
    written), on both engines."""
    before = snapshot(session)
    r = client.post(f"{API}{path}", json=body, headers=world.headers["admin"])
    assert_error(r, 422, V)
    assert snapshot(session) == before


# ---------------------------------------------------------------- suspension reason


def test_suspension_reason_fits_its_column(
    client: TestClient, session: Session, world: World
) -> None:
    """A suspension reason longer than `volunteers.suspended_reason` holds is refused (422)
    or kept whole, never cut short nor a 500 on PostgreSQL."""
    reason = "多次爽约" * 60  # 240 characters, within the advertised 500
    r = client.post(
        f"{API}/volunteers/{world.volunteer.id}/suspend",
        json={"reason": reason},
        headers=world.headers["coordinator"],
    )
    if r.status_code == 422:
        assert_error(r, 422, V)
    else:
        assert r.status_code == 200, r.text
        session.expire_all()
        stored = session.scalar(
            select(Volunteer.suspended_reason).where(Volunteer.id == world.volunteer.id)
        )
        assert stored == reason


def test_login_failures(client: TestClient, session: Session, world: World) -> None:
    """Unknown user, wrong password and a deactivated account: 401 with distinct codes."""
    staff = create_staff_user(
        session=session, name="王协调", username="wang.xie", password="correct-horse"
    )
    session.flush()
    before = snapshot(session)
    login = f"{API}/auth/login"
    r = client.post(login, json={"username": "nobody-here", "password": "correct-horse"})
    assert_error(r, 401, "BAD_CREDENTIALS")
    r = client.post(login, json={"username": "wang.xie", "password": "wrong-horse"})
    assert_error(r, 401, "BAD_CREDENTIALS")
    staff.is_active = False
    session.flush()
    r = client.post(login, json={"username": "wang.xie", "password": "correct-horse"})
    assert_error(r, 401, "ACCOUNT_DISABLED")
    assert snapshot(session) == before
