"""Who is told what, for every transition of the wish loop and every event of the records.

`WISH_CASES` has one row per entry of the state table (`app/wishes/state.TRANSITIONS`): the
actor who fires it, and for each topic the exact audience. `test_every_transition_has_an
_expectation` fails when a transition is added without a row. Audiences are named, not ids:

- requester, proxy: who placed the wish and who placed it for them;
- taker: the volunteer who accepts (or holds) it; other: another volunteer offered the same
  wish; spare: a volunteer newly offered it; nearby: the volunteers a grab is announced to;
- station: the coordinators of the wish's station; above: those of the unit above (township);
- county: the county's coordinators (a second escalation).

A message to a volunteer who has not accepted the wish must not carry its full address or any
phone: each case checks the payloads of those rows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.attendance import service as attendance
from app.attendance.schemas import AttendanceIn
from app.config import Settings
from app.models import Attendance, Offer, OutboxMessage, RecordRules, StarAward, User, Wish
from app.models.enums import WishStatus
from app.notifications.templates import TEMPLATES, render
from app.records import messages
from app.records.hours import service as hours
from app.records.hours.schemas import ConfirmIn
from app.records.stars import service as stars
from app.wishes.handlers.dispatch import GRAB_NOTIFY_LIMIT, grab_candidates
from app.wishes.intake import create_wish
from app.wishes.loading import load_wish
from app.wishes.schemas import NoteIn, OfferIn, OptionalReasonIn, RateIn, ReasonIn, WishCreate
from app.wishes.service import apply_event
from app.wishes.state import TRANSITIONS, WishEvent
from tests.fixtures.builders import (
    auth,
    consent_to,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
    principal,
    wish_body,
)

S, E = WishStatus, WishEvent
HELD = {S.ACCEPTED, S.IN_SERVICE, S.COMPLETED, S.RATED}
REQUESTER_SIDE = frozenset({"requester", "proxy"})
# Audiences who have not accepted the wish when they are told.
UNACCEPTED = frozenset({"other", "spare", "nearby"})


@dataclass(frozen=True)
class Case:
    actor: str  # an audience name, or "system"
    expect: dict[str, frozenset[str]]
    payload: BaseModel | None = None
    offers_expired: bool = False
    unaccepted_extra: frozenset[str] = field(default_factory=frozenset)  # e.g. taker before accept


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


REASON = ReasonIn(reason="临时有事")
WISH_CASES: dict[tuple[WishStatus, WishEvent], Case] = {
    (S.SUBMITTED, E.APPROVE): Case("station", {"wish.approved": REQUESTER_SIDE}, NoteIn()),
    (S.SUBMITTED, E.REJECT): Case("station", {"wish.rejected": REQUESTER_SIDE}, REASON),
    (S.APPROVED, E.OFFER): Case("station", {"offer.received": _f("spare")}),
    (S.DISPATCHING, E.OFFER): Case("station", {"offer.received": _f("spare")}),
    (S.APPROVED, E.OPEN_GRAB): Case("station", {"wish.open_for_grab": _f("nearby")}, NoteIn()),
    (S.DISPATCHING, E.OPEN_GRAB): Case("station", {"wish.open_for_grab": _f("nearby")}, NoteIn()),
    (S.DISPATCHING, E.ACCEPT): Case(
        "taker", {"wish.accepted": REQUESTER_SIDE, "wish.taken": _f("other")}
    ),
    (S.DISPATCHING, E.DECLINE): Case(
        "taker", {"offer.declined": _f("station")}, OptionalReasonIn(reason="时间冲突")
    ),
    (S.ACCEPTED, E.WITHDRAW): Case(
        "taker", {"wish.withdrawn": REQUESTER_SIDE | {"station"}}, REASON
    ),
    (S.ACCEPTED, E.RELEASE): Case(
        "station",
        {"task.released": _f("taker"), "wish.back_to_dispatch": REQUESTER_SIDE},
        ReasonIn(reason="志愿者未按时到达"),
    ),
    (S.ACCEPTED, E.CHECK_IN): Case("taker", {"wish.in_service": REQUESTER_SIDE}),
    (S.IN_SERVICE, E.CHECK_OUT): Case(
        "taker", {"wish.completed": REQUESTER_SIDE, "record.to_confirm": _f("station")}
    ),
    (S.COMPLETED, E.RATE): Case("requester", {"wish.rated": _f("taker")}, RateIn(score=4)),
    (S.COMPLETED, E.CLOSE): Case("station", {}, NoteIn()),
    (S.RATED, E.CLOSE): Case("station", {}, NoteIn()),
    (S.SUBMITTED, E.CANCEL): Case("requester", {"wish.cancelled": _f("station")}),
    (S.APPROVED, E.CANCEL): Case("requester", {"wish.cancelled": _f("station")}),
    (S.DISPATCHING, E.CANCEL): Case(
        "requester",
        {"wish.cancelled": _f("station", "taker", "other")},
        unaccepted_extra=_f("taker"),
    ),
    (S.ACCEPTED, E.CANCEL): Case(
        "station", {"wish.cancelled": REQUESTER_SIDE | {"taker"}}, OptionalReasonIn(reason="已解决")
    ),
    (S.IN_SERVICE, E.CANCEL): Case(
        "station", {"wish.cancelled": REQUESTER_SIDE | {"taker"}}, OptionalReasonIn(reason="已解决")
    ),
    (S.DISPATCHING, E.EXPIRE): Case(
        "system",
        {"offer.expired": _f("taker", "other")},
        offers_expired=True,
        unaccepted_extra=_f("taker"),
    ),
    (S.SUBMITTED, E.ESCALATE): Case("system", {"wish.escalated": _f("above")}, NoteIn()),
    (S.APPROVED, E.ESCALATE): Case("system", {"wish.escalated": _f("above")}, NoteIn()),
    (S.DISPATCHING, E.ESCALATE): Case(
        "system", {"wish.escalated": _f("above")}, NoteIn(), unaccepted_extra=_f("taker")
    ),
    (S.ACCEPTED, E.REMIND): Case("system", {"task.check_in_due": _f("taker")}, NoteIn()),
    (S.IN_SERVICE, E.REMIND): Case(
        "system", {"task.check_out_due": _f("taker", "station")}, NoteIn()
    ),
}


class Scene:
    def __init__(self, session: Session) -> None:
        self.session = session
        tree = make_tree(session)
        self.tree = tree
        self.station_unit = tree.stations[0]
        self.people: dict[str, list[User]] = {
            "station": [make_coordinator(session, tree.stations[0])],
            "above": [make_coordinator(session, tree.townships[0])],
            "county": [make_coordinator(session, tree.county)],
            "requester": [make_resident(session)],
            "proxy": [make_resident(session)],
        }
        for name in ("taker", "other", "spare"):
            user, volunteer = make_volunteer(session, self.station_unit)
            consent_to(session, user.id, at=clock.now())
            self.people[name] = [user]
            setattr(self, name, volunteer)

    def user(self, name: str) -> User:
        return self.people[name][0]

    def wish(self, status: WishStatus, *, offers_expired: bool = False) -> Wish:
        now = clock.now()
        wish = make_wish(
            self.session,
            station=self.station_unit,
            requester=self.user("requester"),
            proxy=self.user("proxy"),
            status=status,
            assignee=self.taker if status in HELD else None,  # type: ignore[attr-defined]
            offer_to=[self.taker, self.other] if status == S.DISPATCHING else None,  # type: ignore
            offer_expires_at=now - timedelta(minutes=1) if offers_expired else None,
        )  # fmt: skip
        # Served now: check-in and check-out fall inside the window.
        wish.wanted_start_at = now - timedelta(minutes=30)
        wish.wanted_end_at = now + timedelta(hours=1)
        offerer = self.user("station").id
        self.session.execute(
            update(Offer).where(Offer.wish_id == wish.id).values(offered_by_id=offerer)
        )
        self.session.flush()
        return wish

    def names_of(self, user_ids: set[int]) -> dict[int, str]:
        return {
            u.id: name for name, users in self.people.items() for u in users if u.id in user_ids
        }


def last_id(session: Session) -> int:
    return session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0


def sent_since(session: Session, since: int) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > since).order_by(OutboxMessage.id)
        )
    )


def audiences(scene: Scene, rows: list[OutboxMessage]) -> dict[str, frozenset[str]]:
    ids = {r.recipient_id for r in rows}
    names = scene.names_of(ids)
    unknown = ids - set(names)
    assert not unknown, f"messages to people outside the scene: {unknown}"
    grouped: dict[str, set[str]] = {}
    for row in rows:
        grouped.setdefault(row.topic, set()).add(names[row.recipient_id])
    return {topic: frozenset(who) for topic, who in grouped.items()}


def assert_private(
    scene: Scene, wish: Wish, rows: list[OutboxMessage], unaccepted: set[str]
) -> None:
    """No full address and no phone in a payload to a volunteer who has not accepted."""
    phones = {u.phone for users in scene.people.values() for u in users if u.phone}
    secrets = {wish.full_address, wish.contact_phone, *phones} - {None, ""}
    names = scene.names_of({r.recipient_id for r in rows})
    for row in rows:
        if names[row.recipient_id] not in unaccepted:
            continue
        text = json.dumps(row.payload, ensure_ascii=False)
        shown = render(row.topic, row.payload)
        for secret in secrets:
            assert secret not in text, (row.topic, names[row.recipient_id], secret)
            assert secret not in shown.body, (row.topic, secret)
        assert not {"full_address", "contact_phone", "phone", "lat", "lng"} & set(row.payload)


def test_every_transition_has_an_expectation() -> None:
    missing = sorted(set(TRANSITIONS) - set(WISH_CASES))
    stale = sorted(set(WISH_CASES) - set(TRANSITIONS))
    assert (missing, stale) == ([], []), "transitions without an expectation of who is told"


@pytest.mark.parametrize(("status", "event"), list(WISH_CASES), ids=lambda v: str(v))
def test_messages_per_transition(session: Session, status: WishStatus, event: WishEvent) -> None:
    case = WISH_CASES[(status, event)]
    scene = Scene(session)
    wish = scene.wish(status, offers_expired=case.offers_expired)
    if event == E.OPEN_GRAB:
        loaded = load_wish(session, wish.id, fresh=True)
        nearby = grab_candidates(session, loaded, GRAB_NOTIFY_LIMIT)
        assert nearby, "the scene's volunteers may grab the wish"
        scene.people["nearby"] = [session.get(User, uid) for uid in nearby]  # type: ignore[misc]
        for name in ("taker", "other", "spare"):  # told as "nearby", not by name
            scene.people.pop(name)
    payload = case.payload
    if event == E.OFFER:
        payload = OfferIn(volunteer_ids=[scene.spare.id], expires_in_minutes=30)  # type: ignore[attr-defined]
    if event in (E.CHECK_IN, E.CHECK_OUT):
        payload = AttendanceIn(lat=wish.lat, lng=wish.lng)
    actor = None if case.actor == "system" else principal(session, scene.user(case.actor))
    since = last_id(session)
    apply_event(session=session, wish_id=wish.id, event=event, actor=actor, payload=payload)
    rows = sent_since(session, since)
    assert audiences(scene, rows) == case.expect
    assert all(r.wish_id == wish.id for r in rows)
    assert_private(scene, wish, rows, set(UNACCEPTED | case.unaccepted_extra))
    for row in rows:  # every message renders from its own template, in Chinese
        assert row.topic in TEMPLATES, row.topic
        shown = render(row.topic, row.payload)
        assert shown.title and re.search(r"[\u4e00-\u9fff]", shown.body), row.topic


def test_submitting_tells_the_station(session: Session) -> None:
    """`submit` creates the wish (no transition): the station's coordinators are told."""
    scene = Scene(session)
    station = scene.station_unit
    assert station.lat is not None and station.lng is not None
    body = WishCreate.model_validate(wish_body(station.lat, station.lng))
    since = last_id(session)
    create_wish(session=session, body=body, actor=principal(session, scene.user("requester")))
    rows = sent_since(session, since)
    assert audiences(scene, rows) == {"wish.submitted": _f("station")}
    assert "coarse_address" in rows[0].payload and "full_address" not in rows[0].payload


# ---------------------------------------------------------------- the records' events


def _checked_out(scene: Scene, *, confirm_by: str = "coordinator") -> tuple[Wish, Attendance]:
    session = scene.session
    if confirm_by != "coordinator":
        session.add(RecordRules(org_unit_id=scene.station_unit.id, confirm_by=confirm_by))
        session.flush()
        from app.rules.records import RULES

        RULES.forget()
    wish = scene.wish(S.IN_SERVICE)
    taker = principal(session, scene.user("taker"))
    apply_event(session=session, wish_id=wish.id, event=E.CHECK_OUT, actor=taker,
                payload=AttendanceIn(lat=wish.lat, lng=wish.lng))  # fmt: skip
    row = session.scalars(select(Attendance).where(Attendance.wish_id == wish.id)).one()
    return wish, row


def test_checked_out_requester_confirms(session: Session) -> None:
    """Who confirms follows the unit's rules: here the requester (and proxy), not the station."""
    scene = Scene(session)
    since = last_id(session)
    _checked_out(scene, confirm_by="requester")
    assert audiences(scene, sent_since(session, since)) == {
        "wish.completed": REQUESTER_SIDE,
        "record.to_confirm": REQUESTER_SIDE,
    }


def test_team_member_check_out_asks_for_confirmation(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """A team member's own record waits for confirmation too (the wish does not move)."""
    scene = Scene(session)
    wish = scene.wish(S.IN_SERVICE)
    member = scene.other  # type: ignore[attr-defined]
    attendance.add_member(session, wish=wish, volunteer_id=member.id,
                          actor_id=scene.user("station").id)  # fmt: skip
    session.flush()
    headers = auth(scene.user("other"), settings)
    at_place = {"lat": wish.lat, "lng": wish.lng}
    r = client.post(f"/api/v1/wishes/{wish.id}/check-in", json=at_place, headers=headers)
    assert r.status_code == 200, r.text
    since = last_id(session)
    r = client.post(f"/api/v1/wishes/{wish.id}/check-out", json=at_place, headers=headers)
    assert r.status_code == 200, r.text
    rows = sent_since(session, since)
    assert audiences(scene, rows) == {"record.to_confirm": _f("station")}
    row = attendance.attendance_of(session, wish.id, member.id)
    assert row is not None and rows[0].payload["record_id"] == row.id


def test_confirmed_and_rejected_records_tell_the_volunteer(session: Session) -> None:
    scene = Scene(session)
    _wish, row = _checked_out(scene)
    since = last_id(session)
    hours.confirm(session, attendance_id=row.id, actor=principal(session, scene.user("station")),
                  body=ConfirmIn(), now=clock.now())  # fmt: skip
    rows = sent_since(session, since)
    assert audiences(scene, rows) == {"record.credited": _f("taker")}
    assert rows[0].payload["record_id"] == row.id
    _wish2, row2 = _checked_out(scene)
    since = last_id(session)
    hours.reject(session, attendance_id=row2.id, actor=principal(session, scene.user("station")),
                 reason="签到位置异常", now=clock.now())  # fmt: skip
    rows = sent_since(session, since)
    assert audiences(scene, rows) == {"record.rejected": _f("taker")}
    assert "签到位置异常" in render("record.rejected", rows[0].payload).body


def test_unconfirmed_record_is_reminded_then_escalated_up_the_chain(session: Session) -> None:
    """Defaults: reminder to the confirmers after 48 h, the township after 120 h, the county
    after 240 h; each step once, however often the timer runs; nothing once confirmed."""
    scene = Scene(session)
    _wish, row = _checked_out(scene)
    start = row.check_out_received_at
    assert start is not None

    def run_at(hours_later: float) -> dict[str, frozenset[str]]:
        since = last_id(session)
        messages.run(session, row.id, start + timedelta(hours=hours_later))
        messages.run(session, row.id, start + timedelta(hours=hours_later))  # again: no-op
        return audiences(scene, sent_since(session, since))

    assert run_at(47) == {}
    assert run_at(48) == {"record.confirm_reminder": _f("station")}
    assert run_at(100) == {}
    assert run_at(120) == {"record.confirm_escalated": _f("above")}
    assert run_at(239) == {}
    assert run_at(240) == {"record.confirm_escalated": _f("county")}
    hours.confirm(session, attendance_id=row.id, actor=principal(session, scene.user("station")),
                  body=ConfirmIn(), now=start + timedelta(hours=241))  # fmt: skip
    assert run_at(400) == {}
    from app.models import Job

    assert session.scalar(select(Job).where(Job.kind == messages.RECORD_CONFIRM,
                                            Job.subject_id == row.id)) is None  # fmt: skip


def test_star_awarded_held_and_decided(session: Session) -> None:
    """A star reached tells the volunteer; an objection tells them it is held and tells the
    certifying unit's coordinators a decision waits; the decision tells the volunteer."""
    scene = Scene(session)
    taker = scene.taker  # type: ignore[attr-defined]
    now = clock.now()
    awards: list[StarAward] = []
    for _ in range(2):
        award = StarAward(volunteer_id=taker.id, star=len(awards) + 1, ladder_code="default",
                          minutes_at_award=100 * 60,
                          certifying_unit_id=scene.tree.townships[0].id, notice_starts_at=now,
                          notice_ends_at=now + timedelta(days=7), status="notice",
                          created_at=now, updated_at=now)  # fmt: skip
        session.add(award)
        session.flush()
        awards.append(award)
    since = last_id(session)
    messages.star_awarded(session, awards[0])
    assert audiences(scene, sent_since(session, since)) == {"star.awarded": _f("taker")}

    objector = principal(session, scene.user("requester"))
    decider = principal(session, scene.user("above"))
    for award, uphold, topic in ((awards[0], True, "star.revoked"),
                                 (awards[1], False, "star.reinstated")):  # fmt: skip
        since = last_id(session)
        stars.object_to(session=session, award_id=award.id, actor=objector, reason="时长有误",
                        now=now)  # fmt: skip
        rows = sent_since(session, since)
        assert audiences(scene, rows) == {"star.held": _f("taker"), "star.objection": _f("above")}
        held = next(r for r in rows if r.topic == "star.held")
        assert "时长有误" not in json.dumps(held.payload, ensure_ascii=False)  # nor who objected
        since = last_id(session)
        stars.resolve(session=session, award_id=award.id, actor=decider, uphold=uphold,
                      reason="核实无误" if not uphold else "核实有误", now=now)  # fmt: skip
        assert audiences(scene, sent_since(session, since)) == {topic: _f("taker")}


def test_crossing_a_threshold_tells_the_volunteer(session: Session) -> None:
    """Through crediting: 100 h reached → star.awarded to the volunteer, with its notice end."""
    scene = Scene(session)
    taker = scene.taker  # type: ignore[attr-defined]
    from app.models import HoursEntry

    now = clock.now()
    session.add(HoursEntry(volunteer_id=taker.id, category="service", unit_id=scene.station_unit.id,
                           content="往期服务", started_at=now - timedelta(days=30),
                           ended_at=now - timedelta(days=30), minutes=100 * 60,
                           verification="record", created_at=now))  # fmt: skip
    since = last_id(session)
    created = stars.after_credit(session, taker.id, now)
    assert [a.star for a in created] == [1]
    rows = sent_since(session, since)
    assert audiences(scene, rows) == {"star.awarded": _f("taker")}
    assert "1星级志愿者" in render("star.awarded", rows[0].payload).body


# ---------------------------------------------------------------- every topic is accounted for

_TOPIC = re.compile(r"""(?:notify\(\s*|topic=)\s*"([a-z_]+\.[a-z_]+)\"""")
# Public events for webhook subscribers (app/webhooks) are not messages to people.
_PUBLISHED = re.compile(r"""publish\((?:[^()]|\([^()]*\))*\)""")


def test_every_topic_the_code_sends_has_a_template_and_an_expectation() -> None:
    """A topic sent anywhere in the app has a template; every template is expected above."""
    root = Path(__file__).resolve().parents[2] / "app"
    sent: set[str] = set()
    for path in root.rglob("*.py"):
        source = _PUBLISHED.sub("", path.read_text(encoding="utf-8"))
        sent |= set(_TOPIC.findall(source))
    sent |= {"star.revoked", "star.reinstated"}  # chosen by a conditional expression
    assert sent, "the scan finds the topics"
    assert sorted(sent - set(TEMPLATES)) == [], "topics without a template"
    expected = {topic for case in WISH_CASES.values() for topic in case.expect}
    expected |= {"wish.submitted", "record.credited", "record.rejected",
                 "record.confirm_reminder", "record.confirm_escalated", "star.awarded",
                 "star.held", "star.objection", "star.revoked", "star.reinstated"}  # fmt: skip
    # Standing pairings' messages are expected in tests/pairings/test_pairings_api.py.
    expected |= {"pairing.visit_reminder", "pairing.lapsing", "pairing.ended"}
    # A team's call-ups are expected in tests/teams/test_callups.py.
    expected |= {"team.callup"}
    # Activities' messages: their audiences are checked in tests/activities.
    expected |= {"activity.promoted", "activity.cancelled", "activity.lapsed", "activity.no_show",
                 "activity.callup", "activity.signup_closed"}  # fmt: skip
    assert sorted(set(TEMPLATES) - expected) == [], "templates no test expects"
    assert sorted(sent - expected) == [], "topics no test expects"


def test_a_user_may_opt_out_of_every_topic_there_is_a_template_for() -> None:
    """The preferences' list of topics and the templates name the same topics."""
    from app.push.topics import KNOWN_TOPICS

    assert sorted(set(TEMPLATES) ^ set(KNOWN_TOPICS)) == []
