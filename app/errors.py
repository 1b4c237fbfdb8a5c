"""Application errors and the handlers that render every error the same way.

Every error response is `{"error": {"code": ..., "message": ..., "details": ...}}`. Codes are
stable and part of the API; messages are Chinese, for the mini-program to show as they are.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger()


class AppError(Exception):
    status_code = 400
    code = "BAD_REQUEST"
    message = "请求有误"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.details = details or {}
        self.headers = headers or {}  # e.g. Retry-After on a 429
        super().__init__(self.message)


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "请先登录"


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"
    message = "您无权执行此操作"


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "未找到该资源"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "操作与当前状态冲突，请刷新后重试"


class TooManyRequests(AppError):
    """A limit was reached; raise with a `Retry-After` header (seconds)."""

    status_code = 429
    code = "TOO_MANY_REQUESTS"
    message = "操作过于频繁，请稍后再试"


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _json(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    return JSONResponse(
        status_code=status, content=error_body(code, message, details), headers=headers
    )


_HTTP_CODES = {
    400: ("BAD_REQUEST", "请求有误"),
    401: ("UNAUTHORIZED", "请先登录"),
    403: ("FORBIDDEN", "您无权执行此操作"),
    404: ("NOT_FOUND", "未找到该资源"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    413: ("PAYLOAD_TOO_LARGE", "请求内容过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型"),
}


# Chinese wording for the validation errors clients meet most; others keep pydantic's text.
_VALIDATION_ZH = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的字段",
    "string_too_long": "文本过长，最多 {max_length} 个字符",
    "string_too_short": "文本过短，至少 {min_length} 个字符",
    "too_long": "条目过多，最多 {max_length} 项",
    "too_short": "条目过少，至少 {min_length} 项",
    "less_than_equal": "不能大于 {le}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "必须小于 {lt}",
    "greater_than": "必须大于 {gt}",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "finite_number": "应为有限数字",
    "bool_parsing": "应为布尔值",
    "enum": "取值应为：{expected}",
    "literal_error": "取值应为：{expected}",
    "string_pattern_mismatch": "格式不正确",
    "datetime_parsing": "时间格式不正确，应为 ISO 8601",
    "datetime_from_date_parsing": "时间格式不正确，应为 ISO 8601",
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "json_invalid": "JSON 格式不正确",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "string_type": "应为文本",
}


def validation_message(err: Any) -> str:
    """A pydantic error in Chinese (our validators' own messages as they are)."""
    kind = err.get("type", "")
    if kind == "value_error":
        # Our own validators raise ValueError with a Chinese message.
        return str(err.get("msg", "")).removeprefix("Value error, ")
    template = _VALIDATION_ZH.get(kind)
    if template is None:
        return str(err.get("msg", ""))
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return str(err.get("msg", ""))


def _clean_validation_errors(errors: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "type": err.get("type"),
            "msg": validation_message(err),
        }
        for err in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> Any:
        return _json(exc.status_code, exc.code, exc.message, exc.details, exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Any:
        return _json(
            422,
            "VALIDATION_ERROR",
            "请求参数不符合要求",
            {"errors": _clean_validation_errors(list(exc.errors()))},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Any:
        code, message = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "请求无法处理"))
        return JSONResponse(
            status_code=exc.status_code,
            content=error_body(code, message),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> Any:
        # Services check what they can; a constraint that still fires means a concurrent
        # writer got there first.
        log.warning("db.integrity_error", error=str(exc.orig))
        return _json(409, "CONFLICT", "数据与现有记录冲突，请刷新后重试")

    @app.exception_handler(OperationalError)
    async def _operational(_request: Request, exc: OperationalError) -> Any:
        text = str(exc.orig).lower()
        if "locked" in text or "deadlock" in text or "could not serialize" in text:
            log.warning("db.busy", error=str(exc.orig))
            return _json(503, "DATABASE_BUSY", "系统繁忙，请稍后重试")
        log.exception("db.operational_error")
        return _json(500, "INTERNAL_ERROR", "服务器内部错误")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> Any:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return _json(500, "INTERNAL_ERROR", "服务器内部错误")
