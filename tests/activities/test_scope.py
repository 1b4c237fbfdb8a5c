"""A coordinator organises activities only inside their subtree: an activity of a unit outside
it is not found by any organiser's route (read or write), nothing changes, and its drafts are
not listed; inside, the same requests go through."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.models import Activity, ActivitySignup, Attendance
from tests.activities.conftest import Scene, activity_body
from tests.fixtures.builders import auth, make_coordinator

ROUTES = (
    ("GET", "", None),
    ("PATCH", "", {"title": "改个名字"}),
    ("POST", "/publish", None),
    ("POST", "/cancel", {"reason": "不办了"}),
    ("GET", "/signups", None),
    ("GET", "/attendance", None),
)


def _counts(scene: Scene) -> tuple[int, ...]:
    scene.session.expire_all()
    return tuple(
        scene.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Activity, ActivitySignup, Attendance)
    )


def _state(scene: Scene, activity_id: int) -> tuple[str, str, int]:
    scene.session.expire_all()
    a = scene.session.get(Activity, activity_id)
    assert a is not None
    return a.status, a.title, a.version


def test_activity_routes_scope(scene: Scene) -> None:
    outsider = make_coordinator(scene.session, scene.tree.townships[1])
    # Publishing for a unit outside the subtree.
    r = scene.post("/activities", activity_body(scene.station), outsider)
    assert r.status_code == 404 and r.json()["error"]["code"] == "ORG_UNIT_NOT_FOUND"
    draft = scene.publish(publish=False)
    before, state = _counts(scene), _state(scene, draft["id"])
    for method, tail, body in ROUTES:
        r = scene.client.request(
            method,
            f"/api/v1/activities/{draft['id']}{tail}",
            json=body,
            headers=auth(outsider, scene.settings),
        )
        assert r.status_code == 404, (method, tail, r.text)
        assert r.json()["error"]["code"] == "ACTIVITY_NOT_FOUND"
    assert _counts(scene) == before and _state(scene, draft["id"]) == state
    listed = scene.get("/activities", outsider, status="draft").json()["items"]
    assert listed == []
    # A manual check at a session by a coordinator outside: not found, nothing written.
    start = clock.now() - timedelta(minutes=10)
    live = scene.publish(
        festival_code=None,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        signup_opens_at=(start - timedelta(days=1)).isoformat(),
        signup_closes_at=(start + timedelta(hours=1)).isoformat(),
    )
    user, volunteer = scene.volunteer()
    assert scene.post(f"/activities/{live['id']}/signup", user=user).status_code == 200
    sitting = live["sessions"][0]["id"]
    manual = {"volunteer_id": volunteer.id, "reason": "室内无法定位"}
    before = _counts(scene)
    for verb in ("check-in", "check-out"):
        r = scene.post(f"/activities/{live['id']}/sessions/{sitting}/{verb}", manual, outsider)
        assert r.status_code == 404 and r.json()["error"]["code"] == "ACTIVITY_NOT_FOUND"
    assert _counts(scene) == before
    # Inside, the same requests go through.
    for method, tail, body in ROUTES[:2] + ROUTES[4:]:
        r = scene.client.request(
            method,
            f"/api/v1/activities/{draft['id']}{tail}",
            json=body,
            headers=auth(scene.coordinator, scene.settings),
        )
        assert r.status_code == 200, (method, tail, r.text)
    r = scene.post(f"/activities/{live['id']}/sessions/{sitting}/check-in", manual)
    assert r.status_code == 200, r.text
    assert [a["id"] for a in scene.get("/activities", status="draft").json()["items"]] == [
        draft["id"]
    ]
