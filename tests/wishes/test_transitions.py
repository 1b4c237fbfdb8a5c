"""The transition table, exhaustively: every status × event × role, through the real API.

For each case the wish is put straight into the status, with the relations that make each role
meaningful (the requester placed it, the coordinator covers its station, the volunteer holds an
offer or the task). The expected outcome is read from the table alone:

- a role that cannot see the wish gets 404;
- an event the status does not allow gets 409;
- a role the transition does not list gets 403;
- otherwise the wish moves to the table's target, with one event row naming the role.

A refused event changes nothing: same version, no event row, no outbox row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Settings
from app.errors import AppError
from app.models import Offer, OutboxMessage, User, Volunteer, Wish, WishEventRecord
from app.models.enums import OfferStatus, WishStatus
from app.wishes import handlers
from app.wishes.service import apply_event
from app.wishes.state import TRANSITIONS, ActorRole, WishEvent
from tests.fixtures.builders import (
    BASE_LAT,
    BASE_LNG,
    auth,
    consent_to,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"
EVENTS = [e for e in WishEvent if e != WishEvent.SUBMIT]
# Events only the system fires have no endpoint; `test_as_system` covers them.
HTTP_EVENTS = [e for e in EVENTS if e != WishEvent.EXPIRE]
HELD = {
    WishStatus.ACCEPTED,
    WishStatus.IN_SERVICE,
    WishStatus.COMPLETED,
    WishStatus.RATED,
    WishStatus.CLOSED,
}
# Statuses in which the test volunteer has no offer and no task, so cannot see the wish.
VOLUNTEER_BLIND = {WishStatus.SUBMITTED, WishStatus.APPROVED, WishStatus.REJECTED}

VERB = {e: e.value.replace("_", "-") for e in EVENTS}


# Check-in and check-out at the wish's place (the builders put it at the station), with a
# reason that serves a coordinator's manual check.
AT_PLACE = {"lat": BASE_LAT, "lng": BASE_LNG, "reason": "室内无法定位"}


def payload(event: WishEvent, spare_volunteer_id: int) -> dict[str, Any] | None:
    return {
        WishEvent.CHECK_IN: AT_PLACE,
        WishEvent.CHECK_OUT: AT_PLACE,
        WishEvent.REJECT: {"reason": "不属于志愿服务范围"},
        WishEvent.OFFER: {"volunteer_ids": [spare_volunteer_id], "expires_in_minutes": 30},
        WishEvent.WITHDRAW: {"reason": "临时有事"},
        WishEvent.RELEASE: {"reason": "志愿者未按时到达"},
        WishEvent.RATE: {"score": 4, "comment": "不错"},
        WishEvent.CANCEL: {"reason": "需求已解决"},
        WishEvent.DECLINE: {"reason": "时间冲突"},
    }.get(event)


def expected(status: WishStatus, event: WishEvent, role: ActorRole) -> tuple[int, WishStatus]:
    if role == ActorRole.VOLUNTEER and status in VOLUNTEER_BLIND:
        return 404, status
    transition = TRANSITIONS.get((status, event))
    if transition is None:
        return 409, status
    if role not in transition.roles:
        return 403, status
    return 200, transition.to


class World:
    def __init__(self, session: Session, status: WishStatus) -> None:
        tree = make_tree(session)
        station = tree.stations[0]
        self.requester = make_resident(session)
        self.coordinator = make_coordinator(session, station)
        self.admin = make_admin(session)
        self.volunteer_user, self.volunteer = make_volunteer(session, station)
        consent_to(session, self.volunteer_user.id, at=clock.now())
        _spare_user, self.spare = make_volunteer(session, station)
        self.wish = make_wish(
            session,
            station=station,
            requester=self.requester,
            status=status,
            assignee=self.volunteer if status in HELD else None,
            offer_to=[self.volunteer] if status == WishStatus.DISPATCHING else None,
        )
        # Served now: check-in and check-out fall inside the wish's window.
        self.wish.wanted_start_at = clock.now() - timedelta(minutes=30)
        self.wish.wanted_end_at = clock.now() + timedelta(hours=1)
        if status == WishStatus.CANCELLED:
            # The volunteer had been offered the wish before it was cancelled.
            offer = session.scalars(select(Offer).where(Offer.wish_id == self.wish.id)).first()
            if offer is None:
                session.add(_withdrawn_offer(self.wish, self.volunteer))
        session.flush()

    def user(self, role: ActorRole) -> User:
        return {
            ActorRole.REQUESTER: self.requester,
            ActorRole.COORDINATOR: self.coordinator,
            ActorRole.ADMIN: self.admin,
            ActorRole.VOLUNTEER: self.volunteer_user,
        }[role]


def _withdrawn_offer(wish: Wish, volunteer: Volunteer) -> Offer:
    assert wish.submitted_at is not None
    return Offer(
        wish_id=wish.id,
        volunteer_id=volunteer.id,
        status=OfferStatus.WITHDRAWN,
        created_at=wish.submitted_at,
        expires_at=wish.submitted_at.replace(year=wish.submitted_at.year + 1),
        responded_at=wish.submitted_at,
    )


def counts(session: Session, wish_id: int) -> tuple[int, int, int]:
    session.expire_all()
    version = session.scalar(select(Wish.version).where(Wish.id == wish_id))
    n_events = session.scalar(
        select(func.count()).select_from(WishEventRecord).where(WishEventRecord.wish_id == wish_id)
    )
    n_outbox = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.wish_id == wish_id)
    )
    return version or 0, n_events or 0, n_outbox or 0


HTTP_ROLES = [ActorRole.REQUESTER, ActorRole.VOLUNTEER, ActorRole.COORDINATOR, ActorRole.ADMIN]


@pytest.mark.parametrize("role", HTTP_ROLES)
@pytest.mark.parametrize("event", HTTP_EVENTS)
@pytest.mark.parametrize("status", list(WishStatus))
def test_over_http(
    client: TestClient,
    session: Session,
    settings: Settings,
    status: WishStatus,
    event: WishEvent,
    role: ActorRole,
) -> None:
    world = World(session, status)
    wish_id = world.wish.id
    headers = auth(world.user(role), settings)
    want_code, want_status = expected(status, event, role)

    if want_code != 404:
        detail = client.get(f"{API}/wishes/{wish_id}", headers=headers)
        assert detail.status_code == 200, detail.text
        # The buttons a client shows agree with what the server then allows.
        assert (event in detail.json()["allowed_events"]) == (want_code == 200)

    before = counts(session, wish_id)
    response = client.post(
        f"{API}/wishes/{wish_id}/{VERB[event]}",
        json=payload(event, world.spare.id),
        headers=headers,
    )
    assert response.status_code == want_code, response.text
    after = counts(session, wish_id)
    if want_code != 200:
        assert after == before, "a refused event must change nothing"
        error = response.json()["error"]
        if want_code == 409:
            assert error["code"] in ("INVALID_TRANSITION", "WISH_ALREADY_TAKEN", "ALREADY_ACCEPTED")
        if want_code == 403:
            assert error["code"] == "ROLE_NOT_ALLOWED"
        if want_code == 404:
            assert error["code"] == "WISH_NOT_FOUND"
        return
    assert response.json()["status"] == want_status
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1
    record = session.scalars(
        select(WishEventRecord)
        .where(WishEventRecord.wish_id == wish_id)
        .order_by(WishEventRecord.id.desc())
        .limit(1)
    ).one()
    assert (record.event, record.from_status, record.to_status, record.actor_role) == (
        event,
        status,
        want_status,
        role,
    )


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("status", list(WishStatus))
def test_as_system(session: Session, status: WishStatus, event: WishEvent) -> None:
    """The timers act as the system: same table, no HTTP."""
    world = World(session, status)
    want_code, want_status = expected(status, event, ActorRole.SYSTEM)
    schema = handlers.SPECS[event].payload
    body = payload(event, world.spare.id)
    model = schema.model_validate(body or {}) if schema is not None and body is not None else None
    before = counts(session, world.wish.id)
    if want_code == 200:
        moved = apply_event(
            session=session, wish_id=world.wish.id, event=event, actor=None, payload=model
        )
        assert moved.wish.status == want_status
        assert counts(session, world.wish.id)[1] == before[1] + 1
        return
    with pytest.raises(AppError) as raised:
        apply_event(session=session, wish_id=world.wish.id, event=event, actor=None, payload=model)
    assert raised.value.status_code == want_code
    assert counts(session, world.wish.id) == before


def test_table_covers_a_path_to_every_status() -> None:
    """Every status is reachable from submitted, and every non-terminal status has a way out."""
    reachable = {WishStatus.SUBMITTED}
    frontier = [WishStatus.SUBMITTED]
    while frontier:
        status = frontier.pop()
        for (source, _event), transition in TRANSITIONS.items():
            if source == status and transition.to not in reachable:
                reachable.add(transition.to)
                frontier.append(transition.to)
    assert reachable == set(WishStatus)
    terminal = {WishStatus.REJECTED, WishStatus.CANCELLED, WishStatus.CLOSED}
    for status in set(WishStatus) - terminal:
        assert any(source == status for source, _ in TRANSITIONS), status
    for status in terminal:
        assert not any(source == status for source, _ in TRANSITIONS), status
