from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from app.config import Settings, WechatTemplate
from app.db import Database
from app.delivery.channels import Outgoing, Result
from app.models import SubscriptionQuota, User
from app.notifications.templates import Rendered
from app.push import channel
from tests.conftest import BoundDatabase
from tests.fixtures.builders import make_user
from tests.fixtures.fake_wechat import FakeWechat
from tests.sms.conftest import fake_sms, fake_sms_server  # noqa: F401 - fixtures

TEMPLATES = {
    "offer": WechatTemplate(
        id="tpl-offer_001",
        fields={"subject": "thing1", "time": "time2", "place": "thing3", "status": "phrase4"},
    ),
    "wish_update": WechatTemplate(
        id="tpl-wish_002", fields={"subject": "thing1", "status": "phrase2", "note": "thing3"}
    ),
    "task": WechatTemplate(id="tpl-task_003", fields={"subject": "thing1", "time": "time2"}),
    "record": WechatTemplate(id="tpl-record_004", fields={"subject": "thing1", "note": "thing2"}),
    "todo": WechatTemplate(id="tpl-todo_005", fields={"subject": "thing1", "person": "name2"}),
}
DAY = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
NIGHT = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # 23:30 in Asia/Shanghai


@pytest.fixture
def push_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"wechat_templates": TEMPLATES})


@pytest.fixture
def wechat(fake_wechat: FakeWechat) -> Iterator[FakeWechat]:
    fake_wechat.reset()
    for template in TEMPLATES.values():
        fake_wechat.add_template(template.id, sorted(template.fields.values()))
    yield fake_wechat
    fake_wechat.reset()


@pytest.fixture
def push_app(app: FastAPI, push_settings: Settings) -> Iterator[FastAPI]:
    """The suite's app, reading the settings with subscription templates."""
    suite_settings = app.state.settings
    app.state.settings = push_settings
    try:
        yield app
    finally:
        app.state.settings = suite_settings


@dataclass
class Ctx:
    database: Database
    settings: Settings
    now: datetime


def rendered(
    *,
    urgent: bool = False,
    kind: str = "offer",
    subject: str = "帮独居老人买菜",
    **fields: str,
) -> Rendered:
    return Rendered(
        title="您收到一个派单邀请" if kind == "offer" else "心愿进展",
        body=f"{subject}，请在 30 分钟内答复",
        urgent=urgent,
        kind=kind,
        fields={"subject": subject, "status": "待接单", **fields},
        page="pages/wish/detail?id=12",
    )


@dataclass
class Push:
    """Sends one message through the "user" channel, with the rendering the test chooses."""

    session: Session
    ctx: Ctx
    monkeypatch: pytest.MonkeyPatch
    seq: Any = field(default_factory=lambda: iter(range(1, 10_000)))

    def user(self, *, openid: bool = True, phone: str | None = None) -> User:
        user = make_user(self.session, phone=phone)
        if openid:
            user.wechat_openid = f"o-test-{user.id:06d}"
            self.session.flush()
        return user

    def send(
        self,
        user: User,
        *,
        topic: str = "offer.received",
        at: datetime | None = None,
        render: Rendered | None = None,
        settings: Settings | None = None,
    ) -> Result:
        message_id = next(self.seq)
        value = render or rendered()
        self.monkeypatch.setattr(channel, "render", lambda _topic, _payload: value)
        ctx = Ctx(self.ctx.database, settings or self.ctx.settings, at or self.ctx.now)
        return channel.handle(
            ctx,
            Outgoing(
                id=message_id,
                uid=f"msg_{message_id:026d}",
                channel="user",
                topic=topic,
                recipient_id=user.id,
                subscriber_id=None,
                wish_id=12,
                payload={"wish_id": 12},
                attempts=0,
                created_at=DAY,
            ),
        )

    def remaining(self, user: User, kind: str = "offer") -> int | None:
        self.session.expire_all()
        return self.session.scalar(
            select(SubscriptionQuota.remaining).where(
                SubscriptionQuota.user_id == user.id,
                SubscriptionQuota.template_id == TEMPLATES[kind].id,
            )
        )

    def grant(self, user: User, kind: str = "offer", times: int = 1) -> None:
        """Our count says `times` are left (as after that many accepts)."""
        self.session.merge(
            SubscriptionQuota(
                user_id=user.id,
                template_id=TEMPLATES[kind].id,
                remaining=times,
                last_result="accept",
            )
        )
        self.session.flush()


@pytest.fixture
def push(
    session: Session,
    engine: Engine,
    connection: Connection,
    push_settings: Settings,
    wechat: FakeWechat,
    monkeypatch: pytest.MonkeyPatch,
) -> Push:
    return Push(
        session=session,
        ctx=Ctx(BoundDatabase(engine, connection), push_settings, DAY),
        monkeypatch=monkeypatch,
    )
