"""Admins: dead letters (list, re-drive) and delivery counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from app import clock
from app.auth.deps import AdminUser
from app.db import SessionDep
from app.delivery import service
from app.delivery.schemas import DeliveryCount, DeliveryStats, OutboxMessageOut
from app.models import OutboxMessage
from app.pagination import Page, PageDep, make_page
from app.routing import make_router
from app.schemas import IdPath

router = make_router(tags=["消息投递"])

Topic = Annotated[
    str | None,
    Query(max_length=64, pattern=r"^[a-z0-9_.]+$", description="消息主题，如 wish.offered"),
]
Channel = Annotated[
    str | None, Query(max_length=16, pattern=r"^[a-z0-9_]+$", description="渠道：user、webhook")
]

REDRIVE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "消息不存在（MESSAGE_NOT_FOUND）"},
    409: {"description": "消息不是死信（MESSAGE_NOT_DEAD，details.status）"},
}


def _out(message: OutboxMessage) -> OutboxMessageOut:
    return OutboxMessageOut(
        id=message.id,
        uid=message.uid,
        channel=message.channel,
        topic=message.topic,
        status=message.status,
        recipient_id=message.recipient_id,
        subscriber_id=message.subscriber_id,
        wish_id=message.wish_id,
        attempts=message.attempts,
        created_at=message.created_at,
        available_at=message.available_at,
        sent_at=message.sent_at,
        delivered_via=message.delivered_via,
        dead_at=message.dead_at,
        last_error=message.last_error,
    )


@router.get(
    "/admin/deliveries/dead",
    response_model=Page[OutboxMessageOut],
    summary="管理员：投递失败的消息（死信，最新在前，可按主题、渠道筛选）",
)
def dead_letters(
    session: SessionDep,
    _admin: AdminUser,
    page: PageDep,
    topic: Topic = None,
    channel: Channel = None,
) -> Page[OutboxMessageOut]:
    """管理员：多次尝试仍投递失败（或永久失败）的消息，最新在前，可按主题、渠道筛选，分页返回。
    只显示投递信息与最后的错误，不显示消息内容（可能含个人信息）。
    """
    rows: list[OutboxMessage] = list(
        session.scalars(
            service.dead_letters(
                topic=topic, channel=channel, before_id=page.after_id, limit=page.limit
            )
        )
    )
    return make_page(rows, page, _out)


@router.post(
    "/admin/deliveries/{message_id}/redrive",
    response_model=OutboxMessageOut,
    responses=REDRIVE_ERRORS,
    summary="管理员：重新投递一条死信（尝试次数清零，立即投递）",
)
def redrive(session: SessionDep, _admin: AdminUser, message_id: IdPath) -> OutboxMessageOut:
    """管理员：把一条死信重新放回投递队列，尝试次数清零、立即投递；返回该消息的投递信息。
    消息不存在返回 404 MESSAGE_NOT_FOUND，不是死信返回 409 MESSAGE_NOT_DEAD。
    """
    return _out(service.redrive(session=session, message_id=message_id, now=clock.now()))


@router.get(
    "/admin/deliveries/stats",
    response_model=DeliveryStats,
    summary="管理员：各渠道各状态的消息数，以及已到期待投递的积压",
)
def stats(session: SessionDep, _admin: AdminUser) -> DeliveryStats:
    """管理员：各渠道（user 发给用户、webhook 对外推送）各状态的消息数，
    以及已到期仍待投递的条数与最早一条的时间，用于监控积压。
    """
    rows, due, oldest = service.counts(session, clock.now())
    return DeliveryStats(
        counts=[DeliveryCount(channel=c, status=s, count=n) for c, s, n in rows],
        pending_due=due,
        oldest_due_at=oldest,
    )
