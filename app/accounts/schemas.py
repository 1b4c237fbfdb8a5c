from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from app.auth.schemas import RoleOut
from app.models.enums import AccountRole
from app.schemas import Id, Name, Phone, ReadSchema, Schema

Username = Annotated[str, Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
Password = Annotated[str, Field(min_length=8, max_length=128)]


class StaffCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "沈丽华",
                    "username": "shen.lihua",
                    "password": "Deqing-2026-mgs",
                    "phone": "13957208866",
                }
            ]
        }
    )

    name: Name
    username: Username
    password: Password
    phone: Phone | None = None


class GrantIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"role": "coordinator", "org_unit_id": 12}, {"role": "admin"}]
        }
    )

    role: AccountRole
    org_unit_id: Id | None = None


class UserOut(ReadSchema):
    id: int
    name: str
    phone: str | None
    username: str | None
    is_active: bool


class UserDetail(UserOut):
    roles: list[RoleOut]
