"""A coordinator sees and acts only inside their subtree: every endpoint, checked.

The tree is city → county → townships[0..1] → stations[0..3]; the coordinator under test holds
townships[0], so stations 0 and 1 are inside and stations 2 and 3 (townships[1]) are outside.

Every route of the app must appear in one of the tables below (or in `EXEMPT`, with the reason);
`test_every_route_has_a_scope_case` fails when a route is added without a case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.imports.schemas import ImportKind
from app.main import API_PREFIX
from app.models import (
    Offer,
    OrgUnit,
    OutboxMessage,
    RankingWeight,
    RoleGrant,
    User,
    Volunteer,
    WebhookSubscriber,
    Wish,
    WishEventRecord,
)
from app.models.enums import AccountRole, VolunteerStatus, WishStatus
from app.stats import ranking
from app.wishes.service import apply_event
from app.wishes.state import WishEvent as E
from tests.fixtures.builders import (
    KM_LNG,
    PROXY_CONSENT,
    Tree,
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_user,
    make_volunteer,
    make_wish,
    principal,
)
from tests.imports.sheets import upload, workbook
from tests.pairings import test_pairings_scope as pairings_scope
from tests.teams import test_scope_teams

API = API_PREFIX
INSIDE = (0, 1)  # station indexes under townships[0]
OUTSIDE = (2, 3)


# ---------------------------------------------------------------- the scene


@dataclass
class Scene:
    session: Session
    settings: Settings
    tree: Tree
    coordinator: User  # of townships[0]
    resident: User

    def headers(self, user: User | None = None) -> dict[str, str]:
        return auth(user or self.coordinator, self.settings)

    def station(self, index: int) -> OrgUnit:
        return self.tree.stations[index]

    def unit(self, name: str) -> OrgUnit:
        """A unit by name: "city", "county", "township0", "township1", "station0" … "station3"."""
        tree = self.tree
        units = {"city": tree.city, "county": tree.county}
        units |= {f"township{i}": unit for i, unit in enumerate(tree.townships)}
        units |= {f"station{i}": unit for i, unit in enumerate(tree.stations)}
        return units[name]

    def wish(self, index: int, status: WishStatus = WishStatus.SUBMITTED, **kw: Any) -> Wish:
        return make_wish(
            self.session, station=self.station(index), requester=self.resident, status=status, **kw
        )

    def volunteer(self, index: int, **kw: Any) -> tuple[User, Volunteer]:
        return make_volunteer(self.session, self.station(index), skills=("errands",), **kw)


@pytest.fixture
def scene(session: Session, settings: Settings) -> Scene:
    tree = make_tree(session)
    return Scene(
        session=session,
        settings=settings,
        tree=tree,
        coordinator=make_coordinator(session, tree.townships[0]),
        resident=make_resident(session),
    )


def error_code(response: Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"]["code"])


def state(session: Session) -> tuple[Any, ...]:
    """Row counts of the loop's tables, every wish's (status, version), every volunteer's status."""
    session.expire_all()
    counts = tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Wish, WishEventRecord, Offer, OutboxMessage, Volunteer, User)
    )
    wishes = tuple(session.execute(select(Wish.id, Wish.status, Wish.version).order_by(Wish.id)))
    volunteers = tuple(
        session.execute(select(Volunteer.id, Volunteer.status).order_by(Volunteer.id))
    )
    return counts, wishes, volunteers


# ---------------------------------------------------------------- one resource, inside or outside


@dataclass(frozen=True)
class Call:
    path: str
    json: dict[str, Any] | None = None


Setup = Callable[[Scene, int], Call]


@dataclass(frozen=True)
class ResourceCase:
    """`setup` builds a resource at a station and names the request. Inside the subtree the
    coordinator gets `inside`: 200 and a response that `summary` reads as `then`, or an error
    whose code is `then`. Outside, 404 with `outside_code`, and nothing changes."""

    method: str
    route: str
    setup: Setup
    inside: int
    then: str
    outside_code: str


def summary(body: Any) -> str:
    """What a successful response says: its status, or how many items it lists."""
    if isinstance(body, list):
        return f"{len(body)} items"
    if "items" in body:
        return f"{len(body['items'])} items"
    if "candidates" in body:
        return f"{len(body['candidates'])} candidates"
    return str(body["status"])


def _on_wish(
    verb: str,
    status: WishStatus,
    *,
    body: dict[str, Any] | None = None,
    assignee: bool = False,
    offered: bool = False,
    approved_by_api: bool = False,
    serving_now: bool = False,
) -> Setup:
    """A wish in `status` at the station (taken by, or offered to, a volunteer of it); with
    `serving_now`, its window is now (check-in and check-out fall inside it)."""

    def setup(scene: Scene, index: int) -> Call:
        _, volunteer = scene.volunteer(index)
        wish = scene.wish(
            index,
            status,
            assignee=volunteer if assignee else None,
            offer_to=[volunteer] if offered else None,
        )
        if serving_now:
            wish.wanted_start_at = clock.now() - timedelta(minutes=30)
            wish.wanted_end_at = clock.now() + timedelta(hours=1)
            scene.session.flush()
        if approved_by_api:  # through the service, so the wish has an event to list
            admin = principal(scene.session, make_admin(scene.session))
            apply_event(session=scene.session, wish_id=wish.id, event=E.APPROVE, actor=admin)
        return Call(f"/wishes/{wish.id}" + (f"/{verb}" if verb else ""), body)

    return setup


def _offer(scene: Scene, index: int) -> Call:
    _, volunteer = scene.volunteer(index)
    wish = scene.wish(index, WishStatus.APPROVED)
    return Call(f"/wishes/{wish.id}/offer", {"volunteer_ids": [volunteer.id]})


def _dispatch_plan(verb: str) -> Setup:
    """An approved wish and a volunteer who fits it at the station; the plan (or its apply)
    for the station."""

    def setup(scene: Scene, index: int) -> Call:
        _, volunteer = scene.volunteer(index)
        wish = scene.wish(index, WishStatus.APPROVED)
        body = {"assignments": [{"wish_id": wish.id, "volunteer_id": volunteer.id}]}
        return Call(f"/org-units/{scene.station(index).id}/dispatch-plan{verb}", body)

    return setup


def _unit_staff(scene: Scene, index: int) -> Call:
    """A coordinator of the station; the station's staff."""
    make_coordinator(scene.session, scene.station(index))
    return Call(f"/org-units/{scene.station(index).id}/staff")


def on_wish(
    method: str, verb: str, status: WishStatus, inside: int, then: str, **kw: Any
) -> ResourceCase:
    route = "/wishes/{wish_id}" + (f"/{verb}" if verb else "")
    return ResourceCase(method, route, _on_wish(verb, status, **kw), inside, then, WISH_404)


def on_volunteer(
    verb: str, then: str, body: Any = None, method: str = "POST", **kw: Any
) -> ResourceCase:
    def setup(scene: Scene, index: int) -> Call:
        _, volunteer = scene.volunteer(index, **kw)
        return Call(f"/volunteers/{volunteer.id}" + (f"/{verb}" if verb else ""), body)

    route = "/volunteers/{volunteer_id}" + (f"/{verb}" if verb else "")
    return ResourceCase(method if verb else "GET", route, setup, 200, then, "VOLUNTEER_NOT_FOUND")


S = WishStatus
WISH_404 = "WISH_NOT_FOUND"
UNIT_404 = "ORG_UNIT_NOT_FOUND"
ROLE = "ROLE_NOT_ALLOWED"  # visible, but the verb is the volunteer's or the requester's
REASON = {"reason": "核实后处理"}
MANUAL = {"reason": "室内无法定位，协调员代签"}
SUSPENDED = VolunteerStatus.SUSPENDED

RESOURCE_CASES: list[ResourceCase] = [
    on_wish("GET", "", S.SUBMITTED, 200, "submitted"),
    on_wish("GET", "events", S.SUBMITTED, 200, "1 items", approved_by_api=True),
    on_wish("GET", "offers", S.DISPATCHING, 200, "1 items", offered=True),
    on_wish("POST", "approve", S.SUBMITTED, 200, "approved"),
    on_wish("POST", "reject", S.SUBMITTED, 200, "rejected", body=REASON),
    ResourceCase("POST", "/wishes/{wish_id}/offer", _offer, 200, "dispatching", WISH_404),
    on_wish("POST", "open-grab", S.APPROVED, 200, "dispatching"),
    on_wish("POST", "accept", S.DISPATCHING, 403, ROLE, offered=True),
    on_wish("POST", "decline", S.DISPATCHING, 403, ROLE, offered=True),
    on_wish("POST", "withdraw", S.ACCEPTED, 403, ROLE, body=REASON, assignee=True),
    on_wish("POST", "release", S.ACCEPTED, 200, "approved", body=REASON, assignee=True),
    on_wish(
        "POST",
        "check-in",
        S.ACCEPTED,
        200,
        "in_service",
        body=MANUAL,
        assignee=True,
        serving_now=True,
    ),
    on_wish(
        "POST",
        "check-out",
        S.IN_SERVICE,
        200,
        "completed",
        body=MANUAL,
        assignee=True,
        serving_now=True,
    ),
    on_wish("POST", "rate", S.COMPLETED, 403, ROLE, body={"score": 5}, assignee=True),
    on_wish("POST", "cancel", S.SUBMITTED, 200, "cancelled", body=REASON),
    on_wish("POST", "close", S.COMPLETED, 200, "closed", assignee=True),
    on_wish("POST", "escalate", S.SUBMITTED, 200, "submitted"),
    on_wish("POST", "remind", S.ACCEPTED, 200, "accepted", assignee=True),
    on_wish("GET", "candidates", S.APPROVED, 200, "1 candidates"),
    on_wish("POST", "reveal", S.SUBMITTED, 200, "submitted"),
    ResourceCase(
        "POST", "/org-units/{unit_id}/dispatch-plan", _dispatch_plan(""), 200, "1 items", UNIT_404
    ),
    ResourceCase(
        "POST",
        "/org-units/{unit_id}/dispatch-plan/apply",
        _dispatch_plan("/apply"),
        200,
        "1 items",
        UNIT_404,
    ),
    on_volunteer("", "active"),
    on_volunteer("reveal", "active"),
    on_volunteer("suspend", "suspended", REASON),
    on_volunteer("reinstate", "active", status=SUSPENDED),
    on_volunteer("insurance", "active", {"insured_until": "2030-12-31"}, method="PUT"),
    on_volunteer(
        "qualification",
        "active",
        {"skill_code": "first_aid", "qualified_until": "2030-12-31"},
        method="PUT",
    ),
    # Builders place volunteers without the API, so the log is empty.
    on_volunteer("home-moves", "0 items", method="GET"),
    ResourceCase("GET", "/org-units/{unit_id}/staff", _unit_staff, 200, "1 items", UNIT_404),
]


def _resource_params() -> list[Any]:
    return [
        pytest.param(case, index, id=f"{case.method} {case.route} @station{index}")
        for case in RESOURCE_CASES
        for index in (*INSIDE, *OUTSIDE)
    ]


@pytest.mark.parametrize(("case", "index"), _resource_params())
def test_resource_inside_and_outside(
    client: TestClient, scene: Scene, case: ResourceCase, index: int
) -> None:
    call = case.setup(scene, index)
    before = state(scene.session)
    r = client.request(case.method, API + call.path, json=call.json, headers=scene.headers())
    if index in OUTSIDE:
        assert r.status_code == 404, r.text
        assert error_code(r) == case.outside_code
        assert state(scene.session) == before
    elif case.inside == 200:
        assert r.status_code == 200, r.text
        assert summary(r.json()) == case.then
    else:
        assert r.status_code == case.inside, r.text
        assert error_code(r) == case.then
        assert state(scene.session) == before


def test_wish_details_name_the_coordinator_role(client: TestClient, scene: Scene) -> None:
    wish = scene.wish(1)
    r = client.get(f"{API}/wishes/{wish.id}", headers=scene.headers())
    assert r.json()["my_roles"] == ["coordinator"]
    assert set(r.json()["allowed_events"]) == {"approve", "reject", "cancel", "escalate"}


def test_offer_to_a_volunteer_outside_the_subtree(client: TestClient, scene: Scene) -> None:
    wish = scene.wish(0, WishStatus.APPROVED)
    _, inside = scene.volunteer(1)
    _, outside = scene.volunteer(2)
    before = state(scene.session)
    r = client.post(
        f"{API}/wishes/{wish.id}/offer",
        json={"volunteer_ids": [inside.id, outside.id]},
        headers=scene.headers(),
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "INVALID_OFFER_TARGET"
    assert r.json()["error"]["details"] == {"outside_scope": [outside.id]}
    assert state(scene.session) == before


# ---------------------------------------------------------------- staff-only and volunteer-only


@dataclass(frozen=True)
class DeniedCase:
    """The coordinator is refused with 403 and `code`, whatever the resource (built at the
    station by `path`); the body is valid, so the refusal is about who asks."""

    method: str
    route: str
    path: Callable[[Scene, int], str]
    code: str
    json: dict[str, Any] | None = None


def _staff_user(scene: Scene, index: int) -> User:
    return make_coordinator(scene.session, scene.station(index))


def _grant_path(scene: Scene, index: int) -> str:
    user = _staff_user(scene, index)
    grant_id = scene.session.scalar(select(RoleGrant.id).where(RoleGrant.user_id == user.id))
    return f"/admin/users/{user.id}/roles/{grant_id}"


def admin_only(
    method: str,
    route: str,
    json: dict[str, Any] | None = None,
    path: str | Callable[[Scene, int], str] | None = None,
) -> DeniedCase:
    """Admins only. `path` is the request path (a string, or built at the station); by default
    the route itself."""
    build = path if callable(path) else (lambda _s, _i, at=path or route: at)
    return DeniedCase(method, route, build, "ADMIN_ONLY", json)


def volunteer_only(method: str, route: str, json: dict[str, Any] | None = None) -> DeniedCase:
    """The coordinator under test has no volunteer profile."""
    return DeniedCase(method, route, lambda _s, _i: route, "NOT_A_VOLUNTEER", json)


def _user(suffix: str) -> Callable[[Scene, int], str]:
    return lambda s, i: f"/admin/users/{_staff_user(s, i).id}{suffix}"


def _unit(s: Scene, i: int) -> str:
    return f"/org-units/{s.station(i).id}"


STAFF_BODY = {"name": "新协调员", "username": "new.coord", "password": "long-enough-pw"}
UNIT_BODY = {"code": "990000000001", "name": "新村", "level": "city"}
SKILLS = "/catalogue/skills"
SEASON_PERIODS = {"periods": [{"start_md": "01-01", "end_md": "04-30"}]}
SEASON_WEIGHTS = {"weights": {"culture": 1}}
CONSENT_TEXT = {"purpose": "location", "version": "2", "title": "位置授权", "body": "……",
                "effective_date": "2030-01-01"}  # fmt: skip

WEBHOOK_BODY = {"name": "县融媒体中心", "url": "https://media.example.cn/in", "events": ["*"]}


def _webhook(tail: str) -> Callable[[Scene, int], str]:
    """A subscriber limited to the station's unit (admins only, whatever its unit)."""

    def path(scene: Scene, index: int) -> str:
        now = clock.now()
        row = WebhookSubscriber(
            name="站点订阅",
            url="https://media.example.cn/in",
            events=["*"],
            unit_id=scene.station(index).id,
            is_active=True,
            secret="whsec_" + "A" * 44,
            created_at=now,
            updated_at=now,
        )
        scene.session.add(row)
        scene.session.flush()
        return f"/admin/webhooks/{row.id}{tail}"

    return path


DENIED_CASES: list[DeniedCase] = [
    admin_only("POST", "/admin/users", STAFF_BODY),
    admin_only("GET", "/admin/users/{user_id}", path=_user("")),
    admin_only("POST", "/admin/users/{user_id}/roles", {"role": "admin"}, _user("/roles")),
    admin_only("DELETE", "/admin/users/{user_id}/roles/{grant_id}", path=_grant_path),
    admin_only("POST", "/admin/users/{user_id}/deactivate", path=_user("/deactivate")),
    admin_only("POST", "/admin/users/{user_id}/reset-password", path=_user("/reset-password")),
    admin_only("POST", "/org-units", UNIT_BODY),
    admin_only("PATCH", "/org-units/{unit_id}", {"name": "改名村"}, _unit),
    admin_only("POST", "/catalogue/{kind}", {"code": "knitting", "name": "编织"}, SKILLS),
    admin_only("PATCH", "/catalogue/{kind}/{code}", {"is_active": False}, f"{SKILLS}/errands"),
    admin_only("PUT", "/seasons/{code}/periods", SEASON_PERIODS, "/seasons/family/periods"),
    admin_only("PUT", "/seasons/{code}/affinities", SEASON_WEIGHTS, "/seasons/family/affinities"),
    admin_only("POST", "/admin/consent-texts", CONSENT_TEXT),
    admin_only("GET", "/admin/access-log"),
    admin_only("GET", "/admin/deliveries/dead"),
    admin_only("GET", "/admin/deliveries/stats"),
    admin_only(
        "POST", "/admin/deliveries/{message_id}/redrive", path="/admin/deliveries/1/redrive"
    ),
    admin_only("GET", "/admin/webhook-events"),
    admin_only("POST", "/admin/webhooks", WEBHOOK_BODY),
    admin_only("GET", "/admin/webhooks"),
    *(
        admin_only(method, f"/admin/webhooks/{{subscriber_id}}{tail}", body, _webhook(tail))
        for method, tail, body in (
            ("GET", "", None),
            ("PATCH", "", {"is_active": False}),
            ("DELETE", "", None),
            ("POST", "/rotate-secret", None),
            ("GET", "/deliveries", None),
        )
    ),
    admin_only(
        "POST",
        "/household-categories",
        {"code": "veteran_family", "name": "优抚对象家庭"},
    ),
    admin_only(
        "PATCH",
        "/household-categories/{code}",
        {"is_active": False},
        "/household-categories/elderly_alone",
    ),
    volunteer_only("GET", "/me/volunteer"),
    volunteer_only("PATCH", "/me/volunteer", {"service_radius_m": 2000}),
    volunteer_only("GET", "/me/volunteer/home-moves"),
    volunteer_only("GET", "/wishes/open"),
    volunteer_only("GET", "/me/offers"),
    volunteer_only("GET", "/me/tasks"),
]


@pytest.mark.parametrize(
    ("case", "index"),
    [
        pytest.param(case, index, id=f"{case.method} {case.route} @station{index}")
        for case in DENIED_CASES
        for index in (0, 2)
    ],
)
def test_denied_inside_and_outside(
    client: TestClient, scene: Scene, case: DeniedCase, index: int
) -> None:
    path = case.path(scene, index)
    before = state(scene.session)
    r = client.request(case.method, API + path, json=case.json, headers=scene.headers())
    assert r.status_code == 403, r.text
    assert error_code(r) == case.code
    assert state(scene.session) == before


# ---------------------------------------------------------------- lists


@dataclass
class Populated:
    """A submitted and an approved wish, and a volunteer, at every station."""

    scene: Scene
    rows: dict[str, dict[int, int]]  # kind ("submitted", "approved", "volunteers") → station → id

    def ids(self, kind: str, indexes: tuple[int, ...] | range) -> set[int]:
        kinds = ("submitted", "approved") if kind == "wishes" else (kind,)
        return {self.rows[k][i] for k in kinds for i in indexes}


@pytest.fixture
def populated(scene: Scene) -> Populated:
    rows: dict[str, dict[int, int]] = {"submitted": {}, "approved": {}, "volunteers": {}}
    for index in range(4):
        rows["submitted"][index] = scene.wish(index).id
        rows["approved"][index] = scene.wish(index, WishStatus.APPROVED).id
        rows["volunteers"][index] = scene.volunteer(index)[1].id
    return Populated(scene, rows)


@dataclass(frozen=True)
class ListCase:
    """GET `route` with `params` (and `unit`'s id as station_id) lists exactly the `expect`
    rows of the stations `indexes`."""

    route: str
    name: str
    expect: str  # "wishes", "submitted", "approved" or "volunteers"
    indexes: tuple[int, ...] = INSIDE
    unit: str | None = None  # "city", "county", "township0..1" or "station0..3"
    params: dict[str, Any] = field(default_factory=dict)

    def query(self, scene: Scene) -> dict[str, Any]:
        if self.unit is None:
            return dict(self.params)
        return {**self.params, "station_id": scene.unit(self.unit).id}


W, Q, V = "/wishes", "/wishes/review-queue", "/volunteers"
NOTHING: tuple[int, ...] = ()

LIST_CASES: list[ListCase] = [
    ListCase(W, "all", "wishes"),
    ListCase(W, "outside station", "wishes", NOTHING, unit="station2"),
    ListCase(W, "other outside station", "wishes", NOTHING, unit="station3"),
    ListCase(W, "outside township", "wishes", NOTHING, unit="township1"),
    ListCase(
        W, "outside station, submitted", "wishes", NOTHING, "station3", {"status": "submitted"}
    ),
    ListCase(W, "whole county", "wishes", unit="county"),
    ListCase(W, "inside station", "wishes", (1,), unit="station1"),
    ListCase(W, "status", "submitted", params={"status": "submitted"}),
    ListCase(W, "needs dispatch", "approved", params={"needs_dispatch": True}),
    ListCase(W, "category", "wishes", params={"category_code": "elderly_orphan_care"}),
    ListCase(W, "urgency", "wishes", params={"urgency": "normal"}),
    ListCase(Q, "all", "submitted"),
    ListCase(V, "all", "volunteers"),
    ListCase(V, "outside station", "volunteers", NOTHING, unit="station2"),
    ListCase(V, "outside township", "volunteers", NOTHING, unit="township1"),
    ListCase(V, "whole city", "volunteers", unit="city"),
    ListCase(
        V, "status and skill", "volunteers", params={"status": "active", "skill_code": "errands"}
    ),
    ListCase(V, "name", "volunteers", params={"name": "用户"}),  # the builders' names
    ListCase(V, "name, outside station", "volunteers", NOTHING, "station3", {"name": "用户"}),
]


def listed(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> set[int]:
    """Every id the list returns, following the cursor through all pages."""
    ids: set[int] = set()
    cursor: str | None = None
    for _ in range(50):
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get(API + path, params=query, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        ids |= {item["id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("case", LIST_CASES, ids=[f"{c.route} {c.name}" for c in LIST_CASES])
def test_lists_stay_inside_the_subtree(
    client: TestClient, populated: Populated, case: ListCase
) -> None:
    scene = populated.scene
    got = listed(client, case.route, scene.headers(), **case.query(scene))
    assert got == populated.ids(case.expect, case.indexes)


# ---------------------------------------------------------------- the caller's own things


def test_create_wish_on_behalf_only_inside_scope(client: TestClient, scene: Scene) -> None:
    """POST /wishes: a coordinator may order for a resident (代点单) only at their stations."""
    start = clock.now() + timedelta(days=2)

    def body(index: int, **extra: Any) -> dict[str, Any]:
        station = scene.station(index)
        assert station.lat is not None and station.lng is not None
        return {
            "category_code": "elderly_orphan_care",
            "title": "帮忙修水管",
            "coarse_address": "村口附近",
            "full_address": "村口 1 号",
            "lat": station.lat,
            "lng": station.lng + 0.3 * KM_LNG,
            "wanted_start_at": start.isoformat(),
            "wanted_end_at": (start + timedelta(hours=2)).isoformat(),
            "on_behalf_of": {"phone": "13712345678", "name": "李奶奶", "consent": PROXY_CONSENT},
            **extra,
        }

    before = state(scene.session)
    # Outside, found by location or named: refused.
    for extra in ({}, {"station_id": scene.station(3).id}):
        r = client.post(f"{API}/wishes", json=body(3, **extra), headers=scene.headers())
        assert (r.status_code, error_code(r)) == (403, "PROXY_NOT_ALLOWED"), r.text
    # Without on_behalf_of a coordinator, who is not a resident, cannot order at all.
    own = body(0)
    del own["on_behalf_of"]
    r = client.post(f"{API}/wishes", json=own, headers=scene.headers())
    assert (r.status_code, error_code(r)) == (403, "NOT_A_RESIDENT"), r.text
    assert state(scene.session) == before
    # Inside: created at the station, with the coordinator as proxy.
    r = client.post(f"{API}/wishes", json=body(1), headers=scene.headers())
    assert r.status_code == 201, r.text
    assert r.json()["station"]["id"] == scene.station(1).id
    assert r.json()["proxy_id"] == scene.coordinator.id


def test_me_names_the_coordinated_unit(client: TestClient, scene: Scene) -> None:
    """GET /me: the caller's own identity, with the unit their scope comes from."""
    r = client.get(f"{API}/me", headers=scene.headers())
    assert r.status_code == 200, r.text
    grants = [(g["role"], g["org_unit_id"]) for g in r.json()["roles"]]
    assert grants == [("coordinator", scene.tree.townships[0].id)]


def test_my_wishes_are_only_mine(client: TestClient, scene: Scene) -> None:
    """GET /me/wishes: the wishes one ordered (or ordered for others), never the subtree's."""
    scene.wish(0)
    scene.wish(2)
    proxied = make_wish(
        scene.session, station=scene.station(0), requester=scene.resident, proxy=scene.coordinator
    )
    assert listed(client, "/me/wishes", scene.headers()) == {proxied.id}
    stranger = make_resident(scene.session)
    assert listed(client, "/me/wishes", scene.headers(stranger)) == set()


def test_inbox_is_only_mine(client: TestClient, scene: Scene) -> None:
    """/me/notifications: one's own messages only; another user's message is 404 and stays
    unread, and marking all read touches only one's own."""
    from app.notifications.outbox import enqueue

    stranger = make_resident(scene.session)
    enqueue(session=scene.session, topic="wish.submitted", recipient_ids=[scene.coordinator.id],
            payload={"title": "修水管"})  # fmt: skip
    enqueue(session=scene.session, topic="wish.approved", recipient_ids=[stranger.id],
            payload={"title": "陪诊"})  # fmt: skip
    scene.session.flush()
    mine = listed(client, "/me/notifications", scene.headers())
    theirs = listed(client, "/me/notifications", scene.headers(stranger))
    assert len(mine) == 1 and len(theirs) == 1 and mine.isdisjoint(theirs)
    [other] = mine
    before = state(scene.session)
    r = client.post(f"{API}/me/notifications/{other}/read", headers=scene.headers(stranger))
    assert (r.status_code, error_code(r)) == (404, "NOTIFICATION_NOT_FOUND")
    r = client.post(f"{API}/me/notifications/read-all", headers=scene.headers(stranger))
    assert r.status_code == 200 and r.json() == {"marked": 1, "unread_count": 0}
    assert state(scene.session) == before
    r = client.get(f"{API}/me/notifications/unread-count", headers=scene.headers())
    assert r.json() == {"unread_count": 1}
    scene.session.expire_all()
    assert scene.session.get(OutboxMessage, other).read_at is None  # type: ignore[union-attr]


@dataclass(frozen=True)
class DirectoryCase:
    """Directory data: every logged-in user reads it, whatever their scope. `path` reaches into
    townships[1]; `shows` picks from the response the ids that must be there."""

    route: str
    path: Callable[[Scene], str]
    shows: Callable[[Any], set[int]]
    expected: Callable[[Scene], set[int]]


def _ids(items: list[dict[str, Any]]) -> set[int]:
    return {int(item["id"]) for item in items}


def _outside(scene: Scene) -> set[int]:
    return {scene.station(2).id, scene.station(3).id}


DIRECTORY_CASES: list[DirectoryCase] = [
    DirectoryCase(
        "/catalogue",
        lambda s: "/catalogue",
        lambda body: {len(body["categories"]), len(body["skills"])},
        lambda s: {10, 18},  # the seeded catalogue
    ),
    DirectoryCase(
        "/seasons",
        lambda s: "/seasons",
        lambda body: {len(body)},
        lambda s: {4},  # the four seeded seasons
    ),
    DirectoryCase(
        "/seasons/current",
        lambda s: "/seasons/current",
        lambda body: {body["season"] is not None, body["days_left"] >= 1},
        lambda s: {True},  # the default calendar covers every day
    ),
    DirectoryCase(
        "/seasons/year/{year}",
        lambda s: "/seasons/year/2026",
        lambda body: {len(body["seasons"]), len(body["festivals"])},
        lambda s: {4, 8},
    ),
    DirectoryCase(
        "/seasons/festivals",
        lambda s: "/seasons/festivals?year=2026",
        lambda body: {len(body["festivals"])},
        lambda s: {8},
    ),
    DirectoryCase(
        "/org-units",
        lambda s: f"/org-units?parent_id={s.tree.townships[1].id}",
        _ids,
        _outside,
    ),
    DirectoryCase(
        "/org-units/locate",
        lambda s: f"/org-units/locate?lat={s.station(3).lat}&lng={s.station(3).lng}",
        lambda body: {body["station"]["id"]},
        lambda s: {s.station(3).id},
    ),
    DirectoryCase(
        "/org-units/{unit_id}",
        lambda s: f"/org-units/{s.station(3).id}",
        lambda body: {body["id"], *_ids(body["ancestors"])},
        lambda s: {s.station(3).id, s.tree.townships[1].id, s.tree.county.id, s.tree.city.id},
    ),
    DirectoryCase(
        "/org-units/{unit_id}/subtree",
        lambda s: f"/org-units/{s.tree.townships[1].id}/subtree",
        lambda body: _ids(body["items"]),
        lambda s: {s.tree.townships[1].id, *_outside(s)},
    ),
]


@pytest.mark.parametrize("case", DIRECTORY_CASES, ids=[c.route for c in DIRECTORY_CASES])
def test_directory_is_readable_outside_the_subtree(
    client: TestClient, scene: Scene, case: DirectoryCase
) -> None:
    r = client.get(API + case.path(scene), headers=scene.headers())
    assert r.status_code == 200, r.text
    assert case.shows(r.json()) == case.expected(scene)
    anonymous = client.get(API + case.path(scene))
    assert (anonymous.status_code, error_code(anonymous)) == (401, "UNAUTHORIZED")


def test_import_routes_scope(client: TestClient, scene: Scene) -> None:
    """Bulk import: the template offers the caller's own stations only; an upload into a unit
    outside the subtree is 404 and writes nothing; another subtree's import is 404 to read."""
    r = client.get(f"{API}/imports/templates/volunteers", headers=scene.headers())
    assert r.status_code == 200, r.text
    notes = load_workbook(BytesIO(r.content))["说明"]
    shown = {str(v) for row in notes.iter_rows(values_only=True) for v in row if v}
    assert [scene.station(i).code in shown for i in range(4)] == [True, True, False, False]

    row = {"name": "新志愿者", "phone": "13700001111", "station_code": scene.station(2).code}
    data = workbook(ImportKind.VOLUNTEERS, [row])
    before = state(scene.session)
    for index in OUTSIDE:
        path = f"{API}/org-units/{scene.station(index).id}/imports/volunteers"
        r = client.post(path, files=upload(data), headers=scene.headers())
        assert (r.status_code, error_code(r)) == (404, UNIT_404)
    assert state(scene.session) == before

    outsider = make_coordinator(scene.session, scene.tree.townships[1])
    r = client.post(
        f"{API}/org-units/{scene.station(2).id}/imports/volunteers",
        files=upload(data),
        headers=scene.headers(outsider),
    )
    assert r.json()["status"] == "done", r.text
    theirs = r.json()["id"]
    r = client.get(f"{API}/imports/{theirs}", headers=scene.headers())
    assert (r.status_code, error_code(r)) == (404, "IMPORT_NOT_FOUND")
    r = client.get(f"{API}/imports/{theirs}", headers=scene.headers(outsider))
    assert r.status_code == 200 and r.json()["status"] == "done"


# ---------------------------------------------------------------- every route has a case

# Routes with no scope to check, and why.
EXEMPT: dict[tuple[str, str], str] = {
    ("POST", "/auth/login"): "public: logging in needs no scope",
    ("POST", "/activities/{activity_id}/signup"): (
        "a published activity is open to any volunteer it fits (the hard constraints, not the "
        "organisers' subtree); drafts are not found (tests/activities)"
    ),
    ("POST", "/activities/{activity_id}/signup/cancel"): "the caller's own sign-up",
    ("POST", "/activities/{activity_id}/team-signup"): (
        "a team lead names their own team's members; no coordinator power is used"
    ),
    ("POST", "/activity-callups/{callup_id}/accept"): "the caller's own call-up",
    ("POST", "/activity-callups/{callup_id}/decline"): "the caller's own call-up",
    ("GET", "/me/activities"): "the caller's own sign-ups",
    ("POST", "/auth/dev-login"): "public (development only): logging in needs no scope",
    ("POST", "/auth/wechat/login"): "public: logging in needs no scope",
    ("POST", "/auth/refresh"): "public: the refresh token is the credential, it names its session",
    ("POST", "/auth/logout"): "the caller's own session",
    ("POST", "/auth/password"): "the caller's own password",
    ("POST", "/auth/wechat/phone"): "the caller's own phone number",
    ("POST", "/me/volunteer"): (
        "the caller's own profile; a coordinator may volunteer where they live, inside their "
        "subtree or not"
    ),
    ("GET", "/me/consents"): "the caller's own consents",
    ("GET", "/me/consents/{purpose}"): "the caller's own consent",
    ("PUT", "/me/consents/{purpose}"): "the caller's own consent",
    ("GET", "/me/access-log"): "who read the caller's own data",
    ("GET", "/me/pairings"): "the pairings the caller helps in",
    ("GET", "/household-categories"): "the catalogue of household categories, the same for all",
    ("DELETE", "/me"): "the caller's own account",
    ("GET", "/consent-texts/{purpose}"): "public: the texts are read before signing in",
    ("GET", "/me/hours"): "the caller's own service record",
    ("GET", "/me/record-export"): "the caller's own service record",
    ("GET", "/me/points"): "the caller's own points",
    ("GET", "/me/stars"): "the caller's own stars",
    ("GET", "/me/certificates"): "the caller's own certificates",
    ("GET", "/me/notification-preferences"): "the caller's own push settings",
    ("PUT", "/me/notification-preferences"): "the caller's own push settings",
    ("GET", "/me/subscriptions"): "the caller's own WeChat subscriptions",
    ("POST", "/me/subscriptions"): "the caller's own WeChat subscriptions",
    ("GET", "/star-ladders"): "the jurisdictions' star tables are public to every user",
    ("GET", "/public/certificates/{number}"): "public verification of a certificate by number",
}

# Routes checked by a test of their own (the test's name).
OWN_TESTS: dict[tuple[str, str], str] = {
    **{
        route: "test_activity_routes_scope"
        for route in (
            ("POST", "/activities"),
            ("GET", "/activities"),
            ("GET", "/activities/{activity_id}"),
            ("PATCH", "/activities/{activity_id}"),
            ("POST", "/activities/{activity_id}/publish"),
            ("POST", "/activities/{activity_id}/cancel"),
            ("GET", "/activities/{activity_id}/signups"),
            ("GET", "/activities/{activity_id}/attendance"),
            ("POST", "/activities/{activity_id}/sessions/{session_id}/check-in"),
            ("POST", "/activities/{activity_id}/sessions/{session_id}/check-out"),
        )
    },
    ("POST", "/wishes"): "test_create_wish_on_behalf_only_inside_scope",
    ("GET", "/me"): "test_me_names_the_coordinated_unit",
    ("GET", "/me/wishes"): "test_my_wishes_are_only_mine",
    **{
        route: "test_inbox_is_only_mine"
        for route in (
            ("GET", "/me/notifications"),
            ("GET", "/me/notifications/unread-count"),
            ("POST", "/me/notifications/{notification_id}/read"),
            ("POST", "/me/notifications/read-all"),
        )
    },
    **{
        route: "test_ranking_routes_scope"
        for route in (
            ("GET", "/org-units/{unit_id}/ranking"),
            ("GET", "/org-units/{unit_id}/ranking-weights"),
            ("PUT", "/org-units/{unit_id}/ranking-weights"),
            ("DELETE", "/org-units/{unit_id}/ranking-weights"),
        )
    },
    ("GET", "/org-units/{unit_id}/dispatch-policy"): "test_policy_inherits_and_scopes",
    ("PUT", "/org-units/{unit_id}/dispatch-policy"): "test_policy_inherits_and_scopes",
    **{
        route: "test_record_routes_scope"
        for route in (
            ("POST", "/wishes/{wish_id}/team"),
            ("GET", "/wishes/{wish_id}/service-records"),
            ("POST", "/wishes/{wish_id}/feedback"),
            ("POST", "/service-records/{record_id}/confirm"),
            ("POST", "/service-records/{record_id}/reject"),
            ("GET", "/org-units/{unit_id}/service-records"),
            ("GET", "/org-units/{unit_id}/record-flags"),
            ("GET", "/org-units/{unit_id}/record-rules"),
            ("PUT", "/org-units/{unit_id}/record-rules"),
            ("GET", "/volunteers/{volunteer_id}/hours"),
            ("POST", "/volunteers/{volunteer_id}/record-entries"),
            ("POST", "/hours-entries/{entry_id}/corrections"),
            ("GET", "/volunteers/{volunteer_id}/record-export"),
        )
    },
    **{
        route: "test_points_routes_scope"
        for route in (
            ("GET", "/volunteers/{volunteer_id}/points"),
            ("POST", "/volunteers/{volunteer_id}/points/redemptions"),
            ("POST", "/volunteers/{volunteer_id}/points/adjustments"),
        )
    },
    **{
        route: "test_star_routes_scope"
        for route in (
            ("GET", "/volunteers/{volunteer_id}/stars"),
            ("GET", "/org-units/{unit_id}/star-notices"),
            ("POST", "/star-awards/{award_id}/objection"),
            ("POST", "/star-awards/{award_id}/resolve"),
            ("PUT", "/star-ladders/{code}"),
        )
    },
    ("GET", "/org-units/{unit_id}/honour-list"): "test_honour_list_scope",
    **dict.fromkeys(test_scope_teams.ROUTES, "test_team_routes_scope"),
    **dict.fromkeys(pairings_scope.ROUTES, "test_pairing_routes_scope"),
    ("POST", "/pairings/{pairing_id}/visits/check-in"): "test_visit_check_in_is_the_helpers_only",
    ("GET", "/org-units/{unit_id}/ledger"): "test_ledger_scope",
    ("GET", "/dispatch-plan/applies/{apply_id}"): "test_batch_apply_scope",
    **{
        route: "test_import_routes_scope"
        for route in (
            ("GET", "/imports/templates/{kind}"),
            ("POST", "/org-units/{unit_id}/imports/{kind}"),
            ("GET", "/imports/{import_id}"),
        )
    },
    **{
        ("GET", f"/org-units/{{unit_id}}/stats{tail}"): "test_stats_routes_scope"
        for tail in ("", "/series", "/drill", "/export")
    },
    **{
        route: "test_certificate_routes_scope"
        for route in (
            ("POST", "/volunteers/{volunteer_id}/certificates"),
            ("GET", "/volunteers/{volunteer_id}/certificates"),
            ("POST", "/me/certificates"),
            ("GET", "/certificates/{number}/pdf"),
        )
    },
}


def _covered() -> dict[tuple[str, str], list[str]]:
    """Route → where it is covered."""
    covered: dict[tuple[str, str], list[str]] = {}
    keys: list[tuple[tuple[str, str], str]] = [
        *(((c.method, c.route), "RESOURCE_CASES") for c in RESOURCE_CASES),
        *(((c.method, c.route), "DENIED_CASES") for c in DENIED_CASES),
        *((("GET", c.route), "LIST_CASES") for c in LIST_CASES),
        *((("GET", c.route), "DIRECTORY_CASES") for c in DIRECTORY_CASES),
        *((key, name) for key, name in OWN_TESTS.items()),
        *((key, "EXEMPT") for key in EXEMPT),
    ]
    for key, where in keys:
        if where not in covered.get(key, []):
            covered.setdefault(key, []).append(where)
    return covered


def test_ranking_routes_scope(client: TestClient, scene: Scene) -> None:
    """The ranking and its weights of a unit in the subtree; a unit outside it (a sibling, or
    the unit above the coordinator's) is not found and its weights do not change (set or
    removed)."""
    weights = {"weights": [{"indicator": "hours", "weight": 10}]}
    inside = scene.unit("township0")
    r = client.get(f"{API}/org-units/{inside.id}/ranking", headers=scene.headers())
    assert r.status_code == 200, r.text
    assert [row["unit"]["id"] for row in r.json()["rows"]] == [
        scene.station(0).id,
        scene.station(1).id,
    ]
    r = client.put(
        f"{API}/org-units/{inside.id}/ranking-weights", json=weights, headers=scene.headers()
    )
    assert r.status_code == 200, r.text
    r = client.get(f"{API}/org-units/{inside.id}/ranking-weights", headers=scene.headers())
    assert r.status_code == 200, r.text
    assert r.json()["inherited"] is False
    # Units outside that set their own weights, which a DELETE from outside must not remove.
    for name in ("township1", "county"):
        ranking.set_weights(
            session=scene.session, unit=scene.unit(name), given=[("hours", 20)], actor_id=None
        )
    for name in ("township1", "county", "station2"):
        unit = scene.unit(name)
        before = scene.session.scalar(select(func.count()).select_from(RankingWeight))
        for method, tail, body in (
            ("GET", "ranking", None),
            ("GET", "ranking-weights", None),
            ("PUT", "ranking-weights", weights),
            ("DELETE", "ranking-weights", None),
        ):
            r = client.request(
                method, f"{API}/org-units/{unit.id}/{tail}", json=body, headers=scene.headers()
            )
            assert r.status_code == 404, r.text
            assert error_code(r) == UNIT_404
        after = scene.session.scalar(select(func.count()).select_from(RankingWeight))
        assert after == before
    # Inside, the unit's own weights go and the county's apply again.
    r = client.delete(f"{API}/org-units/{inside.id}/ranking-weights", headers=scene.headers())
    assert r.status_code == 200, r.text
    assert (r.json()["inherited"], r.json()["source_unit"]["id"]) == (True, scene.unit("county").id)


def test_every_route_has_a_scope_case(app: FastAPI) -> None:
    routes = {
        (method.upper(), path.removeprefix(API))
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert ("POST", "/wishes/{wish_id}/accept") in routes  # the prefix is stripped
    covered = _covered()
    missing = sorted(routes - set(covered))
    assert missing == [], f"routes without a scope case or a commented exemption: {missing}"
    stale = sorted(set(covered) - routes)
    assert stale == [], f"cases for routes that no longer exist: {stale}"
    both = sorted(key for key, where in covered.items() if "EXEMPT" in where and len(where) > 1)
    assert both == [], f"exempt and also tested: {both}"
    for name in OWN_TESTS.values():
        assert callable(globals().get(name) or _elsewhere(name)), f"{name} does not exist"


def _elsewhere(name: str) -> object:
    """Own tests kept with their domain's tests."""
    from tests.activities import test_scope as test_activities_scope
    from tests.dispatch.batch import test_background
    from tests.pairings import test_pairings_scope
    from tests.records import test_service_records
    from tests.records.certificates import test_certificates
    from tests.records.honour import test_honour
    from tests.records.points import test_points
    from tests.records.stars import test_stars
    from tests.rules import test_dispatch_policy
    from tests.stats import test_api as test_stats

    modules = (test_dispatch_policy, test_service_records, test_points, test_stars, test_honour,
               test_certificates, test_stats, test_background, test_scope_teams,
               test_pairings_scope, test_activities_scope)  # fmt: skip
    for module in modules:
        found = getattr(module, name, None)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- other callers


def test_county_coordinator_sees_both_townships(client: TestClient, populated: Populated) -> None:
    scene = populated.scene
    headers = scene.headers(make_coordinator(scene.session, scene.tree.county))
    every = range(4)
    assert listed(client, "/wishes", headers) == populated.ids("wishes", every)
    assert listed(client, "/wishes/review-queue", headers) == populated.ids("submitted", every)
    assert listed(client, "/volunteers", headers) == populated.ids("volunteers", every)
    for index in (0, 3):
        wish_id = populated.rows["submitted"][index]
        r = client.post(f"{API}/wishes/{wish_id}/approve", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved"


def test_coordinator_of_two_units_sees_both(client: TestClient, populated: Populated) -> None:
    scene = populated.scene
    grants: list[tuple[AccountRole, OrgUnit | None]] = [
        (AccountRole.COORDINATOR, scene.station(0)),
        (AccountRole.COORDINATOR, scene.station(3)),
    ]
    headers = scene.headers(make_user(scene.session, roles=grants))
    assert listed(client, "/wishes", headers) == populated.ids("wishes", (0, 3))
    assert listed(client, "/volunteers", headers) == populated.ids("volunteers", (0, 3))
    r = client.get(f"{API}/wishes/{populated.rows['submitted'][1]}", headers=headers)
    assert (r.status_code, error_code(r)) == (404, "WISH_NOT_FOUND")


def test_station_coordinator_cannot_act_on_the_sibling_station(
    client: TestClient, populated: Populated
) -> None:
    scene = populated.scene
    headers = scene.headers(make_coordinator(scene.session, scene.station(0)))
    sibling_wish = populated.rows["submitted"][1]
    sibling_volunteer = populated.rows["volunteers"][1]
    before = state(scene.session)
    for method, path, body, code in (
        ("GET", f"/wishes/{sibling_wish}", None, WISH_404),
        ("POST", f"/wishes/{sibling_wish}/approve", None, WISH_404),
        ("POST", f"/wishes/{sibling_wish}/cancel", REASON, WISH_404),
        ("GET", f"/volunteers/{sibling_volunteer}", None, "VOLUNTEER_NOT_FOUND"),
        ("POST", f"/volunteers/{sibling_volunteer}/suspend", REASON, "VOLUNTEER_NOT_FOUND"),
    ):
        r = client.request(method, API + path, json=body, headers=headers)
        assert (r.status_code, error_code(r)) == (404, code), path
    assert state(scene.session) == before
    assert listed(client, "/wishes", headers) == populated.ids("wishes", (0,))
    assert listed(client, "/wishes", headers, station_id=scene.station(1).id) == set()
    assert listed(client, "/volunteers", headers) == populated.ids("volunteers", (0,))
    own_wish = populated.rows["submitted"][0]
    r = client.post(f"{API}/wishes/{own_wish}/approve", headers=headers)
    assert r.status_code == 200, r.text


def test_admin_sees_everything(client: TestClient, populated: Populated) -> None:
    scene = populated.scene
    headers = scene.headers(make_admin(scene.session))
    every = range(4)
    assert listed(client, "/wishes", headers) == populated.ids("wishes", every)
    assert listed(client, "/volunteers", headers) == populated.ids("volunteers", every)


def test_resident_cannot_see_or_touch_anothers_wish(client: TestClient, scene: Scene) -> None:
    _, volunteer = scene.volunteer(0)
    pending = scene.wish(0)
    done = scene.wish(0, WishStatus.COMPLETED, assignee=volunteer)
    headers = scene.headers(make_resident(scene.session))
    before = state(scene.session)
    for method, path, body in (
        ("GET", f"/wishes/{pending.id}", None),
        ("GET", f"/wishes/{pending.id}/events", None),
        ("POST", f"/wishes/{pending.id}/cancel", {}),
        ("POST", f"/wishes/{done.id}/rate", {"score": 1}),
    ):
        r = client.request(method, API + path, json=body, headers=headers)
        assert (r.status_code, error_code(r)) == (404, WISH_404), path
    assert state(scene.session) == before
    assert listed(client, "/me/wishes", headers) == set()
    r = client.get(f"{API}/wishes", headers=headers)
    assert (r.status_code, error_code(r)) == (403, "STAFF_ONLY")
    # The requester may do both.
    owner = scene.headers(scene.resident)
    r = client.post(f"{API}/wishes/{done.id}/rate", json={"score": 5}, headers=owner)
    assert (r.status_code, r.json()["status"]) == (200, "rated"), r.text
    r = client.post(f"{API}/wishes/{pending.id}/cancel", json={}, headers=owner)
    assert (r.status_code, r.json()["status"]) == (200, "cancelled"), r.text


def test_volunteer_sees_only_offered_assigned_or_grabbable(
    client: TestClient, scene: Scene
) -> None:
    user, me = scene.volunteer(0)
    _, other = scene.volunteer(0)
    headers = scene.headers(user)
    offered = scene.wish(0, WishStatus.DISPATCHING, offer_to=[me])
    assigned = scene.wish(0, WishStatus.ACCEPTED, assignee=me)
    grabbable = scene.wish(0, WishStatus.DISPATCHING, grab_open=True, skills=("errands",))
    hidden = {
        "submitted nearby": scene.wish(0),
        "offered to another": scene.wish(0, WishStatus.DISPATCHING, offer_to=[other]),
        "taken by another": scene.wish(0, WishStatus.ACCEPTED, assignee=other),
        "grab, out of reach": scene.wish(2, WishStatus.DISPATCHING, grab_open=True),
        "grab, skill missing": scene.wish(
            0, WishStatus.DISPATCHING, grab_open=True, skills=("medical",)
        ),
    }
    for wish, redacted in ((offered, True), (assigned, False), (grabbable, True)):
        r = client.get(f"{API}/wishes/{wish.id}", headers=headers)
        assert r.status_code == 200, r.text
        assert (r.json()["my_roles"], r.json()["redacted"]) == (["volunteer"], redacted)
    before = state(scene.session)
    for name, wish in hidden.items():
        for method, verb in (("GET", ""), ("POST", "/accept")):
            r = client.request(method, f"{API}/wishes/{wish.id}{verb}", headers=headers)
            assert (r.status_code, error_code(r)) == (404, WISH_404), name
    assert state(scene.session) == before
    # Volunteers read neither the history nor the dispatch records.
    r = client.get(f"{API}/wishes/{offered.id}/events", headers=headers)
    assert (r.status_code, error_code(r)) == (403, "ROLE_NOT_ALLOWED")
    r = client.get(f"{API}/wishes/{offered.id}/offers", headers=headers)
    assert (r.status_code, error_code(r)) == (403, "STAFF_ONLY")
    # Their lists hold only what is theirs.
    open_ids = [w["id"] for w in client.get(f"{API}/wishes/open", headers=headers).json()]
    assert open_ids == [grabbable.id]
    offers = client.get(f"{API}/me/offers", headers=headers).json()["items"]
    assert [o["wish_id"] for o in offers] == [offered.id]
    assert listed(client, "/me/tasks", headers) == {assigned.id}
    r = client.get(f"{API}/volunteers", headers=headers)
    assert (r.status_code, error_code(r)) == (403, "STAFF_ONLY")
    assert client.get(f"{API}/volunteers/{me.id}", headers=headers).status_code == 200
    r = client.get(f"{API}/volunteers/{other.id}", headers=headers)
    assert (r.status_code, error_code(r)) == (404, "VOLUNTEER_NOT_FOUND")


def test_suspended_volunteer_is_shown_no_open_wishes(client: TestClient, scene: Scene) -> None:
    """A suspended volunteer is shown no grab-open wish in GET /wishes/open, and opening one
    answers 404, as for any wish they may not grab."""
    user, _ = scene.volunteer(0, status=VolunteerStatus.SUSPENDED)
    wish = scene.wish(0, WishStatus.DISPATCHING, grab_open=True)
    headers = scene.headers(user)
    r = client.get(f"{API}/wishes/{wish.id}", headers=headers)
    assert (r.status_code, error_code(r)) == (404, WISH_404)
    assert client.get(f"{API}/wishes/open", headers=headers).json() == []


def test_volunteer_cannot_grab_their_own_wish(client: TestClient, scene: Scene) -> None:
    """A resident who also volunteers cannot accept (grab) a wish they placed: 403, nothing
    changed, as offers to the requester are refused and /wishes/open hides one's own wishes."""
    user, _ = scene.volunteer(0)
    own = make_wish(
        scene.session,
        station=scene.station(0),
        requester=user,
        status=WishStatus.DISPATCHING,
        grab_open=True,
    )
    before = state(scene.session)
    r = client.post(f"{API}/wishes/{own.id}/accept", headers=scene.headers(user))
    assert r.status_code == 403, r.text
    assert error_code(r) in {"ROLE_NOT_ALLOWED", "NOT_ELIGIBLE"}
    assert state(scene.session) == before


def test_ledger_scope(client: TestClient, scene: Scene) -> None:
    """The station's ledger: the coordinator's own units and those below are exported, a unit
    outside the subtree (a sibling township's station, the county above) is 404, a resident is
    refused, an admin exports any unit; nothing changes."""
    _, volunteer = scene.volunteer(2)
    scene.wish(2, WishStatus.COMPLETED, assignee=volunteer)
    admin = scene.headers(make_admin(scene.session))
    resident = scene.headers(scene.resident)
    before = state(scene.session)
    for name in ("township0", "station0", "station1"):
        for fmt in ("xlsx", "csv", "pdf"):
            r = client.get(
                f"{API}/org-units/{scene.unit(name).id}/ledger",
                params={"format": fmt},
                headers=scene.headers(),
            )
            assert r.status_code == 200, (name, fmt, r.text)
    for name in ("station2", "township1", "county", "city"):
        r = client.get(f"{API}/org-units/{scene.unit(name).id}/ledger", headers=scene.headers())
        assert (r.status_code, error_code(r)) == (404, UNIT_404), name
    r = client.get(f"{API}/org-units/{scene.station(0).id}/ledger", headers=resident)
    assert (r.status_code, error_code(r)) == (403, "STAFF_ONLY")
    r = client.get(f"{API}/org-units/{scene.tree.city.id}/ledger", headers=admin)
    assert r.status_code == 200, r.text
    assert state(scene.session) == before
