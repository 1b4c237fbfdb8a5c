"""The "user" delivery channel: how one message reaches one person outside the inbox.

In order, for a message to a user (the inbox lists it whatever happens here):
1. the topic is one they opted out of → Skipped;
2. a message that is not urgent and that WeChat cannot carry (below) → Skipped at once;
   otherwise, in quiet hours and not urgent → Held until they end;
3. they signed in with WeChat, a template is configured for the message's kind and one of
   their subscriptions to it is left → a WeChat subscription message;
4. otherwise, or when WeChat refuses the user (43101) or the message (47003, 40037, 41030…),
   an urgent message goes by SMS, within the number's daily cap;
5. anything else stays in the inbox only (Skipped, with the reason).

WeChat errors: -1 (busy), 45009/45047 (limits), timeouts and unreachable → Retry (after an
hour for the limits, when an urgent message goes by SMS instead), the subscription given
back; 40001/42001 → the shared access token is refreshed once (tokens.py); 43101 and 40003 →
none left for that template, SMS if urgent; a message WeChat cannot take (47003, 40037,
41030, …) → SMS if urgent, else Failed (dead letter: our configuration or text needs fixing),
the subscription given back. No database transaction is open during a
call to WeChat or the SMS provider. Openids, numbers and texts stay out of the logs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import select

from app import clock
from app.config import Settings, WechatTemplate
from app.crypto.sealing import lookup_hash
from app.delivery.channels import (
    DeliveryContext,
    Failed,
    Held,
    Outgoing,
    Result,
    Retry,
    Sent,
    Skipped,
    register,
)
from app.models import User
from app.notifications.templates import Rendered, render
from app.push import quota
from app.push.preferences import Policy, policy_of, quiet_until
from app.push.wechat_data import build_data
from app.sms import caps
from app.sms.factory import make_provider
from app.sms.provider import SmsFailed, SmsProvider, SmsText
from app.wechat.client import MAINLAND_MOBILE, WechatClient
from app.wechat.errors import SubscribeMessageFailed, WechatError
from app.wechat.tokens import with_access_token

log = structlog.get_logger()

REFUSED_USER = frozenset({43101, 40003})  # no subscription left / not this app's user
RETRY_SOON = frozenset({-1, 45011})
RETRY_LATER = frozenset({45009, 45047})  # daily limits: try again in an hour
LATER = timedelta(hours=1)


@dataclass(frozen=True)
class Recipient:
    user_id: int
    openid: str | None
    phone: str | None
    policy: Policy
    subscriptions_left: int  # for the template of the message's kind (0 without one)


class _Clients:
    """One WeChat client and one SMS provider per Settings object, shared by the threads of a
    worker (their HTTP connection pools are thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_settings: dict[int, tuple[Settings, WechatClient, SmsProvider]] = {}

    def of(self, settings: Settings) -> tuple[WechatClient, SmsProvider]:
        with self._lock:
            found = self._by_settings.get(id(settings))
            if found is None or found[0] is not settings:
                found = (settings, WechatClient(settings), make_provider(settings))
                self._by_settings[id(settings)] = found
            return found[1], found[2]

    def replace_sms(self, settings: Settings, provider: SmsProvider) -> None:
        """Use this provider for these settings (tests, a provider built elsewhere)."""
        wechat, _ = self.of(settings)
        with self._lock:
            self._by_settings[id(settings)] = (settings, wechat, provider)


clients = _Clients()


def _recipient(ctx: DeliveryContext, user_id: int, template_id: str | None) -> Recipient | None:
    with ctx.database.session(write=False) as session:
        user = session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
        if user is None or not user.is_active or user.deleted_at is not None:
            return None
        left = quota.left(session, user_id=user.id, template_id=template_id) if template_id else 0
        return Recipient(
            user_id=user.id,
            openid=user.wechat_openid,
            phone=user.phone,  # SealedText: opened by the model
            policy=policy_of(session, user_id=user.id, settings=ctx.settings),
            subscriptions_left=left,
        )


def handle(ctx: DeliveryContext, message: Outgoing) -> Result:
    if message.recipient_id is None:
        return Failed("a user message without a recipient")
    try:
        rendered = render(message.topic, message.payload)
    except Exception as exc:
        log.error("push.render_failed", message_id=message.id, topic=message.topic)
        return Failed(f"render: {type(exc).__name__}")
    template = ctx.settings.wechat_templates.get(rendered.kind)
    recipient = _recipient(ctx, message.recipient_id, template.id if template else None)
    if recipient is None:
        return Skipped("recipient no longer has an account")
    if message.topic in recipient.policy.opted_out:
        return Skipped("opted out of this topic")
    route = _wechat_route(ctx, recipient, rendered)
    if isinstance(route, str) and not rendered.urgent:
        return Skipped(f"inbox only: {route}")  # nothing to push, now or in the morning
    if not rendered.urgent:
        until = quiet_until(recipient.policy, now=ctx.now, tz=clock.zone(ctx.settings.timezone))
        if until is not None:
            return Held(until=until, reason="quiet hours")
    outcome = (
        route if isinstance(route, str) else _by_wechat(ctx, message, recipient, rendered, route)
    )
    if not isinstance(outcome, str):
        return outcome
    if rendered.urgent:
        return _by_sms(ctx, message, recipient, rendered, why_not_wechat=outcome)
    return Skipped(f"inbox only: {outcome}")


def _wechat_route(
    ctx: DeliveryContext, recipient: Recipient, rendered: Rendered
) -> WechatTemplate | str:
    """The template a WeChat push would use, or why there can be none (a read: the quota is
    taken for real, conditionally, just before sending)."""
    settings = ctx.settings
    template = settings.wechat_templates.get(rendered.kind)
    if template is None:
        return f"no subscription template for {rendered.kind}"
    if recipient.openid is None:
        return "no WeChat sign-in"
    if not settings.wechat_configured:
        return "WeChat not configured"
    if recipient.subscriptions_left <= 0:
        return "no subscription left"
    return template


def _by_wechat(
    ctx: DeliveryContext,
    message: Outgoing,
    recipient: Recipient,
    rendered: Rendered,
    template: WechatTemplate,
) -> Result | str:
    """The result of a WeChat push, or why WeChat cannot carry this message."""
    settings = ctx.settings
    assert recipient.openid is not None
    if not quota.take(ctx.database, user_id=recipient.user_id, template_id=template.id):
        return "no subscription left"
    client, _ = clients.of(settings)
    data = build_data(template, rendered.fields, tz=clock.zone(settings.timezone), now=ctx.now)
    openid = recipient.openid

    def send(token: str) -> str | None:
        return client.send_subscribe_message(
            access_token=token,
            openid=openid,
            template_id=template.id,
            data=data,
            page=rendered.page,
            state=settings.wechat_miniprogram_state,
        )

    give_back = True
    try:
        msgid = with_access_token(ctx.database, client, send)
        give_back = False
    except SubscribeMessageFailed as exc:
        code = exc.errcode
        log.info("push.wechat_refused", message_id=message.id, errcode=code)
        if code in REFUSED_USER:
            give_back = False
            quota.refused(ctx.database, user_id=recipient.user_id, template_id=template.id)
            return f"WeChat refused the user ({code})"
        if code in RETRY_LATER and rendered.urgent:
            return f"WeChat limit reached ({code})"  # an urgent message does not wait an hour
        if code in RETRY_SOON or code in RETRY_LATER:
            return Retry(f"wechat errcode {code}", after=LATER if code in RETRY_LATER else None)
        log.error("push.wechat_message_refused", message_id=message.id, errcode=code)
        if rendered.urgent:
            return f"WeChat refused the message ({code})"
        return Failed(f"wechat errcode {code}")
    except WechatError as exc:
        return Retry(f"wechat: {exc.code}")
    finally:
        if give_back:
            quota.give_back(ctx.database, user_id=recipient.user_id, template_id=template.id)
    log.info("push.sent", message_id=message.id, via="wechat", topic=message.topic)
    return Sent(via="wechat", provider_id=msgid)


def _by_sms(
    ctx: DeliveryContext,
    message: Outgoing,
    recipient: Recipient,
    rendered: Rendered,
    *,
    why_not_wechat: str,
) -> Result:
    phone = recipient.phone
    if phone is None or not MAINLAND_MOBILE.match(phone):
        return Skipped(f"inbox only: {why_not_wechat}; no mobile number")
    settings = ctx.settings
    phone_hash = lookup_hash(phone)
    day = clock.local_day(ctx.now, settings.timezone)
    if not caps.take(
        ctx.database, phone_hash=phone_hash, local_date=day, cap=settings.sms_daily_cap_per_number
    ):
        log.info("push.sms_capped", message_id=message.id)
        return Skipped(f"inbox only: {why_not_wechat}; SMS daily cap reached")
    _, provider = clients.of(settings)
    text = SmsText(phone=phone, title=rendered.title, body=rendered.body, reference=message.uid)
    sent = False
    try:
        provider_id = provider.send(text)
        sent = True
    except SmsFailed as exc:
        log.warning("push.sms_failed", message_id=message.id, code=exc.code)
        if exc.retryable:
            return Retry(f"sms {exc.code}")
        return Failed(f"sms {exc.code}")
    finally:
        if not sent:
            caps.give_back(ctx.database, phone_hash=phone_hash, local_date=day)
    log.info("push.sent", message_id=message.id, via="sms", topic=message.topic)
    return Sent(via="sms", provider_id=provider_id)


register("user", handle)
