from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas import Code, Name, OptionalNote, ReadSchema, Schema


class CatalogueKind(StrEnum):
    CATEGORIES = "categories"
    SKILLS = "skills"
    PROGRAMMES = "programmes"
    SEASONS = "seasons"


class EntryOut(ReadSchema):
    code: str
    name: str
    description: str | None = None
    sort_order: int
    is_active: bool
    # Categories only.
    risky: bool | None = None
    min_age: int | None = None
    max_age: int | None = None
    # Skills only.
    needs_qualification: bool | None = None


class CatalogueOut(BaseModel):
    categories: list[EntryOut]
    skills: list[EntryOut]
    programmes: list[EntryOut]
    seasons: list[EntryOut]


Age = Annotated[int, Field(ge=0, le=120)]


class EntryFields(Schema):
    name: Name | None = None
    description: OptionalNote | None = None
    sort_order: Annotated[int, Field(ge=0, le=10_000)] | None = None
    is_active: bool | None = None
    risky: bool | None = None
    min_age: Age | None = None
    max_age: Age | None = None
    needs_qualification: bool | None = None

    @model_validator(mode="after")
    def _ages(self) -> EntryFields:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age 不能大于 max_age")
        return self


class EntryCreate(EntryFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "tea_picking",
                    "name": "助农采茶",
                    "description": "春茶季帮茶农采摘、分拣莫干黄芽",
                    "sort_order": 110,
                }
            ]
        }
    )

    code: Code
    name: Name


class EntryUpdate(EntryFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"description": "关爱空巢、独居老人和孤困儿童，含上门陪伴与代购", "sort_order": 20},
                {"is_active": False},
            ]
        }
    )

    pass
