"""Checks made offline and uploaded later: the phone's time within the unit's late-sync window, and
the nonce that makes an upload idempotent."""

from __future__ import annotations

from datetime import timedelta

from app.models import Wish
from app.models.enums import WishStatus
from tests.fixtures.builders import make_wish
from tests.fixtures.service import START, Scene, error


def test_late_sync_is_accepted_in_the_window_flagged_and_idempotent(scene: Scene) -> None:
    # Checked in offline at 10:05, uploaded at 13:00 with the phone's time and a nonce.
    scene.frozen.advance(hours=3)
    check = {**scene.place, "client_time": (START + timedelta(minutes=5)).isoformat(),
             "nonce": "offline-0001"}  # fmt: skip
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", check)
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text
    before = scene.counts()
    again = scene.post(f"/wishes/{scene.wish.id}/check-in", check)
    assert again.status_code == 200 and again.json()["status"] == "in_service"
    assert scene.counts() == before
    [record] = scene.records()
    assert record["late_sync"] is True
    assert record["checked_in_at"].startswith("2027-03-02T02:05")
    # Beyond the unit's late-sync window (72 h by default), or in the future: refused.
    out = {**scene.place, "client_time": (START - timedelta(days=4)).isoformat()}
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", out)
    assert r.status_code == 400 and error(r) == "LATE_SYNC_EXPIRED"
    ahead = {**scene.place, "client_time": (scene.frozen.now + timedelta(hours=1)).isoformat()}
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", ahead)
    assert r.status_code == 400 and error(r) == "CLIENT_TIME_IN_FUTURE"
    earlier = {**scene.place, "client_time": START.isoformat()}
    r = scene.post(f"/wishes/{scene.wish.id}/check-out", earlier)
    assert r.status_code == 400 and error(r) == "CHECK_OUT_BEFORE_CHECK_IN"
    assert scene.counts() == before
    for bad in ({"nonce": "短"}, {"client_time": "昨天"}, {"nonce": "x" * 65}):
        r = scene.post(f"/wishes/{scene.wish.id}/check-out", {**scene.place, **bad})
        assert r.status_code == 422, r.text
    assert scene.counts() == before


def test_a_nonce_is_one_check_of_one_wish(scene: Scene) -> None:
    """The same nonce again on the same wish is the same check (even when a coordinator sends
    it for the lead); on another wish of the same volunteer it is refused and changes nothing."""
    check = {**scene.place, "nonce": "offline-0002"}
    r = scene.post(f"/wishes/{scene.wish.id}/check-in", check)
    assert r.status_code == 200 and r.json()["status"] == "in_service", r.text
    before = scene.counts()
    again = scene.post(f"/wishes/{scene.wish.id}/check-in", {**check, "reason": "补传"},
                       scene.coordinator)  # fmt: skip
    assert again.status_code == 200 and again.json()["status"] == "in_service", again.text
    assert scene.counts() == before
    other = make_wish(scene.session, station=scene.station, requester=scene.requester,
                      status=WishStatus.ACCEPTED, assignee=scene.volunteer)  # fmt: skip
    other.wanted_start_at, other.wanted_end_at = START, START + timedelta(hours=2)
    scene.session.flush()
    r = scene.post(f"/wishes/{other.id}/check-in", check)
    assert r.status_code == 409 and error(r) == "CHECK_NONCE_REUSED", r.text
    scene.session.expire_all()
    assert scene.session.get(Wish, other.id).status == WishStatus.ACCEPTED  # type: ignore[union-attr]
    assert scene.counts() == before
