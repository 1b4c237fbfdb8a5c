"""The in-app inbox: `/me/notifications`."""

from __future__ import annotations

from app import clock
from app.auth.deps import CurrentUser
from app.db import SessionDep
from app.models import OutboxMessage
from app.notifications import inbox
from app.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    ReadAllIn,
    ReadAllOut,
    UnreadCount,
)
from app.notifications.templates import render
from app.pagination import PageDep, make_page
from app.routing import make_router
from app.schemas import IdPath

router = make_router(prefix="/me/notifications", tags=["我的"])


def notification_out(row: OutboxMessage) -> NotificationOut:
    shown = render(row.topic, row.payload or {})
    return NotificationOut(
        id=row.id,
        uid=getattr(row, "uid", None),  # the delivery engine's stable id, where it sets one
        topic=row.topic,
        title=shown.title,
        body=shown.body,
        urgent=shown.urgent,
        kind=shown.kind,
        page=shown.page,
        wish_id=row.wish_id,
        created_at=row.created_at,
        read_at=row.read_at,
    )


@router.get("", response_model=NotificationPage, summary="我的消息（最新在前，含未读数）")
def my_notifications(
    session: SessionDep, actor: CurrentUser, page: PageDep, unread_only: bool = False
) -> NotificationPage:
    """任何已登录用户：本人的站内消息，最新在前，分页返回，并附未读总数；
    unread_only=true 只看未读。
    """
    rows = inbox.messages_of(session, user_id=actor.user_id, page=page, unread_only=unread_only)
    built = make_page(rows, page, notification_out)
    return NotificationPage(
        items=built.items,
        next_cursor=built.next_cursor,
        unread_count=inbox.unread_count(session, user_id=actor.user_id),
    )


@router.get("/unread-count", response_model=UnreadCount, summary="我的未读消息数")
def my_unread_count(session: SessionDep, actor: CurrentUser) -> UnreadCount:
    """任何已登录用户：本人的未读站内消息数，供小程序角标轮询。"""
    return UnreadCount(unread_count=inbox.unread_count(session, user_id=actor.user_id))


@router.post(
    "/{notification_id}/read",
    response_model=NotificationOut,
    responses={404: {"description": "消息不存在（NOTIFICATION_NOT_FOUND），含他人的消息"}},
    summary="标记一条消息已读",
)
def read_one(notification_id: IdPath, session: SessionDep, actor: CurrentUser) -> NotificationOut:
    """任何已登录用户：把本人的一条消息标记为已读，重复标记无副作用。
    不是本人的消息返回 404 NOTIFICATION_NOT_FOUND。返回该消息。
    """
    row = inbox.mark_read(
        session, user_id=actor.user_id, message_id=notification_id, now=clock.now()
    )
    return notification_out(row)


@router.post("/read-all", response_model=ReadAllOut, summary="全部标记已读（可只到某条为止）")
def read_all(session: SessionDep, actor: CurrentUser, body: ReadAllIn | None = None) -> ReadAllOut:
    """任何已登录用户：把本人的未读消息全部标记为已读；填 up_to_id 时只标记到该条为止（含），
    以免漏掉刚到的新消息。
    返回标记的条数。
    """
    marked = inbox.mark_all_read(
        session,
        user_id=actor.user_id,
        now=clock.now(),
        up_to_id=body.up_to_id if body is not None else None,
    )
    unread = inbox.unread_count(session, user_id=actor.user_id)
    return ReadAllOut(marked=marked, unread_count=unread)
