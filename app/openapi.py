"""The OpenAPI document as clients generate code from it: stable operation ids, one tag per
domain, every error response in our envelope with the status codes the code can really send,
and the docs pages served from packaged assets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from app.db import WRITE_METHODS, admitted
from app.error_codes import Raised, dependency_calls, errors_of, keyed_table
from app.wishes.handlers import SPECS

REF = "#/components/schemas/"
_CJK = re.compile(r"[\u3400-\u9fff]")
_NAMED_CODES = re.compile(r"（[^）]*[A-Z_]{4,}[^）]*）|^[A-Z_]{4,}$")


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="稳定的错误码，属于 API 的一部分", examples=["WISH_NOT_FOUND"])
    message: str = Field(description="中文提示，可直接展示给用户")
    details: dict[str, Any] = Field(
        description="补充信息；请求参数不符合要求（VALIDATION_ERROR）时为 "
        '`{"errors": [{"loc": [...], "type": "...", "msg": "..."}]}`'
    )


class ErrorResponse(BaseModel):
    """Every error response: `{"error": {"code", "message", "details"}}` (app/errors.py)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"description": "所有错误响应的统一格式；`code` 稳定，`message` 为中文"},
    )

    error: ErrorBody


def operation_id(route: APIRoute) -> str:
    """`{domain}_{endpoint}`: `app.wishes.router.accept` gives `wishes_accept`."""
    return f"{domain_of(route.endpoint)}_{route.endpoint.__name__}"


def domain_of(endpoint: Any) -> str:
    parts = str(endpoint.__module__).split(".")
    return parts[1] if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    route: Any  # an APIRoute, or the context FastAPI wraps an included one in


def api_operations(app: FastAPI) -> Iterator[Operation]:
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        for method in sorted(context.methods or ()):
            yield Operation(str(context.path_format), method.lower(), context)


# What the handlers in app/errors.py and the middleware send, whatever the endpoint.
VALIDATION = Raised(422, "VALIDATION_ERROR", "请求参数不符合要求")
TOO_LARGE = Raised(413, "PAYLOAD_TOO_LARGE", "请求内容过大")
BUSY = Raised(503, "DATABASE_BUSY", "系统繁忙，请稍后重试")
UNREADABLE = Raised(400, "BAD_REQUEST", "请求有误")
CONSTRAINT = Raised(409, "CONFLICT", "数据与现有记录冲突，请刷新后重试")


def declared_errors(route: Any, method: str) -> set[Raised]:
    """Everything an operation can answer with an error (but a 500)."""
    errors = errors_of(route.endpoint, route.dependant)
    if _takes_parameters(route.dependant):
        errors.add(VALIDATION)
    if route.body_field is not None:
        # BodySizeLimit (app/middleware.py), a body FastAPI cannot decode (its 400, rendered
        # by our handler) and the body's own validation.
        errors |= {VALIDATION, TOO_LARGE, UNREADABLE}
    if any(call is admitted for call in dependency_calls(route.dependant)):
        # The request holds a database session: a lock it cannot get answers 503, and a
        # constraint a concurrent writer got to first answers 409 (app/errors.py).
        errors.add(BUSY)
        if method.upper() in WRITE_METHODS:
            errors.add(CONSTRAINT)
    return errors


def _takes_parameters(dependant: Dependant) -> bool:
    own = (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
    )
    return bool(own) or any(_takes_parameters(dep) for dep in dependant.dependencies)


def _error_response(status: int, errors: list[Raised], described: str | None) -> dict[str, Any]:
    by_code: dict[str, Raised] = {}
    for error in sorted(errors):
        by_code.setdefault(error.code, error)
    if described:
        # The router's own words stay; the codes it names are listed from the code below.
        described = _NAMED_CODES.sub("", described).strip("；")
    title = described if described and _CJK.search(described) else _STATUS_ZH.get(status)
    title = title or HTTPStatus(status).phrase
    codes = "、".join(f"`{code}`" for code in by_code)
    response: dict[str, Any] = {
        "description": f"{title}（错误码：{codes}）" if codes else title,
        "content": {"application/json": {"schema": {"$ref": REF + "ErrorResponse"}}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {"description": "可再次尝试前的秒数", "schema": {"type": "integer"}}
        }
    if by_code:
        response["content"]["application/json"]["examples"] = {
            code: {
                "summary": error.message,
                "value": {"error": {"code": code, "message": error.message, "details": {}}},
            }
            for code, error in by_code.items()
        }
    return response


_STATUS_ZH = {
    400: "请求有误",
    401: "未登录或登录已失效",
    403: "无权执行",
    404: "资源不存在或不可见",
    409: "与当前状态冲突",
    413: "请求内容过大",
    422: "请求参数不符合要求",
    429: "操作过于频繁（见 `Retry-After`）",
    503: "系统繁忙，请稍后重试",
}


# One tag per domain, named by its folder (generated clients name their API classes after
# tags, so the names stay ASCII); ReDoc shows `x-displayName`.
TAGS: dict[str, tuple[str, str]] = {
    "auth": ("登录", "微信登录与绑定手机号、协调员与管理员用户名密码登录、换新凭证、退出"),
    "accounts": ("账号管理", "管理员创建与停用账号、授予与撤销角色、重置密码"),
    "org_units": ("实践阵地", "新时代文明实践中心、所、站的层级，按位置查找实践站"),
    "catalogue": ("服务目录", "服务类别、技能、服务项目与季节主题"),
    "seasons": ("四季红", "四季红的季节时段、类别契合度与我们的节日"),
    "volunteers": ("志愿者", "志愿者注册、资料、常住地点、服务时段与审核"),
    "wishes": (
        "心愿",
        "点单、审单、派单、接单、服务、评单与办结；本人点的心愿与收到的派单",
    ),
    "activities": (
        "活动",
        "活动发布与报名：按季节或节日发布、报名与候补递补、团队报名、各场次签到签退与时长确认",
    ),
    "attendance": ("服务签到", "签到签退、服务团队、心愿的服务记录与志愿者对服务的评价"),
    "dispatch": ("派单", "为心愿推荐志愿者（硬性条件与可解释的评分），批量派单方案的计算与发出"),
    "rules": ("单位规则", "各单位可继承的派单阶梯与服务记录规则"),
    "notifications": ("站内消息", "本人的站内消息与已读状态"),
    "push": ("通知设置", "按类型退订推送、免打扰时段，微信订阅消息的余量与订阅结果"),
    "records": ("服务记录与激励", "服务时长、星级、积分、服务证明与光荣榜"),
    "privacy": ("个人信息保护", "授权文本与本人授权"),
    "rights": ("个人信息权利", "查看完整个人信息及其留痕，注销账号"),
    "delivery": ("消息投递", "管理员：各渠道的投递统计，投递失败的消息及其重新投递"),
    "webhooks": ("对外推送（Webhook）", "订阅本系统的公开事件，按 Standard Webhooks 签名推送"),
    "exports": ("导出与台账", "实践站活动台账的导出：Excel、CSV 与 PDF"),
    "imports": (
        "批量导入",
        "下载 Excel 模板，批量导入志愿者与工作人员账号，查询导入进度与逐行错误",
    ),
    "teams": (
        "志愿服务队与组织",
        "志愿服务队与企业、学校、机关、社会组织：注册与认证、入队审批、以团队名义接单（成员各自确认）、"
        "队伍时长、服务记录、光荣榜与导出，万企帮万户的结对帮扶与统计",
    ),
    "pairings": (
        "结对帮扶",
        "户帮户亲帮亲：困难家庭登记（脱敏、查看留痕）、结对与走访周期、到户签到或人工登记走访、"
        "走访需求转心愿，逾期提醒与站点的结对健康情况",
    ),
    "stats": (
        "统计与考核",
        "各单位及其下级按时段的统计指标（受理、时效、成效、人员、覆盖、四季），按日、周、月、"
        "季、年的走势，每个指标可下钻到它计入的记录，导出 Excel 与 CSV；下级单位的考核排名与权重",
    ),
}


def _rewrite(app: FastAPI, document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for name, schema in ErrorResponse.model_json_schema(ref_template=REF + "{model}")[
        "$defs"
    ].items():
        schemas[name] = schema
    error_schema = ErrorResponse.model_json_schema(ref_template=REF + "{model}")
    error_schema.pop("$defs")
    schemas["ErrorResponse"] = error_schema

    used: set[str] = set()
    for op in api_operations(app):
        operation = document["paths"][op.path][op.method]
        domain = domain_of(op.route.endpoint)
        operation["tags"] = [domain]
        used.add(domain)
        responses: dict[str, Any] = operation["responses"]
        by_status: dict[int, list[Raised]] = {}
        for error in declared_errors(op.route, op.method):
            by_status.setdefault(error.status, []).append(error)
        for key in list(responses):
            if key.isdigit() and int(key) >= 400 and int(key) not in by_status:
                # Declared by hand, but nothing the operation reaches sends it.
                del responses[key]
        for status, errors in sorted(by_status.items()):
            described = responses.get(str(status), {}).get("description")
            responses[str(status)] = _error_response(status, errors, described)
        operation["responses"] = dict(sorted(responses.items()))
    document["tags"] = [
        {"name": name, "x-displayName": shown, "description": text}
        for name, (shown, text) in TAGS.items()
        if name in used
    ] + [{"name": name} for name in sorted(used - set(TAGS))]


def install_openapi(app: FastAPI) -> None:
    """Called once the routers are included."""
    build = app.openapi
    # An event's errors belong to the operations that fire that event.
    keyed_table(SPECS)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            _rewrite(app, document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
