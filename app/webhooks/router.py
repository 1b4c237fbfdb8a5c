"""Admins manage the webhook subscribers; see docs/webhooks.md for what receivers get."""

from __future__ import annotations

from fastapi import Request, Response

from app import clock
from app.auth.deps import AdminUser
from app.config import Settings
from app.db import SessionDep
from app.models import WebhookSubscriber
from app.pagination import Page, PageDep, make_page
from app.routing import make_router
from app.schemas import IdPath
from app.webhooks import events, service
from app.webhooks.schemas import (
    EventTypeOut,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryOut,
    WebhookOut,
    WebhookUpdate,
)

router = make_router(tags=["对外推送（Webhook）"])


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _out(subscriber: WebhookSubscriber) -> WebhookOut:
    out = WebhookOut.model_validate(subscriber)
    out.previous_secret_until = service.previous_until(subscriber, clock.now())
    return out


@router.get(
    "/admin/webhook-events", response_model=list[EventTypeOut], summary="管理员：可订阅的事件"
)
def event_types(_admin: AdminUser) -> list[EventTypeOut]:
    """管理员：可订阅的公开事件类型及其说明（如 wish.cancelled）。"""
    return [EventTypeOut(type=t, description=d) for t, d in events.TOPICS.items()]


@router.post(
    "/admin/webhooks",
    response_model=WebhookCreated,
    status_code=201,
    summary="管理员：新增推送订阅（密钥只显示这一次）",
)
def create_webhook(
    body: WebhookCreate, request: Request, session: SessionDep, admin: AdminUser
) -> WebhookCreated:
    """管理员：新增推送订阅：接收地址（正式环境须为 https）、订阅的事件、可限定单位。
    返回订阅及签名密钥，密钥只显示这一次。
    事件不存在返回 400 WEBHOOK_EVENT_UNKNOWN，地址不合规返回 400 WEBHOOK_URL_INVALID。
    """
    subscriber, secret = service.create(
        session=session, body=body, actor=admin, settings=_settings(request), now=clock.now()
    )
    return WebhookCreated(**_out(subscriber).model_dump(), secret=secret)


@router.get("/admin/webhooks", response_model=Page[WebhookOut], summary="管理员：推送订阅列表")
def list_webhooks(session: SessionDep, page: PageDep, _admin: AdminUser) -> Page[WebhookOut]:
    """管理员：全部推送订阅，分页返回（不含密钥）。"""
    return make_page(service.listed(session=session, page=page), page, _out)


@router.get(
    "/admin/webhooks/{subscriber_id}", response_model=WebhookOut, summary="管理员：推送订阅详情"
)
def show_webhook(subscriber_id: IdPath, session: SessionDep, _admin: AdminUser) -> WebhookOut:
    """管理员：一个推送订阅的地址、事件、单位、启用或停用状态（不含密钥）。"""
    return _out(service.get(session, subscriber_id))


@router.patch(
    "/admin/webhooks/{subscriber_id}",
    response_model=WebhookOut,
    summary="管理员：修改推送订阅（事件、地址、单位、启用）",
)
def update_webhook(
    subscriber_id: IdPath,
    body: WebhookUpdate,
    request: Request,
    session: SessionDep,
    _admin: AdminUser,
) -> WebhookOut:
    """管理员：修改推送订阅的事件、地址、单位或启用状态，只改所填的项。返回修改后的订阅。"""
    subscriber = service.update(
        session=session,
        subscriber_id=subscriber_id,
        body=body,
        settings=_settings(request),
        now=clock.now(),
    )
    return _out(subscriber)


@router.post(
    "/admin/webhooks/{subscriber_id}/rotate-secret",
    response_model=SecretRotated,
    summary="管理员：轮换签名密钥（旧密钥在宽限期内仍一并签名）",
)
def rotate_secret(
    subscriber_id: IdPath, request: Request, session: SessionDep, _admin: AdminUser
) -> SecretRotated:
    """管理员：生成新的签名密钥（只显示这一次）；宽限期内旧密钥仍一并签名，接收方可从容更换。"""
    now = clock.now()
    subscriber, secret = service.rotate_secret(
        session=session, subscriber_id=subscriber_id, settings=_settings(request), now=now
    )
    return SecretRotated(
        id=subscriber.id,
        secret=secret,
        previous_secret_until=service.previous_until(subscriber, now),
    )


@router.delete("/admin/webhooks/{subscriber_id}", status_code=204, summary="管理员：删除推送订阅")
def delete_webhook(subscriber_id: IdPath, session: SessionDep, _admin: AdminUser) -> Response:
    """管理员：删除推送订阅，不再推送，成功返回 204 无内容。"""
    service.delete(session=session, subscriber_id=subscriber_id, now=clock.now())
    return Response(status_code=204)


@router.get(
    "/admin/webhooks/{subscriber_id}/deliveries",
    response_model=Page[WebhookDeliveryOut],
    summary="管理员：最近的推送及其状态（新的在前）",
)
def list_deliveries(
    subscriber_id: IdPath, session: SessionDep, page: PageDep, _admin: AdminUser
) -> Page[WebhookDeliveryOut]:
    """管理员：该订阅最近的推送消息及其状态、尝试次数与最后的错误，新的在前，分页返回。"""
    rows = service.deliveries(session=session, subscriber_id=subscriber_id, page=page)
    return make_page(rows, page, WebhookDeliveryOut.model_validate)
