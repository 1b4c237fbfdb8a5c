"""The caller's push settings: notification preferences and WeChat subscription quotas."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser
from app.auth.principal import Principal
from app.config import Settings
from app.db import SessionDep
from app.errors import AppError
from app.push import quota
from app.push.errors import QuietHoursInvalid, UnknownTemplate, UnknownTopic
from app.push.preferences import policy_of, save
from app.push.schemas import (
    Answer,
    NotificationPreferencesIn,
    NotificationPreferencesOut,
    QuietHoursOut,
    SubscriptionAnswers,
    SubscriptionsOut,
    TemplateId,
    TemplateQuota,
    TopicPreference,
)
from app.push.topics import KNOWN_TOPICS
from app.routing import make_router

router = make_router(prefix="/me", tags=["我的"])

_ANSWERS = TypeAdapter(dict[TemplateId, Answer])
MAX_ANSWERS = 20


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get(
    "/notification-preferences", response_model=NotificationPreferencesOut, summary="我的通知设置"
)
def get_preferences(
    request: Request, session: SessionDep, actor: CurrentUser
) -> NotificationPreferencesOut:
    """任何已登录用户：本人的通知设置：各类消息是否推送，
    免打扰时段（未设置时用系统默认；免打扰期间不推送，站内消息照常保留）。
    """
    return _preferences_out(session, actor.user_id, _settings(request))


@router.put(
    "/notification-preferences",
    response_model=NotificationPreferencesOut,
    summary="修改通知设置：按类型退订推送、免打扰时段",
    description=(
        "`opted_out` 列出不再推送（微信订阅消息、短信）的通知类型，站内消息仍照常显示。"
        "免打扰时段（默认 22:00–07:00）内的非紧急通知推迟到时段结束后推送；紧急通知不受限制。"
    ),
    responses={400: {"description": "未知的通知类型或免打扰时段不合法"}},
)
def put_preferences(
    body: NotificationPreferencesIn, request: Request, session: SessionDep, actor: CurrentUser
) -> NotificationPreferencesOut:
    unknown = sorted(set(body.opted_out) - set(KNOWN_TOPICS))
    if unknown:
        raise UnknownTopic(details={"unknown": unknown, "known": sorted(KNOWN_TOPICS)})
    hours = body.quiet_hours
    if (hours.start is None) != (hours.end is None) or (
        hours.start is not None and hours.start == hours.end
    ):
        raise QuietHoursInvalid()
    save(
        session,
        user_id=actor.user_id,
        opted_out=body.opted_out,
        quiet_hours_enabled=hours.enabled,
        quiet_start=hours.start.replace(second=0, microsecond=0) if hours.start else None,
        quiet_end=hours.end.replace(second=0, microsecond=0) if hours.end else None,
    )
    return _preferences_out(session, actor.user_id, _settings(request))


def _preferences_out(
    session: Session, user_id: int, settings: Settings
) -> NotificationPreferencesOut:
    policy = policy_of(session, user_id=user_id, settings=settings)
    return NotificationPreferencesOut(
        topics=[
            TopicPreference(topic=topic, label=label, enabled=topic not in policy.opted_out)
            for topic, label in KNOWN_TOPICS.items()
        ],
        quiet_hours=QuietHoursOut(
            enabled=policy.quiet_hours_enabled,
            start=policy.quiet_start.strftime("%H:%M"),
            end=policy.quiet_end.strftime("%H:%M"),
            custom=policy.custom_hours,
        ),
    )


@router.get(
    "/subscriptions",
    response_model=SubscriptionsOut,
    summary="我的微信订阅消息余量，以及建议现在请求订阅的模板",
)
def get_subscriptions(
    request: Request, session: SessionDep, actor: CurrentUser
) -> SubscriptionsOut:
    """任何已登录用户：本人各微信订阅消息模板的剩余可发次数，
    以及建议此刻用 wx.requestSubscribeMessage 请求订阅的模板（至多 3 个）。
    """
    return _subscriptions_out(session, actor, _settings(request))


@router.post(
    "/subscriptions",
    response_model=SubscriptionsOut,
    summary="上报 wx.requestSubscribeMessage 的结果",
    description=(
        "请求体即 `wx.requestSubscribeMessage` 成功回调的结果：模板 id → "
        "`accept` / `reject` / `ban` / `filter`（`errMsg` 忽略）。每个 `accept` 使该模板可推送"
        "的次数加一。响应同 `GET /me/subscriptions`。"
    ),
    responses={400: {"description": "包含本服务未使用的模板（SUBSCRIPTION_TEMPLATE_UNKNOWN）"}},
)
def post_subscriptions(
    body: SubscriptionAnswers, request: Request, session: SessionDep, actor: CurrentUser
) -> SubscriptionsOut:
    settings = _settings(request)
    raw: dict[str, Any] = dict(body.model_extra or {})
    if not raw or len(raw) > MAX_ANSWERS:
        raise AppError("请提交 1 至 20 个模板的订阅结果", code="SUBSCRIPTION_ANSWERS_INVALID")
    try:
        answers = _ANSWERS.validate_python(raw)
    except ValidationError:
        raise AppError(
            "订阅结果应为 模板id → accept、reject、ban 或 filter",
            code="SUBSCRIPTION_ANSWERS_INVALID",
        ) from None
    ours = {template.id for template in settings.wechat_templates.values()}
    unknown = sorted(set(answers) - ours)
    if unknown:
        raise UnknownTemplate(details={"unknown": unknown})
    quota.record_answers(session, user_id=actor.user_id, answers=answers)
    session.flush()
    return _subscriptions_out(session, actor, settings)


def _subscriptions_out(session: Session, actor: Principal, settings: Settings) -> SubscriptionsOut:
    have = quota.remaining(session, user_id=actor.user_id)
    templates = [
        TemplateQuota(
            kind=kind,
            template_id=template.id,
            remaining=have.get(template.id, (0, None))[0],
            last_result=have.get(template.id, (0, None))[1],
        )
        for kind, template in settings.wechat_templates.items()
    ]
    hint = quota.hint(
        session,
        user_id=actor.user_id,
        settings=settings,
        needs=quota.needs_for_roles(actor.roles),
    )
    return SubscriptionsOut(templates=templates, subscribe_hint=hint)
