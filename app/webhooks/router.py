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
    subscriber, secret = service.create(
        session=session, body=body, actor=admin, settings=_settings(request), now=clock.now()
    )
    return WebhookCreated(**_out(subscriber).model_dump(), secret=secret)


@router.get("/admin/webhooks", response_model=Page[WebhookOut], summary="管理员：推送订阅列表")
def list_webhooks(session: SessionDep, page: PageDep, _admin: AdminUser) -> Page[WebhookOut]:
    return make_page(service.listed(session=session, page=page), page, _out)


@router.get(
    "/admin/webhooks/{subscriber_id}", response_model=WebhookOut, summary="管理员：推送订阅详情"
)
def show_webhook(subscriber_id: IdPath, session: SessionDep, _admin: AdminUser) -> WebhookOut:
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
    rows = service.deliveries(session=session, subscriber_id=subscriber_id, page=page)
    return make_page(rows, page, WebhookDeliveryOut.model_validate)
