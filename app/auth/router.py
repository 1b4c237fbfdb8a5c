"""Sign-in endpoints: staff (username + password), sessions (refresh, logout, password), and
the development phone login. The WeChat sign-in is in `wechat_router.py`.

Sign-in work runs on worker threads under the auth limiter (`run_auth`), outside the request
session machinery: each flow opens its own short transactions (`app/auth/service.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from anyio import CapacityLimiter, to_thread
from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool

from app.auth import service
from app.auth.deps import CurrentUser, StaffSession
from app.auth.errors import InvalidToken, LoginThrottled
from app.auth.schemas import (
    DevLoginIn,
    LoginIn,
    MeOut,
    PasswordChangeIn,
    RefreshIn,
    TokenOut,
)
from app.auth.throttle import LoginThrottle, client_ip
from app.auth.views import me_out
from app.config import Settings
from app.db import Database, SessionDep
from app.errors import error_body
from app.models import User
from app.routing import make_router

# No Idempotency-Key on sign-in: the answers carry fresh tokens, which must never be stored.
router = make_router(idempotency_keys=False, tags=["登录与账号"])
dev_router = make_router(idempotency_keys=False, tags=["登录与账号"])

T = TypeVar("T")

# Sign-in work on worker threads, at most this many at once per process: a storm of logins
# queues here (in the event loop, costing nothing) instead of taking every worker thread.
AUTH_THREADS = 4


async def run_auth(request: Request, fn: Callable[[], T]) -> T:
    limiter: CapacityLimiter | None = getattr(request.app.state, "auth_limiter", None)
    if limiter is None:
        limiter = request.app.state.auth_limiter = CapacityLimiter(AUTH_THREADS)
    return await to_thread.run_sync(fn, limiter=limiter)


async def throttled(request: Request, check: Callable[[], None]) -> None:
    """Run a throttle check before any sign-in work, so that a refusal costs nothing and
    never waits behind password hashes: in the event loop when counts are in memory, on the
    common thread pool when they are in Redis (a network round trip). A refusal is answered
    after `LOGIN_REFUSAL_DELAY_SECONDS`."""
    throttle: LoginThrottle = request.app.state.throttle
    try:
        if throttle.shared:
            await run_in_threadpool(check)
        else:
            check()
    except LoginThrottled:
        settings: Settings = request.app.state.settings
        await anyio.sleep(settings.login_refusal_delay_seconds)
        raise


def _errors(*codes: tuple[int, str, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of error responses: status → example codes."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status, code, message in codes:
        entry = responses.setdefault(status, {"description": "", "content": {}})
        entry["description"] = (entry["description"] + f" {code}").strip()
        entry["content"] = {"application/json": {"example": error_body(code, message)}}
    return responses


@router.post(
    "/auth/login",
    response_model=TokenOut,
    summary="协调员/管理员 用户名密码登录",
    description=(
        "返回短期 access_token 与 refresh_token（staff 会话）。连续失败按账号和来源地址限流，"
        "超限返回 429 LOGIN_THROTTLED 与 Retry-After。`password_change_required` 为 true 时"
        "须先修改密码。"
    ),
    responses=_errors(
        (401, "BAD_CREDENTIALS", "用户名或密码错误"),
        (429, "LOGIN_THROTTLED", "登录尝试过于频繁，请稍后再试"),
    ),
)
async def login(body: LoginIn, request: Request) -> TokenOut:
    settings: Settings = request.app.state.settings
    throttle: LoginThrottle = request.app.state.throttle
    ip = client_ip(request, settings)
    await throttled(request, partial(throttle.before_password, username=body.username, ip=ip))
    return await run_auth(
        request,
        partial(
            service.staff_login,
            database=request.app.state.database,
            settings=settings,
            throttle=throttle,
            username=body.username,
            password=body.password,
            ip=ip,
        ),
    )


@router.post(
    "/auth/refresh",
    response_model=TokenOut,
    summary="以 refresh_token 换取新的凭证（旧 refresh_token 随即失效）",
    description=(
        "每个 refresh_token 只能使用一次。再次出示已换过的 refresh_token 说明它可能已泄露："
        "整个登录会话随即结束（401 REFRESH_TOKEN_REUSED）。"
    ),
    responses=_errors(
        (401, "REFRESH_TOKEN_REUSED", "登录凭证已被使用过，为保护账号安全已退出该登录，请重新登录"),
    ),
)
async def refresh(body: RefreshIn, request: Request) -> TokenOut:
    return await run_auth(
        request,
        partial(
            service.refresh,
            database=request.app.state.database,
            settings=request.app.state.settings,
            refresh_token=body.refresh_token,
        ),
    )


@router.post(
    "/auth/logout",
    status_code=204,
    summary="退出登录（结束本会话，其 access_token 与 refresh_token 立即失效）",
)
async def logout(principal: CurrentUser, request: Request) -> Response:
    """任何已登录用户：结束当前登录会话，本会话的 access_token 与 refresh_token 立即失效，
    成功返回 204 无内容。
    其他设备上的登录不受影响。
    """
    if principal.session_id is None:
        raise InvalidToken()
    await run_auth(
        request,
        partial(
            service.logout, database=request.app.state.database, session_id=principal.session_id
        ),
    )
    return Response(status_code=204)


@router.post(
    "/auth/password",
    response_model=MeOut,
    summary="修改本人密码（协调员/管理员）",
    description=(
        "需要当前密码。新密码至少 10 位，须同时含字母和数字，至少 5 个不同字符，不得包含用户名，"
        "不得与当前密码相同。成功后本账号的其他登录会话全部结束。"
    ),
    responses=_errors(
        (403, "WRONG_CURRENT_PASSWORD", "当前密码不正确"),
        (400, "WEAK_PASSWORD", "新密码太简单"),
    ),
)
async def change_password(
    body: PasswordChangeIn, principal: StaffSession, request: Request
) -> MeOut:
    assert principal.session_id is not None
    database: Database = request.app.state.database
    await run_auth(
        request,
        partial(
            service.change_password,
            database=database,
            user_id=principal.user_id,
            session_id=principal.session_id,
            current_password=body.current_password,
            new_password=body.new_password,
        ),
    )

    def _me() -> MeOut:
        with database.session(write=False) as session:
            user = session.get(User, principal.user_id)
            assert user is not None
            return me_out(session, user, principal.kind)

    return await run_auth(request, _me)


@dev_router.post(
    "/auth/dev-login",
    response_model=TokenOut,
    summary="仅开发环境：居民/志愿者以手机号登录（不需验证）",
    description=(
        "**仅供开发与演示**：不验证手机号，任何人可冒用。正式环境（ENV=production）没有此接口，"
        "居民与志愿者使用 POST /auth/wechat/login。返回 consumer 会话：即使该账号是协调员或管理员，"
        "此会话也不带这些权限。"
    ),
)
async def dev_login(body: DevLoginIn, request: Request) -> TokenOut:
    return await run_auth(
        request,
        partial(
            service.dev_login,
            database=request.app.state.database,
            settings=request.app.state.settings,
            phone=body.phone,
            name=body.name,
        ),
    )


@router.get("/me", response_model=MeOut, summary="当前用户及其本次登录所带的角色")
def me(principal: CurrentUser, session: SessionDep) -> MeOut:
    """任何已登录用户：本人的账号信息（姓名、手机号、是否绑定微信、志愿者编号），
    以及本次登录所带的角色与所属单位。
    session_kind 为 consumer（微信登录）时不带协调员、管理员权限。
    """
    user = session.get(User, principal.user_id)
    assert user is not None
    return me_out(session, user, principal.kind)
