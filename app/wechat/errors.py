"""What goes wrong with WeChat, as errors of ours: stable codes, Chinese messages.

WeChat's own error codes (`errcode`) map as follows; anything else is logged and answered as
`WECHAT_UNAVAILABLE` (our configuration or WeChat's service, nothing the user can fix).

| WeChat | ours |
|---|---|
| 40029 invalid code | 400 WECHAT_CODE_INVALID |
| 40163 code already used | 400 WECHAT_CODE_USED |
| 45011 rate limited | 429 WECHAT_RATE_LIMITED (Retry-After: 60) |
| 40226 high-risk user blocked | 403 WECHAT_USER_BLOCKED |
| -1 system busy | 503 WECHAT_BUSY |
| timeouts, connection errors, HTTP errors, unreadable bodies | 503 WECHAT_UNAVAILABLE |
| 40001, 42001, 40014 (access token rejected) | refresh the token, retry once |
"""

from __future__ import annotations

from app.errors import AppError


class WechatError(AppError):
    status_code = 503
    code = "WECHAT_UNAVAILABLE"
    message = "微信服务暂时无法访问，请稍后重试"


class WechatUnavailable(WechatError):
    pass


class WechatNotConfigured(WechatError):
    code = "WECHAT_NOT_CONFIGURED"
    message = "服务未配置微信小程序，暂不能使用微信登录"


class WechatBusy(WechatError):
    code = "WECHAT_BUSY"
    message = "微信系统繁忙，请稍后重试"


class WechatCodeInvalid(WechatError):
    status_code = 400
    code = "WECHAT_CODE_INVALID"
    message = "微信登录凭证无效或已过期，请重新授权"


class WechatCodeUsed(WechatError):
    status_code = 400
    code = "WECHAT_CODE_USED"
    message = "微信登录凭证已被使用，请重新授权"


class WechatRateLimited(WechatError):
    status_code = 429
    code = "WECHAT_RATE_LIMITED"
    message = "微信接口调用过于频繁，请一分钟后再试"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "60"}, details={"retry_after_seconds": 60})


class WechatUserBlocked(WechatError):
    status_code = 403
    code = "WECHAT_USER_BLOCKED"
    message = "微信判定该账号存在安全风险，暂时无法登录"


class WechatBadResponse(WechatError):
    status_code = 502
    code = "WECHAT_BAD_RESPONSE"
    message = "微信返回的数据无法核验，请稍后重试"


class PhoneNotMainland(AppError):
    status_code = 400
    code = "PHONE_NOT_MAINLAND"
    message = "目前仅支持中国大陆手机号"


class SubscribeMessageFailed(Exception):
    """subscribeMessage.send answered an errcode other than a rejected token: 43101 (the user
    refused, or has no subscription left), 40003 (openid), 40037 (template id), 41030 (page),
    47003 (a data value), 45009/45047 (limits), -1 (busy)…; the caller decides what it means
    for the message."""

    def __init__(self, errcode: int) -> None:
        self.errcode = errcode
        super().__init__(f"subscribeMessage.send errcode {errcode}")


class AccessTokenRejected(Exception):
    """WeChat refused our access token (40001, 42001, 40014): refresh it and retry once."""


# errcode → our error, for the user-facing APIs.
BY_ERRCODE: dict[int, type[WechatError]] = {
    40029: WechatCodeInvalid,
    40163: WechatCodeUsed,
    45011: WechatRateLimited,
    40226: WechatUserBlocked,
    -1: WechatBusy,
}
TOKEN_REJECTED = frozenset({40001, 42001, 40014})
