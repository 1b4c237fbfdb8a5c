from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Name, Phone
from app.volunteers.schemas import VolunteerRegister


class ImportKind(StrEnum):
    VOLUNTEERS = "volunteers"  # 志愿者
    STAFF = "staff"  # 工作人员：协调员、网格员、管理员账号


class ImportStatus(StrEnum):
    VALIDATING = "validating"  # 正在校验
    FAILED = "failed"  # 有错误，未导入任何一行
    APPLYING = "applying"  # 校验通过，正在写入
    DONE = "done"  # 全部写入


class RowError(BaseModel):
    row: int = Field(description="Excel 中的行号（表头为第 1 行）；0 表示整个文件")
    column: str | None = Field(description="列名（表头文字）；null 表示整行")
    code: str = Field(description="稳定的错误码")
    message: str = Field(description="中文说明（不含手机号、身份证号等个人信息）")


class ImportOut(BaseModel):
    """An import's progress. Nothing is half-imported: `failed` wrote no row; `done` wrote
    every row, in one transaction (`done` reaches `total` when it commits)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "status": "failed",
                    "kind": "volunteers",
                    "unit_id": 12,
                    "total": 38,
                    "done": 0,
                    "error_count": 1,
                    "errors": [
                        {
                            "row": 5,
                            "column": "手机号",
                            "code": "DUPLICATE_PHONE",
                            "message": "手机号与第 3 行重复",
                        }
                    ],
                    "created_at": "2026-12-02T02:30:00Z",
                    "finished_at": "2026-12-02T02:30:01Z",
                }
            ]
        }
    )

    id: int
    status: ImportStatus
    kind: ImportKind
    unit_id: int = Field(description="导入到的单位")
    total: int = Field(description="数据行数")
    done: int = Field(description="已写入的行数")
    error_count: int = Field(description="错误总数（errors 最多列出前若干条）")
    errors: list[RowError]
    created_at: datetime
    finished_at: datetime | None


class VolunteerRow(VolunteerRegister):
    """One row of the volunteers' sheet: the registration a volunteer would send themselves,
    with the name and phone of the account it is made for (validated by the same schema)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "王晓峰",
                    "phone": "13957205678",
                    "home_station_id": 12,
                    "lat": 30.5912,
                    "lng": 119.8703,
                    "skill_codes": ["errands", "computer"],
                    "weekly_availability": [{"weekday": 5, "start": "08:30", "end": "11:30"}],
                }
            ]
        }
    )

    name: Name
    phone: Phone
