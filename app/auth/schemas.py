from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.models.enums import AccountRole, SessionKind
from app.schemas import Name, Phone, Schema

# What the mini-program's wx.login / phone-number button hands over (WeChat's codes are 32
# characters today; leave room).
WechatCode = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")]
RefreshTokenText = Annotated[str, Field(min_length=16, max_length=128)]
PasswordText = Annotated[str, Field(min_length=1, max_length=128)]


class LoginIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "xiantan_zhan", "password": "Xiantan2026go"}]}
    )

    username: Name
    password: PasswordText


class DevLoginIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "13857201234", "name": "李桂英"}]}
    )

    phone: Phone
    name: Name | None = None


class WechatLoginIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "0a3Bc5000LxYqT1Wk3300QkHcN0Bc50p"}]}
    )

    code: WechatCode


class WechatPhoneIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"}
            ]
        }
    )

    code: WechatCode


class RefreshIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "rt_5mQ9x2LkVb7sT1nZ8wYc3aRe"}]}
    )

    refresh_token: RefreshTokenText


class PasswordChangeIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current_password": "Xiantan2025", "new_password": "Moganshan-2026-qs"}]
        }
    )

    current_password: PasswordText
    new_password: PasswordText


_ME_EXAMPLE: dict[str, Any] = {
    "id": 301,
    "name": "王晓峰",
    "phone": "13957205678",
    "roles": [
        {"id": 9, "role": "resident", "org_unit_id": None, "org_unit_name": None},
        {
            "id": 15,
            "role": "volunteer",
            "org_unit_id": 12,
            "org_unit_name": "仙潭村新时代文明实践站",
        },
    ],
    "volunteer_id": 42,
    "session_kind": "consumer",
    "password_change_required": False,
    "wechat_bound": True,
}


class RoleOut(BaseModel):
    id: int
    role: AccountRole
    org_unit_id: int | None = None
    org_unit_name: str | None = None


class MeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ME_EXAMPLE]})

    id: int
    name: str
    phone: str | None
    roles: list[RoleOut]
    volunteer_id: int | None
    session_kind: SessionKind | None = Field(
        default=None, description="consumer（微信/开发登录）或 staff（用户名密码登录）"
    )
    password_change_required: bool = False
    wechat_bound: bool = False


class TokenOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzMDEifQ.c2lnbmF0dXJl",
                    "token_type": "bearer",
                    "expires_at": "2026-12-02T03:15:00Z",
                    "refresh_token": "rt_5mQ9x2LkVb7sT1nZ8wYc3aRe",
                    "refresh_expires_at": "2027-01-01T02:15:00Z",
                    "session_kind": "consumer",
                    "password_change_required": False,
                    "is_new_account": False,
                    "user": _ME_EXAMPLE,
                }
            ]
        }
    )

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    refresh_token: str = Field(description="仅用于 POST /auth/refresh，每次使用后即更换")
    refresh_expires_at: datetime = Field(description="本次登录的最晚结束时间，刷新不会延长")
    session_kind: SessionKind
    password_change_required: bool = Field(
        default=False, description="为 true 时，须先 POST /auth/password 修改密码，其余操作返回 403"
    )
    is_new_account: bool = False
    user: MeOut


class PhoneBindOut(BaseModel):
    merged: bool = Field(
        description="为 true 时，该手机号原属的账号（代下单或开发登录建立）已并入本微信身份，"
        "请改用 tokens 中的新凭证"
    )
    user: MeOut
    tokens: TokenOut | None = None


class TemporaryPasswordOut(BaseModel):
    user_id: int
    temporary_password: str = Field(description="只显示这一次；对方首次登录后须修改")
