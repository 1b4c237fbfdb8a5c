"""Check-in and check-out through the API: the fence, the service window, a coordinator's manual
check when the volunteer has not consented to location, and WGS-84 fixes."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Attendance
from tests.fixtures.builders import KM_LNG
from tests.fixtures.service import API, Scene, error


def test_outside_the_fence_or_the_window_is_refused_and_writes_nothing(scene: Scene) -> None:
    before = scene.counts()
    far = {"lat": scene.place["lat"], "lng": scene.place["lng"] + 0.6 * KM_LNG}
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", far)
    assert r.status_code == 400 and error(r) == "OUTSIDE_FENCE"
    assert r.json()["error"]["details"]["fence_m"] == 500
    assert 580 <= r.json()["error"]["details"]["distance_m"] <= 620
    scene.frozen.advance(hours=-2)  # two hours early
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", scene.place)
    assert r.status_code == 400 and error(r) == "OUTSIDE_SERVICE_WINDOW"
    for bad in ({"lat": 91, "lng": 0}, {"lat": 30.0}, {"lat": "北纬", "lng": 119}):
        r = scene.post(f"/wishes/{scene.wish.id}/check-in", bad)
        assert r.status_code == 422, r.text
    assert scene.counts() == before
    # A wider fence for the unit lets the same phone in.
    scene.frozen.advance(hours=2)
    r = scene.client.put(f"{API}/org-units/{scene.station.id}/record-rules",
                         json={"fence_m": 800}, headers=scene.h(scene.coordinator))  # fmt: skip
    assert r.status_code == 200 and r.json()["effective"]["fence_m"] == 800, r.text
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", far)
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text


def test_without_consent_a_coordinator_checks_in_and_the_record_is_flagged(scene: Scene) -> None:
    r = scene.client.put(f"{API}/me/consents/location", json={"granted": False},
                         headers=scene.h())  # fmt: skip
    assert r.status_code == 200 and r.json()["granted"] is False
    before = scene.counts()
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", scene.place)
    assert r.status_code == 409 and error(r) == "LOCATION_CONSENT_REQUIRED"
    # The coordinator must say why.
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", {}, scene.coordinator)
    assert r.status_code == 400 and error(r) == "REASON_REQUIRED"
    assert scene.counts() == before
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", {"reason": "志愿者未授权定位，现场核实"},
                   scene.coordinator)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text
    [record] = scene.records()
    assert record["manual"] is True and record["check_in_method"] == "manual"
    row = scene.session.get(Attendance, record["id"])
    assert row is not None and row.check_in_fix is None  # no location kept
    flags = scene.get(f"/org-units/{scene.station.id}/record-flags", scene.coordinator).json()
    assert flags == []  # flagged once checked out, when it awaits confirmation
    scene.frozen.advance(minutes=90)
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", {"reason": "现场核实"}, scene.coordinator)
    assert r.status_code == 200, r.text
    flags = scene.get(f"/org-units/{scene.station.id}/record-flags", scene.coordinator).json()
    assert [(f["kind"], f["attendance_ids"]) for f in flags] == [("MANUAL", [record["id"]])]
    r = scene.confirm(record["id"])
    assert r.status_code == 200
    [entry] = scene.get("/me/hours").json()["entries"]
    assert entry["verification"] == "manual"


def test_a_wgs84_fix_at_the_door_passes_the_fence_once_converted(scene: Scene) -> None:
    """`wx.getLocation` gives WGS-84 by default: some 540 m from the GCJ-02 map point around
    安吉, more than the 500 m fence. Named as WGS-84 it is converted and passes; taken for
    GCJ-02 it would fail."""
    import geocoordinates_ffi

    from app.geo import distance_m

    door = geocoordinates_ffi.gcj02_to_wgs84_refined(
        geocoordinates_ffi.Gcj02(lat=scene.place["lat"], lon=scene.place["lng"])
    )
    fix = {"lat": door.lat, "lng": door.lon}
    assert distance_m(door.lat, door.lon, scene.place["lat"], scene.place["lng"]) > 500
    before = scene.counts()
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", fix)
    assert r.status_code == 400 and error(r) == "OUTSIDE_FENCE", r.text
    assert scene.counts() == before
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", {**fix, "coord_system": "wgs84"})
    assert r.status_code == 200, r.text
    row = scene.session.scalars(select(Attendance).where(Attendance.wish_id == scene.wish.id)).one()
    scene.session.refresh(row)
    # The fix is stored in GCJ-02, within a metre of the door on the map.
    assert row.check_in_fix is not None
    assert distance_m(*row.check_in_fix, *scene.place.values()) < 1.0
