"""Schemas of service certificates: issuing, reading and the public verification."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id, Schema


class CertificateIssue(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"unit_id": 12}, {}]})

    unit_id: Id | None = Field(default=None, description="出具证明的单位；默认为协调员所在单位")


class MyCertificateIssue(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"unit_id": 12}]})

    unit_id: Id = Field(description="记录了您的志愿服务、出具证明的单位")


class UnitBrief(BaseModel):
    id: int
    name: str


class CertificateOut(BaseModel):
    number: str
    volunteer_id: int
    volunteer_name: str
    unit: UnitBrief
    minutes: int
    hours: float = Field(description="服务时长（小时，保留两位小数）")
    entry_count: int = Field(description="计入的服务记录条数")
    first_service_at: datetime | None
    last_service_at: datetime | None
    content: str
    issued_at: datetime
    pdf_path: str
    verify_path: str


class CertificateVerification(BaseModel):
    """What anyone may learn from a certificate number: the minimum (PIPL)."""

    valid: bool
    number: str
    volunteer_name: str = Field(description="志愿者姓名（已脱敏）")
    unit_name: str
    issued_date: str = Field(description="出具日期（本市时间，YYYY-MM-DD）")
    hours: float
