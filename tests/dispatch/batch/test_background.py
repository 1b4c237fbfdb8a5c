"""A large reviewed plan is sent in the background: checked within the request, sent a slice
per timer step, its progress and outcome read through `GET /dispatch-plan/applies/{id}`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.jobs import scheduler
from app.jobs.scheduler import Scheduler
from app.models import BatchApply, Job, Offer, RoleGrant, User, Volunteer, Wish
from app.models.enums import OfferStatus, WishStatus
from tests.conftest import BoundDatabase
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import (
    Tree,
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"
NOTE = "周六上午集中派单请准时"


@dataclass
class Scene:
    client: TestClient
    session: Session
    settings: Settings
    tree: Tree
    coordinator: User
    wishes: list[Wish]
    volunteers: list[Volunteer]
    outside: Wish

    def headers(self, user: User | None = None) -> dict[str, str]:
        return auth(user or self.coordinator, self.settings)

    def apply(self, pairs: list[tuple[int, int]], **headers: str) -> Any:
        return self.client.post(
            f"{API}/org-units/{self.tree.townships[0].id}/dispatch-plan/apply",
            json={
                "assignments": [{"wish_id": w, "volunteer_id": v} for w, v in pairs],
                "expires_in_minutes": 60,
                "note": NOTE,
            },
            headers={**self.headers(), **headers},
        )

    def progress(self, apply_id: int, user: User | None = None) -> Any:
        return self.client.get(
            f"{API}/dispatch-plan/applies/{apply_id}", headers=self.headers(user)
        )

    def run_timers(self) -> int:
        database = self.client.app.state.database  # type: ignore[attr-defined]
        assert isinstance(database, BoundDatabase)
        return Scheduler(database, settings=self.settings).run_due()

    def pairs(self) -> list[tuple[int, int]]:
        lines = [(w.id, v.id) for w, v in zip(self.wishes, self.volunteers, strict=True)]
        # The third line's wish lies outside the unit: refused when the plan is checked.
        return [*lines[:2], (self.outside.id, self.volunteers[0].id), *lines[2:]]

    def offers(self) -> list[tuple[int, int, str, int]]:
        self.session.expire_all()
        rows = self.session.execute(
            select(Offer.wish_id, Offer.volunteer_id, Offer.status, Offer.offered_by_id)
        )
        return sorted((w, v, OfferStatus(s).value, by) for w, v, s, by in rows)


@pytest.fixture
def scene(
    client: TestClient,
    session: Session,
    settings: Settings,
    frozen: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Scene]:
    monkeypatch.setattr(settings, "batch_background_offers", 3)
    monkeypatch.setattr(settings, "batch_apply_chunk", 2)
    tree = make_tree(session)
    resident = make_resident(session)
    coordinator = make_coordinator(session, tree.townships[0])
    volunteers = [make_volunteer(session, tree.stations[0], capacity=1)[1] for _ in range(5)]
    wishes = [
        make_wish(session, station=tree.stations[0], requester=resident,
                  status=WishStatus.APPROVED)
        for _ in range(5)
    ]  # fmt: skip
    outside = make_wish(session, station=tree.stations[2], requester=resident,
                        status=WishStatus.APPROVED)  # fmt: skip
    session.flush()
    yield Scene(client, session, settings, tree, coordinator, wishes, volunteers, outside)


@pytest.fixture
def slice_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each scheduler pass runs one slice (as when the next one is not due yet), so a test can
    look at the progress between slices."""
    monkeypatch.setattr(scheduler, "CONTINUING", frozenset())


@pytest.mark.usefixtures("slice_a_pass")
def test_a_large_plan_is_sent_in_the_background(scene: Scene) -> None:
    r = scene.apply(scene.pairs())
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "applying" and body["id"] is not None
    # The line outside the unit was decided when the plan was checked.
    assert (body["total"], body["done"], body["sent"], body["failed"]) == (6, 1, 0, 1)
    assert body["items"] == []
    assert scene.offers() == []
    # The offers' note waits sealed, never as plain text.
    raw = scene.session.execute(text("SELECT options FROM batch_applies")).scalar_one()
    assert raw and NOTE not in raw

    seen = []
    while True:
        polled = scene.progress(body["id"])
        assert polled.status_code == 200, polled.text
        got = polled.json()
        seen.append((got["status"], got["done"], got["sent"], got["failed"], len(got["items"])))
        if got["status"] == "done":
            break
        assert scene.run_timers() == 1
    # Two lines per step, each step committed with its progress.
    assert seen == [
        ("applying", 1, 0, 1, 0),
        ("applying", 3, 2, 1, 0),
        ("applying", 5, 4, 1, 0),
        ("done", 6, 5, 1, 6),
    ]
    assert scene.run_timers() == 0  # nothing left to do
    assert [(i["wish_id"], i["ok"], i["status"], (i["error"] or {}).get("code"))
            for i in got["items"]] == [
        (w, w != scene.outside.id, None if w == scene.outside.id else "dispatching",
         "WISH_NOT_FOUND" if w == scene.outside.id else None)
        for w, _ in scene.pairs()
    ]  # fmt: skip
    assert scene.offers() == sorted(
        (w.id, v.id, "pending", scene.coordinator.id)
        for w, v in zip(scene.wishes, scene.volunteers, strict=True)
    )
    offer = scene.session.scalars(select(Offer)).first()
    assert offer is not None and offer.note == NOTE
    record = scene.session.get(BatchApply, body["id"])
    assert record is not None and record.options is None and record.finished_at is not None


def test_a_small_plan_is_still_sent_within_the_request(scene: Scene) -> None:
    pairs = scene.pairs()[:3]
    r = scene.apply(pairs)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["id"], body["total"], body["done"]) == ("done", None, 3, 3)
    assert (body["sent"], body["failed"]) == (2, 1)
    assert [i["ok"] for i in body["items"]] == [True, True, False]
    assert scene.session.scalar(select(func.count()).select_from(BatchApply)) == 0
    assert len(scene.offers()) == 2


def test_a_plan_whose_lines_all_fail_the_check_is_done_at_once(scene: Scene) -> None:
    first, second, _, fourth, fifth = scene.wishes
    assert scene.apply([(first.id, scene.volunteers[0].id)]).status_code == 200
    lines = [
        (scene.outside.id, scene.volunteers[1].id),  # outside the unit
        (first.id, scene.volunteers[1].id),  # no longer approved
        (fourth.id, 2_000_000_000),  # no such volunteer
        (fifth.id, 2_000_000_000),
    ]
    r = scene.apply(lines)
    body = r.json()
    assert (r.status_code, body["status"], body["done"], body["failed"]) == (200, "done", 4, 4)
    codes = [i["error"]["code"] for i in body["items"]]
    assert codes == ["WISH_NOT_FOUND", "WISH_NOT_APPROVED", *["INVALID_OFFER_TARGET"] * 2]
    jobs = select(func.count()).select_from(Job).where(Job.subject_id == body["id"])
    assert scene.session.scalar(jobs.where(Job.kind == "dispatch.batch_apply")) == 0
    # One line that can go out is enough to leave the sending to the timer.
    r = scene.apply([*lines, (second.id, scene.volunteers[1].id)])
    assert (r.status_code, r.json()["done"], r.json()["total"]) == (202, 4, 5)


def test_one_scheduler_pass_sends_every_slice(scene: Scene) -> None:
    """The timer sets itself due again while lines wait: the pass that ran a slice runs the
    next at once, each in its own step (transaction), rather than one per scheduler interval."""
    body = scene.apply(scene.pairs()).json()
    assert scene.run_timers() == 3  # five lines waiting, two a step
    got = scene.progress(body["id"]).json()
    assert (got["status"], got["done"], got["sent"], got["failed"]) == ("done", 6, 5, 1)
    assert scene.run_timers() == 0


@pytest.mark.usefixtures("slice_a_pass")
def test_a_coordinator_who_lost_the_unit_sends_nothing_more(scene: Scene) -> None:
    body = scene.apply(scene.pairs()).json()
    assert scene.run_timers() == 1
    scene.session.execute(delete(RoleGrant).where(RoleGrant.user_id == scene.coordinator.id))
    while scene.run_timers():
        pass
    admin = make_admin(scene.session)
    got = scene.progress(body["id"], admin).json()
    assert (got["status"], got["sent"], got["failed"]) == ("done", 2, 4)
    codes = [(i["error"] or {}).get("code") for i in got["items"]]
    assert codes == [None, None, "WISH_NOT_FOUND", *["ORG_UNIT_NOT_FOUND"] * 3]
    assert len(scene.offers()) == 2


def test_the_same_key_applies_once(scene: Scene) -> None:
    first = scene.apply(scene.pairs(), **{"Idempotency-Key": "plan-2027-03-02"})
    again = scene.apply(scene.pairs(), **{"Idempotency-Key": "plan-2027-03-02"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert scene.session.scalar(select(func.count()).select_from(BatchApply)) == 1


def test_batch_apply_scope(scene: Scene) -> None:
    """Staff who manage the plan's unit (the unit's coordinators, those above, admins) see its
    progress; anyone else is told it does not exist."""
    body = scene.apply(scene.pairs()).json()
    tree = scene.tree
    for user in (
        scene.coordinator,
        make_coordinator(scene.session, tree.county),
        make_admin(scene.session),
    ):
        r = scene.progress(body["id"], user)
        assert (r.status_code, r.json()["id"]) == (200, body["id"]), r.text
    # Another township's coordinator, or a station's below the unit: not theirs to see.
    for unit in (tree.townships[1], tree.stations[0]):
        r = scene.progress(body["id"], make_coordinator(scene.session, unit))
        assert (r.status_code, r.json()["error"]["code"]) == (404, "BATCH_APPLY_NOT_FOUND")
    r = scene.progress(body["id"], make_resident(scene.session))
    assert (r.status_code, r.json()["error"]["code"]) == (403, "STAFF_ONLY")
    r = scene.client.get(f"{API}/dispatch-plan/applies/{body['id']}")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    ("apply_id", "status", "code"),
    [
        ("2000000000", 404, "BATCH_APPLY_NOT_FOUND"),
        ("0", 422, "VALIDATION_ERROR"),
        ("-1", 422, "VALIDATION_ERROR"),
        ("abc", 422, "VALIDATION_ERROR"),
        ("99999999999999999999", 422, "VALIDATION_ERROR"),
        ("1.5", 422, "VALIDATION_ERROR"),
    ],
)
def test_bad_ids_are_refused(scene: Scene, apply_id: str, status: int, code: str) -> None:
    r = scene.client.get(f"{API}/dispatch-plan/applies/{apply_id}", headers=scene.headers())
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)
