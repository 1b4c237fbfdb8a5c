from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

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


class StaffUnit(BaseModel):
    id: int
    name: str
    level: str


class StaffMemberOut(BaseModel):
    """One role a staff member holds for a unit (a person with two grants is listed twice)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 88,
                    "user_id": 7,
                    "name": "沈丽华",
                    "phone": "139****8866",
                    "username": "shen.lihua",
                    "is_active": True,
                    "role": "coordinator",
                    "unit": {"id": 12, "name": "仙潭村新时代文明实践站", "level": "village"},
                }
            ]
        }
    )

    id: int = Field(description="角色授予编号")
    user_id: int
    name: str
    phone: str | None = Field(description="手机号（已脱敏）")
    username: str | None
    is_active: bool
    role: AccountRole
    unit: StaffUnit
