from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import AccountRole, SessionKind
from app.schemas import Name, Phone, Schema

# What the mini-program's wx.login / phone-number button hands over (WeChat's codes are 32
# characters today; leave room).
WechatCode = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")]
RefreshTokenText = Annotated[str, Field(min_length=16, max_length=128)]
PasswordText = Annotated[str, Field(min_length=1, max_length=128)]


class LoginIn(Schema):
    username: Name
    password: PasswordText


class DevLoginIn(Schema):
    phone: Phone
    name: Name | None = None


class WechatLoginIn(Schema):
    code: WechatCode


class WechatPhoneIn(Schema):
    code: WechatCode


class RefreshIn(Schema):
    refresh_token: RefreshTokenText


class PasswordChangeIn(Schema):
    current_password: PasswordText
    new_password: PasswordText


class RoleOut(BaseModel):
    id: int
    role: AccountRole
    org_unit_id: int | None = None
    org_unit_name: str | None = None


class MeOut(BaseModel):
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
