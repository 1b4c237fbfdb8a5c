"""The delivery engine on the real database: what each handler result does to a message, the
back-off, dead letters, fenced leases and a graceful stop."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.delivery import channels
from app.delivery.channels import Failed, Held, Outgoing, Retry, Sent, Skipped
from app.delivery.engine import Deliverer, backoff, claim, record
from app.models import OutboxMessage
from app.notifications.outbox import enqueue, enqueue_many
from tests.conftest import BoundDatabase
from tests.dispatch.conftest import Clock
from tests.fixtures.builders import make_message, make_resident, make_subscriber


@pytest.fixture
def deliverer(engine: Engine, connection: Connection, settings: Settings) -> Deliverer:
    tuned = settings.model_copy(
        update={
            "delivery_max_attempts": 3,
            "delivery_backoff_base_seconds": 10.0,
            "delivery_backoff_cap_seconds": 60.0,
        }
    )
    return Deliverer(BoundDatabase(engine, connection), settings=tuned, batch=5)


def reread(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.expire_all()
    found = session.get(OutboxMessage, message.id)
    assert found is not None
    return found


def test_enqueue_gives_every_message_its_own_stable_uid(session: Session, frozen: Clock) -> None:
    a, b = make_resident(session), make_resident(session)
    hook = make_subscriber(session)
    enqueue_many(
        session=session,
        messages=[("wish.approved", [a.id, b.id], {"x": 1}), ("wish.offered", [a.id], {})],
    )
    enqueue(
        session=session,
        topic="wish.completed",
        recipient_ids=[None],
        payload={},
        channel="webhook",
        subscriber_id=hook.id,
    )
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.channel, r.recipient_id, r.subscriber_id) for r in rows] == [
        ("user", a.id, None),
        ("user", b.id, None),
        ("user", a.id, None),
        ("webhook", None, hook.id),
    ]
    uids = [r.uid for r in rows]
    assert len(set(uids)) == 4 and all(u.startswith("msg_") and len(u) == 36 for u in uids)
    with pytest.raises(ValueError):
        enqueue(session=session, topic="x", recipient_ids=[None], payload={})


def test_a_sent_message_records_how_and_releases_its_lease(
    session: Session, deliverer: Deliverer, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing but the inbox (the handler a deployment without a push channel has), a
    message is sent via the inbox, once, and its claim released."""
    monkeypatch.setitem(channels._HANDLERS, "user", channels.inbox_only)
    message = make_message(session, recipient=make_resident(session))
    assert deliverer.run_due() == 1
    done = reread(session, message)
    assert (done.status, done.delivered_via, done.attempts) == ("sent", "inbox", 1)
    assert done.sent_at == frozen.now
    assert (done.lease_token, done.locked_by, done.locked_until) == (None, None, None)
    assert deliverer.run_due() == 0


def test_a_message_nothing_can_push_is_skipped_and_stays_in_the_inbox(
    session: Session, deliverer: Deliverer, frozen: Clock
) -> None:
    """The app's "user" channel (WeChat, SMS): a resident with no subscription gets nothing
    pushed for a non-urgent message; it is done (skipped), not retried."""
    message = make_message(session, recipient=make_resident(session))
    assert deliverer.run_due() == 1
    done = reread(session, message)
    assert (done.status, done.attempts, done.delivered_via) == ("skipped", 1, None)
    assert done.lease_token is None
    assert deliverer.run_due() == 0


def test_results_skipped_failed_held(
    session: Session,
    deliverer: Deliverer,
    frozen: Clock,
    channel: dict[str, channels.Handler],
) -> None:
    until = frozen.now + timedelta(hours=9)
    channel["skip"] = lambda _c, _m: Skipped(reason="opted out")
    channel["fail"] = lambda _c, _m: Failed(error="43101 user refuses")
    channel["hold"] = lambda _c, _m: Held(until=until, reason="quiet hours")
    skipped = make_message(session, channel="skip")
    failed = make_message(session, channel="fail")
    held = make_message(session, channel="hold")
    assert deliverer.run_due() == 3

    skipped, failed, held = (reread(session, m) for m in (skipped, failed, held))
    assert (skipped.status, skipped.attempts) == ("skipped", 1)
    assert (failed.status, failed.attempts, failed.dead_at) == ("dead", 1, frozen.now)
    assert failed.last_error == "43101 user refuses"
    # Held: due again at `until`, and no attempt counted.
    assert (held.status, held.attempts, held.available_at) == ("pending", 0, until)
    frozen.advance(hours=8)
    assert deliverer.run_due() == 0
    frozen.advance(hours=1)
    assert deliverer.run_due() == 1
    assert reread(session, held).attempts == 0


def test_retries_back_off_then_dead_letter(
    session: Session,
    deliverer: Deliverer,
    frozen: Clock,
    channel: dict[str, channels.Handler],
) -> None:
    calls: list[int] = []

    def flaky(_ctx: channels.DeliveryContext, message: Outgoing) -> channels.Result:
        calls.append(message.attempts)
        raise ConnectionError("receiver down")

    channel["flaky"] = flaky
    message = make_message(session, channel="flaky")
    assert deliverer.run_due() == 1
    first = reread(session, message)
    assert (first.status, first.attempts) == ("pending", 1)
    assert "ConnectionError: receiver down" in (first.last_error or "")
    # Full jitter: anywhere from now to the base (10 s) for the first retry.
    assert frozen.now <= first.available_at <= frozen.now + timedelta(seconds=10)
    frozen.at(first.available_at)
    assert deliverer.run_due() == 1
    second = reread(session, message)
    assert second.attempts == 2
    assert frozen.now <= second.available_at <= frozen.now + timedelta(seconds=20)
    frozen.at(second.available_at)
    assert deliverer.run_due() == 1
    dead = reread(session, message)
    # DELIVERY_MAX_ATTEMPTS is 3 here: the third failure dead-letters it.
    assert (dead.status, dead.attempts, dead.dead_at) == ("dead", 3, frozen.now)
    assert calls == [0, 1, 2]
    frozen.advance(days=1)
    assert deliverer.run_due() == 0


def test_retry_after_is_honoured(
    session: Session, deliverer: Deliverer, frozen: Clock, channel: dict[str, channels.Handler]
) -> None:
    channel["later"] = lambda _c, _m: Retry(error="45009 quota", after=timedelta(minutes=5))
    message = make_message(session, channel="later")
    deliverer.run_due()
    assert reread(session, message).available_at == frozen.now + timedelta(minutes=5)


def test_unknown_channel_is_retried_not_lost(
    session: Session, deliverer: Deliverer, frozen: Clock
) -> None:
    message = make_message(session, channel="nobody")
    deliverer.run_due()
    again = reread(session, message)
    assert (again.status, again.attempts) == ("pending", 1)
    assert "no handler" in (again.last_error or "")


def test_backoff_is_exponential_capped_with_full_jitter(settings: Settings) -> None:
    rng = random.Random(7)
    for attempts, ceiling in ((1, 10), (2, 20), (3, 40), (8, 1280), (20, 3600)):
        tuned = settings.model_copy(
            update={"delivery_backoff_base_seconds": 10.0, "delivery_backoff_cap_seconds": 3600.0}
        )
        waits = [backoff(attempts, tuned, rng).total_seconds() for _ in range(300)]
        assert 0 <= min(waits) < ceiling * 0.1
        assert ceiling * 0.9 < max(waits) <= ceiling


def test_a_result_is_recorded_only_under_our_lease(
    session: Session, connection: Connection, settings: Settings, frozen: Clock
) -> None:
    """A worker whose lease ran out (and whose message another worker took) records nothing."""
    message = make_message(session, recipient=make_resident(session))
    lease = timedelta(seconds=settings.worker_lease_seconds)
    (stale,) = claim(session, worker="slow", now=frozen.now, limit=10, lease=lease)
    assert claim(session, worker="other", now=frozen.now, limit=10, lease=lease) == []
    frozen.advance(seconds=settings.worker_lease_seconds + 1)
    (fresh,) = claim(session, worker="other", now=frozen.now, limit=10, lease=lease)
    assert fresh.message.uid == stale.message.uid and fresh.token != stale.token

    assert not record(
        session, claimed=stale, result=Sent(via="wechat"), now=frozen.now, settings=settings
    )
    assert reread(session, message).status == "pending"
    assert record(session, claimed=fresh, result=Sent(via="sms"), now=frozen.now, settings=settings)
    done = reread(session, message)
    assert (done.status, done.delivered_via, done.attempts) == ("sent", "sms", 1)
    # Once recorded, the stale claim cannot overwrite it either.
    assert not record(
        session, claimed=stale, result=Failed(error="x"), now=frozen.now, settings=settings
    )
    assert reread(session, message).status == "sent"


def test_stop_finishes_the_message_in_hand_and_gives_the_rest_back(
    session: Session, deliverer: Deliverer, frozen: Clock, channel: dict[str, channels.Handler]
) -> None:
    seen: list[str] = []

    def stop_after_first(_ctx: channels.DeliveryContext, message: Outgoing) -> channels.Result:
        seen.append(message.uid)
        deliverer.request_stop()
        return Sent(via="webhook")

    channel["stopper"] = stop_after_first
    messages = [make_message(session, channel="stopper") for _ in range(4)]
    assert deliverer.run_due() == 1
    rows = [reread(session, m) for m in messages]
    assert [r.status for r in rows] == ["sent", "pending", "pending", "pending"]
    assert all(r.lease_token is None and r.locked_until is None for r in rows[1:])
    assert all(r.attempts == 0 for r in rows[1:])
    assert seen == [messages[0].uid]


def test_a_batch_whose_leases_lapsed_learns_which_messages_are_no_longer_its_own(
    session: Session, deliverer: Deliverer, settings: Settings, frozen: Clock
) -> None:
    """After the heartbeat could not renew for most of a lease (e.g. a lock held past it),
    the worker renews before sending more, and drops what another worker took meanwhile."""
    kept, taken = make_message(session), make_message(session)
    lease = timedelta(seconds=settings.worker_lease_seconds)
    mine = claim(session, worker=deliverer.worker, now=frozen.now, limit=10, lease=lease)
    frozen.advance(seconds=settings.worker_lease_seconds + 1)
    session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.__table__.c.id == kept.id)
        .values(locked_until=frozen.now + lease)
    )  # still ours (renewed), while `taken`'s lease ran out and another worker took it:
    claim(session, worker="other", now=frozen.now, limit=10, lease=lease)
    deliverer._lost = set()
    deliverer._valid_until = 0.0  # the heartbeat has not succeeded for a whole lease
    assert deliverer._leases_hold(mine)
    assert deliverer._lost == {taken.id}
