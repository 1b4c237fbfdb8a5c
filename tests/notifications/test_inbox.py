"""The in-app inbox through the API: newest first, rendered, paginated, unread count, read marks."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.notifications.outbox import enqueue
from app.notifications.templates import render
from tests.fixtures.builders import auth, make_resident

API = "/api/v1"


def _send(session: Session, user_id: int, topic: str, **payload: object) -> None:
    enqueue(session=session, topic=topic, recipient_ids=[user_id], payload=dict(payload),
            wish_id=None)  # fmt: skip
    session.flush()


def test_inbox_lists_rendered_messages_newest_first_with_unread_count(
    client: TestClient, session: Session, settings: Settings
) -> None:
    user = make_resident(session)
    headers = auth(user, settings)
    _send(session, user.id, "wish.approved", title="修水管", wish_id=7)
    _send(
        session, user.id, "wish.accepted", title="修水管", volunteer_name="李四",
        wanted_start_at="2026-12-03T01:00:00+00:00", wanted_end_at="2026-12-03T03:00:00+00:00",
    )  # fmt: skip
    _send(session, user.id, "wish.completed", title="修水管")

    r = client.get(f"{API}/me/notifications", params={"limit": 2}, headers=headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["unread_count"] == 3
    assert [i["topic"] for i in page["items"]] == ["wish.completed", "wish.accepted"]
    accepted = page["items"][1]
    # Local time (Asia/Shanghai): 01:00Z is 09:00.
    assert accepted["title"] == "志愿者已接单"
    assert "李四" in accepted["body"] and "12月3日 09:00–11:00" in accepted["body"]
    assert accepted["read_at"] is None and accepted["urgent"] is False
    r = client.get(f"{API}/me/notifications", params={"limit": 2, "cursor": page["next_cursor"]},
                   headers=headers)  # fmt: skip
    rest = r.json()
    assert [i["topic"] for i in rest["items"]] == ["wish.approved"]
    assert rest["next_cursor"] is None
    assert rest["items"][0]["page"] == "pages/wish/detail?id=7"

    # Mark one read: the count drops, the item shows when; again changes nothing.
    first = page["items"][0]["id"]
    r = client.post(f"{API}/me/notifications/{first}/read", headers=headers)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    read_at = r.json()["read_at"]
    r = client.post(f"{API}/me/notifications/{first}/read", headers=headers)
    assert r.json()["read_at"] == read_at
    r = client.get(f"{API}/me/notifications/unread-count", headers=headers)
    assert r.json() == {"unread_count": 2}
    unread = client.get(f"{API}/me/notifications", params={"unread_only": True}, headers=headers)
    assert [i["topic"] for i in unread.json()["items"]] == ["wish.accepted", "wish.approved"]

    # Read all up to what the client showed: a later message stays unread.
    oldest = rest["items"][0]["id"]
    r = client.post(f"{API}/me/notifications/read-all", json={"up_to_id": oldest},
                    headers=headers)  # fmt: skip
    assert r.json() == {"marked": 1, "unread_count": 1}
    r = client.post(f"{API}/me/notifications/read-all", headers=headers)
    assert r.json() == {"marked": 1, "unread_count": 0}


def test_inbox_bad_input_is_a_clean_4xx(
    client: TestClient, session: Session, settings: Settings
) -> None:
    headers = auth(make_resident(session), settings)
    r = client.get(f"{API}/me/notifications", params={"cursor": "nonsense"}, headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "INVALID_CURSOR")
    r = client.post(f"{API}/me/notifications/2147483647/read", headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "NOTIFICATION_NOT_FOUND")
    r = client.post(f"{API}/me/notifications/read-all", json={"up_to_id": -1}, headers=headers)
    assert r.status_code == 422
    assert client.get(f"{API}/me/notifications").status_code == 401


def test_offer_tells_the_deadline_and_the_coarse_place_only() -> None:
    shown = render(
        "offer.received",
        {"wish_id": 3, "title": "陪老人就医", "coarse_address": "余村附近",
         "wanted_start_at": "2026-12-03T01:00:00+00:00",
         "wanted_end_at": "2026-12-03T03:00:00+00:00",
         "expires_at": datetime(2026, 12, 2, 2, 30, tzinfo=UTC).isoformat()},
    )  # fmt: skip
    assert shown.urgent and shown.kind == "offer"
    assert "余村附近" in shown.body and "12月2日 10:30前" in shown.body
    assert shown.fields["place"] == "余村附近" and set(shown.fields) <= {
        "subject", "status", "time", "place", "person", "note"}  # fmt: skip
    assert render("wish.cancelled", {"title": "x", "to_volunteers": True}).urgent
    assert not render("wish.cancelled", {"title": "x"}).urgent
    taken = render("wish.taken", {"title": "陪老人就医"})
    assert taken.title == "已由他人接单" and "已由他人接单" in taken.body


def test_unknown_topic_and_long_fields_render_safely() -> None:
    shown = render("something.new", {"title": "很" * 40})
    assert shown.title == "消息通知" and not shown.urgent
    assert all(len(v) <= 20 for v in shown.fields.values())


def test_record_messages_name_what_the_record_is_of() -> None:
    wish = render("record.credited", {"record_id": 1, "wish_id": 3, "title": "陪老人就医"})
    activity = render("record.credited", {"record_id": 2, "activity_id": 5, "title": "重阳敬老"})
    visit = render(
        "record.to_confirm", {"record_id": 3, "pairing_id": 7, "title": "结对走访：潘*英家"}
    )
    assert "心愿「陪老人就医」" in wish.body
    assert "活动「重阳敬老」" in activity.body and "心愿" not in activity.body
    assert "「结对走访：潘*英家」" in visit.body and "心愿" not in visit.body
