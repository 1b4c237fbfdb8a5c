"""Sign-in errors. Codes are part of the API; messages are shown to people as they are."""

from __future__ import annotations

from app.errors import AppError, Conflict, Forbidden, NotFound, Unauthorized


class BadCredentials(Unauthorized):
    code = "BAD_CREDENTIALS"
    message = "用户名或密码错误"


class AccountDisabled(Unauthorized):
    code = "ACCOUNT_DISABLED"
    message = "账号已停用"


class InvalidToken(Unauthorized):
    code = "INVALID_TOKEN"
    message = "登录已失效，请重新登录"


class InvalidRefreshToken(Unauthorized):
    code = "INVALID_REFRESH_TOKEN"
    message = "登录已失效，请重新登录"


class RefreshTokenReused(Unauthorized):
    code = "REFRESH_TOKEN_REUSED"
    message = "登录凭证已被使用过，为保护账号安全已退出该登录，请重新登录"


class SessionEnded(Unauthorized):
    code = "SESSION_ENDED"
    message = "登录已结束，请重新登录"


class LoginThrottled(AppError):
    status_code = 429
    code = "LOGIN_THROTTLED"
    message = "登录尝试过于频繁，请稍后再试"


class PasswordChangeRequired(Forbidden):
    code = "PASSWORD_CHANGE_REQUIRED"
    message = "首次登录或密码被重置后，请先修改密码"


class WrongCurrentPassword(Forbidden):
    code = "WRONG_CURRENT_PASSWORD"
    message = "当前密码不正确"


class WeakPassword(AppError):
    status_code = 400
    code = "WEAK_PASSWORD"
    message = "新密码太简单：至少 10 位，包含字母和数字，且不能与用户名或原密码相同"


class StaffOnlySession(Forbidden):
    code = "STAFF_SESSION_REQUIRED"
    message = "此操作需要协调员/管理员以用户名和密码登录"


class ConsumerSessionRequired(Forbidden):
    code = "CONSUMER_SESSION_REQUIRED"
    message = "请在小程序中以微信登录后再绑定手机号"


class PhoneTaken(Conflict):
    code = "PHONE_TAKEN"
    message = "该手机号已绑定其他微信账号"


class PhoneAccountNotEmpty(Conflict):
    code = "PHONE_ACCOUNT_CONFLICT"
    message = "该手机号已属于另一个账号，而当前微信账号已有数据，无法自动合并，请联系工作人员"


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"
    message = "用户不存在"
