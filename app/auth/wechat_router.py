"""WeChat sign-in for the mini-program: residents and volunteers."""

from __future__ import annotations

from functools import partial

from fastapi import Request

from app.auth import service
from app.auth.deps import CurrentUser
from app.auth.errors import ConsumerSessionRequired
from app.auth.router import _errors, run_auth, throttled
from app.auth.schemas import PhoneBindOut, TokenOut, WechatLoginIn, WechatPhoneIn
from app.auth.throttle import LoginThrottle, client_ip
from app.config import Settings
from app.models.enums import SessionKind
from app.routing import make_router
from app.wechat.client import WechatClient

router = make_router(idempotency_keys=False, tags=["登录与账号"])

_WECHAT_ERRORS = (
    (400, "WECHAT_CODE_INVALID", "微信登录凭证无效或已过期，请重新授权"),
    (400, "WECHAT_CODE_USED", "微信登录凭证已被使用，请重新授权"),
    (403, "WECHAT_USER_BLOCKED", "微信判定该账号存在安全风险，暂时无法登录"),
    (429, "WECHAT_RATE_LIMITED", "微信接口调用过于频繁，请一分钟后再试"),
    (503, "WECHAT_BUSY", "微信系统繁忙，请稍后重试"),
)


@router.post(
    "/auth/wechat/login",
    response_model=TokenOut,
    summary="小程序微信登录（wx.login 的 code）",
    description=(
        "服务器以 code 向微信换取 openid（及 unionid），按 unionid（有则优先）或 openid 找到账号，"
        "首次登录即建立居民账号（`is_new_account`）。返回 consumer 会话：协调员/管理员权限须以"
        "用户名密码登录。按来源地址限流。"
    ),
    responses=_errors(*_WECHAT_ERRORS, (429, "LOGIN_THROTTLED", "登录尝试过于频繁，请稍后再试")),
)
async def wechat_login(body: WechatLoginIn, request: Request) -> TokenOut:
    settings: Settings = request.app.state.settings
    client: WechatClient = request.app.state.wechat
    throttle: LoginThrottle = request.app.state.throttle
    ip = client_ip(request, settings)
    await throttled(request, partial(throttle.before_wechat, ip=ip))
    return await run_auth(
        request,
        partial(
            service.wechat_login,
            database=request.app.state.database,
            settings=settings,
            client=client,
            code=body.code,
        ),
    )


@router.post(
    "/auth/wechat/phone",
    response_model=PhoneBindOut,
    summary="绑定手机号（小程序手机号按钮的 code）",
    description=(
        "服务器以 code 向微信换取手机号（仅支持中国大陆号码）并绑定到当前账号。若该号码属于一个"
        "尚无微信身份的账号（工作人员代下单或开发登录所建），且当前微信账号尚无任何数据，则该账号"
        "接管本微信身份、当前空账号停用，响应中的 `tokens` 为新凭证。号码已绑定其他微信身份时返回"
        "409 PHONE_TAKEN。"
    ),
    responses=_errors(
        *_WECHAT_ERRORS,
        (400, "PHONE_NOT_MAINLAND", "目前仅支持中国大陆手机号"),
        (409, "PHONE_TAKEN", "该手机号已绑定其他微信账号"),
    ),
)
async def bind_phone(body: WechatPhoneIn, principal: CurrentUser, request: Request) -> PhoneBindOut:
    if principal.kind != SessionKind.CONSUMER:
        raise ConsumerSessionRequired()
    return await run_auth(
        request,
        partial(
            service.bind_phone,
            database=request.app.state.database,
            settings=request.app.state.settings,
            client=request.app.state.wechat,
            user_id=principal.user_id,
            code=body.code,
        ),
    )
