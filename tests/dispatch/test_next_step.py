"""The ladder's next step, as coordinators see it on a wish (the console's countdown): what the
timers will do by themselves and when, computed by the same `decide` the scheduler runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.dispatch.timers import Action, LadderState, upcoming
from app.models.enums import WishStatus
from app.rules.dispatch import Policy
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    auth,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"
NOW = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, outside quiet hours
POLICY = Policy()


def state(status: WishStatus, **kw: object) -> LadderState:
    fields: dict[str, object] = {
        "status": status,
        "urgent": False,
        "submitted_at": NOW,
        "approved_at": None,
        "grab_open": False,
        "grab_opened_at": None,
        "escalated_at": None,
        "reminded_at": None,
        "in_service_at": None,
        "completed_at": None,
        "wanted_start_at": NOW + timedelta(days=1),
        "wanted_end_at": NOW + timedelta(days=1, hours=2),
        "pending_expiries": (),
    }
    fields.update(kw)
    return LadderState(**fields)  # type: ignore[arg-type]


def test_each_waiting_state_names_its_next_step_and_time() -> None:
    review = state(WishStatus.SUBMITTED)
    assert upcoming(review, POLICY, NOW) == (Action.ESCALATE, NOW + timedelta(minutes=240))
    offered = state(WishStatus.DISPATCHING, pending_expiries=(NOW + timedelta(minutes=30),))
    assert upcoming(offered, POLICY, NOW) == (Action.EXPIRE, NOW + timedelta(minutes=30))
    grab = state(WishStatus.DISPATCHING, grab_open=True, grab_opened_at=NOW)
    assert upcoming(grab, POLICY, NOW) == (Action.ESCALATE, NOW + timedelta(minutes=120))
    accepted = state(WishStatus.ACCEPTED)
    assert upcoming(accepted, POLICY, NOW) == (
        Action.REMIND,
        NOW + timedelta(days=1, minutes=30),
    )
    done = state(WishStatus.COMPLETED, completed_at=NOW)
    assert upcoming(done, POLICY, NOW) == (Action.CLOSE, NOW + timedelta(days=7))


def test_an_offer_outliving_the_window_ends_in_cancellation_at_the_window_end() -> None:
    late = state(
        WishStatus.DISPATCHING,
        wanted_end_at=NOW + timedelta(minutes=10),
        pending_expiries=(NOW + timedelta(minutes=30),),
    )
    assert upcoming(late, POLICY, NOW) == (Action.CANCEL, NOW + timedelta(minutes=10))


def test_quiet_hours_hold_the_next_round_until_morning() -> None:
    night = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    approved = state(
        WishStatus.APPROVED, approved_at=night, wanted_end_at=night + timedelta(days=2)
    )
    morning = datetime(2027, 3, 2, 23, 0, tzinfo=UTC)  # 07:00 the next day
    assert upcoming(approved, POLICY, night) == (Action.DISPATCH, morning)


def test_a_step_due_already_is_due_now_and_a_finished_wish_has_none() -> None:
    overdue = state(WishStatus.SUBMITTED, submitted_at=NOW - timedelta(hours=5))
    assert upcoming(overdue, POLICY, NOW) == (Action.ESCALATE, NOW)
    assert upcoming(state(WishStatus.CLOSED), POLICY, NOW) is None


def test_the_coordinator_sees_the_next_step_and_others_do_not(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, station)
    resident = make_resident(session)
    wish = make_wish(session, station=station, requester=resident)

    seen = client.get(f"{API}/wishes/{wish.id}", headers=auth(coordinator, settings))
    assert seen.status_code == 200, seen.text
    step = seen.json()["next_step"]
    assert step["action"] == "escalate"
    assert step["label"] == "超时未审核，上报上级单位"
    assert datetime.fromisoformat(step["at"]) == frozen.now + timedelta(minutes=240)

    own = client.get(f"{API}/wishes/{wish.id}", headers=auth(resident, settings))
    assert own.status_code == 200 and own.json()["next_step"] is None

    # Rejected: the wish is finished and nothing is ahead of it.
    frozen.advance(minutes=5)
    r = client.post(
        f"{API}/wishes/{wish.id}/reject",
        json={"reason": "不属于志愿服务范围"},
        headers=auth(coordinator, settings),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["next_step"] is None


def test_an_offered_wish_counts_down_to_the_offers_expiry(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, tree.townships[0])
    _, volunteer = make_volunteer(session, station)
    expires = frozen.now + timedelta(minutes=45)
    wish = make_wish(
        session,
        station=station,
        requester=make_resident(session),
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
        offer_expires_at=expires,
    )
    step = client.get(f"{API}/wishes/{wish.id}", headers=auth(coordinator, settings)).json()[
        "next_step"
    ]
    assert (step["action"], step["label"]) == ("expire", "派单邀请到期")
    assert datetime.fromisoformat(step["at"]) == expires

    frozen.advance(minutes=50)  # past the expiry, before the scheduler has run
    step = client.get(f"{API}/wishes/{wish.id}", headers=auth(coordinator, settings)).json()[
        "next_step"
    ]
    assert step["action"] == "expire"
    assert datetime.fromisoformat(step["at"]) == frozen.now


def test_a_rated_wish_without_a_completion_time_shows_no_step(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, station)
    _, volunteer = make_volunteer(session, station)
    wish = make_wish(
        session,
        station=station,
        requester=make_resident(session),
        status=WishStatus.RATED,
        assignee=volunteer,
    )
    assert wish.completed_at is None
    seen = client.get(f"{API}/wishes/{wish.id}", headers=auth(coordinator, settings))
    assert seen.status_code == 200, seen.text
    assert seen.json()["next_step"] is None
    wish.completed_at = frozen.now - timedelta(days=1)
    session.flush()
    step = client.get(f"{API}/wishes/{wish.id}", headers=auth(coordinator, settings)).json()[
        "next_step"
    ]
    assert (step["action"], step["label"]) == ("close", "评价期满，自动办结")
    assert datetime.fromisoformat(step["at"]) == frozen.now + timedelta(days=6)


def test_the_list_shows_each_wishs_next_step_as_its_view_does(
    client: TestClient, session: Session, settings: Settings, frozen: Clock
) -> None:
    """`GET /wishes` (the console's list with a countdown per row) gives every row the step its
    own view gives, over more than one page."""
    tree = make_tree(session)
    station = tree.stations[0]
    coordinator = make_coordinator(session, tree.townships[0])
    resident = make_resident(session)
    _, volunteer = make_volunteer(session, station)
    wishes = [
        make_wish(session, station=station, requester=resident),
        make_wish(
            session,
            station=tree.stations[1],
            requester=resident,
            status=WishStatus.DISPATCHING,
            offer_to=[volunteer],
            offer_expires_at=frozen.now + timedelta(minutes=45),
        ),
        make_wish(session, station=station, requester=resident, status=WishStatus.APPROVED),
        make_wish(
            session,
            station=station,
            requester=resident,
            status=WishStatus.CLOSED,
            assignee=volunteer,
        ),
        make_wish(session, station=station, requester=resident, status=WishStatus.REJECTED),
    ]
    headers = auth(coordinator, settings)
    listed: dict[int, object] = {}
    cursor = None
    while True:
        r = client.get(f"{API}/wishes", params={"limit": 2, "cursor": cursor}, headers=headers)
        assert r.status_code == 200, r.text
        listed.update({item["id"]: item["next_step"] for item in r.json()["items"]})
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert set(listed) == {wish.id for wish in wishes}
    for wish in wishes:
        view = client.get(f"{API}/wishes/{wish.id}", headers=headers).json()["next_step"]
        assert listed[wish.id] == view, wish.status
    actions = [listed[w.id] and listed[w.id]["action"] for w in wishes]  # type: ignore[index]
    assert actions == ["escalate", "expire", "dispatch", None, None]
