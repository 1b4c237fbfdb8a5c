"""The "webhook" channel against a fake receiver that verifies as docs/webhooks.md asks: Standard
Webhooks signatures (the `standardwebhooks` package), the timestamp tolerance, duplicates dropped
by webhook-id; and what each answer means (2xx sent, 410 disables, 408/429/5xx/network retry
after Retry-After, other 4xx dead-letter)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from app import clock
from app.delivery.channels import Failed, Outgoing, Retry, Sent, Skipped
from app.models import WebhookSubscriber
from app.webhooks import service
from app.webhooks.fanout import publish
from tests.fixtures.builders import Tree, make_tree
from tests.fixtures.fake_webhook_receiver import FakeReceiver
from tests.webhooks.conftest import Deliverer, outgoing, webhook_rows


class Hook:
    """A subscriber pointing at its own endpoint of the fake receiver, trusted with its secret."""

    def __init__(self, session: Session, receiver: FakeReceiver, tree: Tree, **kw: object) -> None:
        self.session, self.receiver, self.tree = session, receiver, tree
        self.name = uuid.uuid4().hex[:12]
        self.secret = service.new_secret()
        now = clock.now()
        self.row = WebhookSubscriber(
            name="县融媒体中心",
            url=receiver.endpoint(self.name),
            events=["*"],
            is_active=True,
            secret=self.secret,
            created_at=now,
            updated_at=now,
            **kw,
        )
        session.add(self.row)
        session.flush()
        receiver.trust(self.name, self.secret)

    def message(self, topic: str = "wish.approved") -> Outgoing:
        publish(
            self.session,
            topic=topic,
            unit=self.tree.stations[0],
            data={"wish": {"id": 7, "status": "approved"}},
            now=clock.now(),
        )
        return outgoing(webhook_rows(self.session, self.row.id)[-1])

    @property
    def processed(self) -> list[Any]:
        return self.receiver.processed[self.name]

    @property
    def refused(self) -> list[str]:
        return self.receiver.refused[self.name]


@pytest.fixture
def tree(session: Session) -> Tree:
    return make_tree(session)


@pytest.fixture
def hook(session: Session, receiver: FakeReceiver, tree: Tree) -> Hook:
    return Hook(session, receiver, tree)


@pytest.fixture
def back_in_time() -> Iterator[list[timedelta]]:
    """Shift the service's clock by what the test appends (the receiver keeps real time)."""
    shift: list[timedelta] = []
    clock.set_clock(lambda: clock.wall_clock() + sum(shift, timedelta()))
    try:
        yield shift
    finally:
        clock.set_clock(None)


def test_signed_message_is_verified_by_the_receiver(hook: Hook, deliver: Deliverer) -> None:
    message = hook.message()
    assert deliver(message) == Sent(via="webhook")
    assert hook.processed == [message.payload]
    assert message.payload["type"] == "wish.approved"
    headers, body = hook.receiver.requests[hook.name][-1]
    assert headers["webhook-id"] == message.uid
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - clock.now().timestamp()) < 5
    assert (
        headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]
    )
    assert headers["content-type"] == "application/json"
    # Another secret does not verify it.
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(service.new_secret()).verify(body, headers)


def test_redelivery_and_replay_are_dropped_by_id(hook: Hook, deliver: Deliverer) -> None:
    message = hook.message()
    assert isinstance(deliver(message), Sent)
    # At-least-once: the same message again (e.g. the answer was lost) carries the same id.
    assert isinstance(deliver(message), Sent)
    # A captured request sent again byte for byte.
    assert hook.receiver.replay(hook.name, 0) == 200
    assert len(hook.processed) == 1
    assert hook.receiver.duplicates[hook.name] == [message.uid] * 2


def test_an_old_or_tampered_message_is_refused(
    hook: Hook, deliver: Deliverer, back_in_time: list[timedelta]
) -> None:
    message = hook.message()
    back_in_time.append(timedelta(minutes=-10))  # signed ten minutes ago: outside the tolerance
    assert deliver(message) == Failed("HTTP 400")
    assert hook.refused == ["Message timestamp too old"]
    back_in_time.clear()
    assert isinstance(deliver(message), Sent)
    headers, body = hook.receiver.requests[hook.name][-1]
    # A replay with a fresh timestamp but the old signature does not verify either.
    later = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 60)}
    hook.receiver.requests[hook.name].append((later, body))
    assert hook.receiver.replay(hook.name) == 400
    tampered = body.replace(b"approved", b"rejected")
    hook.receiver.requests[hook.name].append((headers, tampered))
    assert hook.receiver.replay(hook.name) == 400
    assert len(hook.processed) == 1


def test_rotation_signs_with_both_secrets_during_the_grace_period(
    hook: Hook, deliver: Deliverer, session: Session, back_in_time: list[timedelta]
) -> None:
    old = hook.secret
    _, new = service.rotate_secret(
        session=session, subscriber_id=hook.row.id, settings=deliver.settings, now=clock.now()
    )
    session.flush()
    for trusted in ([old], [new]):  # a receiver not yet switched, and one already switched
        hook.receiver.trust(hook.name, *trusted)
        assert isinstance(deliver(hook.message()), Sent)
        headers, _ = hook.receiver.requests[hook.name][-1]
        assert len(headers["webhook-signature"].split(" ")) == 2
    assert len(hook.processed) == 2
    # After the grace period only the new secret signs: the old one no longer verifies.
    back_in_time.append(timedelta(hours=deliver.settings.webhook_secret_grace_hours, minutes=1))
    hook.receiver.trust(hook.name, old)
    assert deliver(hook.message()) == Failed("HTTP 400")
    headers, body = hook.receiver.requests[hook.name][-1]
    assert len(headers["webhook-signature"].split(" ")) == 1
    signed_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(new).sign(headers["webhook-id"], signed_at, body.decode())
    assert headers["webhook-signature"] == expected


def test_410_gone_dead_letters_and_disables_the_subscriber(
    hook: Hook, deliver: Deliverer, session: Session, tree: Tree
) -> None:
    message, waiting = hook.message(), hook.message()
    hook.receiver.answer(hook.name, 410)
    assert deliver(message) == Failed("HTTP 410 Gone: subscriber disabled")
    session.expire_all()
    row = session.get(WebhookSubscriber, hook.row.id)
    assert row is not None and row.is_active is False
    assert row.disabled_reason == "接收方返回 410 Gone，已自动停用"
    # Messages already queued are skipped; new events are no longer queued for it.
    assert isinstance(deliver(waiting), Skipped)
    assert (
        publish(session, topic="wish.approved", unit=tree.stations[0], data={}, now=clock.now())
        == 0
    )
    assert hook.processed == []


@pytest.mark.parametrize(
    ("status", "headers", "after"),
    [
        (429, {"Retry-After": "120"}, timedelta(seconds=120)),
        (503, {"Retry-After": "0"}, timedelta(0)),
        (503, {}, None),
        (500, {"Retry-After": "soon"}, None),
        (408, {}, None),
        (502, {"Retry-After": "999999"}, timedelta(hours=1)),  # capped
    ],
)
def test_transient_answers_retry_honouring_retry_after(
    hook: Hook, deliver: Deliverer, status: int, headers: dict[str, str], after: timedelta | None
) -> None:
    hook.receiver.answer(hook.name, status, headers)
    assert deliver(hook.message()) == Retry(f"HTTP {status}", after)


def test_retry_after_as_an_http_date(hook: Hook, deliver: Deliverer) -> None:
    hook.receiver.answer(
        hook.name,
        503,
        {"Retry-After": format_datetime(clock.now() + timedelta(minutes=10), usegmt=True)},
    )
    result = deliver(hook.message())
    assert isinstance(result, Retry) and result.after is not None
    assert timedelta(minutes=9) < result.after <= timedelta(minutes=10)


@pytest.mark.parametrize("status", [400, 401, 404, 422, 301])
def test_other_refusals_dead_letter_at_once(hook: Hook, deliver: Deliverer, status: int) -> None:
    hook.receiver.answer(hook.name, status, {"Location": "https://elsewhere.example.cn/"})
    assert deliver(hook.message()) == Failed(f"HTTP {status}")


def test_a_slow_receiver_times_out_and_is_retried(hook: Hook, deliver: Deliverer) -> None:
    hook.receiver.answer(hook.name, 200, sleep=1.0)
    result = deliver(hook.message(), webhook_timeout_seconds=0.2)
    assert result == Retry("timeout: ReadTimeout")


def test_an_unreachable_receiver_is_retried(
    session: Session, receiver: FakeReceiver, tree: Tree, deliver: Deliverer
) -> None:
    hook = Hook(session, receiver, tree)
    hook.row.url = "http://127.0.0.1:9/hooks/nobody"  # the discard port: nothing listens
    session.flush()
    result = deliver(hook.message())
    assert isinstance(result, Retry) and result.error.startswith("network: ")


def test_a_deleted_subscriber_gets_nothing(
    hook: Hook, deliver: Deliverer, session: Session
) -> None:
    message = hook.message()
    service.delete(session=session, subscriber_id=hook.row.id, now=clock.now())
    assert isinstance(deliver(message), Skipped)
    assert hook.receiver.requests[hook.name] == []
