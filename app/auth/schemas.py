from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import AccountRole
from app.schemas import Name, Phone, Schema


class LoginIn(Schema):
    username: Name
    password: Annotated[str, Field(min_length=1, max_length=128)]


class DevLoginIn(Schema):
    phone: Phone
    name: Name | None = None


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


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: MeOut
