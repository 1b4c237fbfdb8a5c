from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import File, Path, Response, UploadFile

from app.auth.deps import StaffUser
from app.config import current_settings
from app.db import SessionDep
from app.heavy import HEAVY
from app.imports import service, templates
from app.imports.errors import ImportFileTooLarge
from app.imports.schemas import ImportKind, ImportOut
from app.routing import make_router
from app.schemas import IdPath

router = make_router(tags=["批量导入"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The upload route's path, for the larger body cap it gets (app/middleware.BodySizeLimit).
UPLOAD_PATH = r"/org-units/\d+/imports/[a-z]+"
KindPath = Annotated[ImportKind, Path(description="volunteers：志愿者；staff：工作人员账号")]
TEMPLATE_NAMES = {
    ImportKind.VOLUNTEERS: "志愿者导入模板.xlsx",
    ImportKind.STAFF: "工作人员导入模板.xlsx",
}
UPLOAD_BODY = {
    "requestBody": {
        "description": (
            "multipart/form-data，字段 `file`：按 `GET /imports/templates/{kind}` 下载的模板填写的 "
            ".xlsx 文件（大小与行数上限见 IMPORT_MAX_BYTES、IMPORT_MAX_ROWS）。"
        ),
        "content": {
            "multipart/form-data": {
                "example": {"file": "(志愿者导入模板.xlsx 的二进制内容)"},
            }
        },
    }
}


@router.get(
    "/imports/templates/{kind}",
    response_class=Response,
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "导入模板（xlsx）",
        }
    },
    summary="协调员：下载批量导入模板（xlsx）",
)
def template(kind: KindPath, session: SessionDep, actor: StaffUser) -> Response:
    """协调员或管理员：下载志愿者（volunteers）或工作人员账号（staff）的导入模板。
    第一个工作表为待填写的表格（中文表头，首行冻结）；“说明”工作表列出填写规则、示例行、
    可选技能（代码与名称）以及本人管辖范围内可填写的单位代码。
    """
    content = templates.template(session, actor, kind)
    name = TEMPLATE_NAMES[kind]
    return Response(
        content=content,
        media_type=XLSX,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"import-{kind.value}.xlsx\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "private, no-store",
        },
    )


@router.post(
    "/org-units/{unit_id}/imports/{kind}",
    dependencies=[HEAVY],
    response_model=ImportOut,
    status_code=202,
    summary="协调员：上传 Excel 批量导入志愿者或工作人员账号",
    openapi_extra=UPLOAD_BODY,
)
def upload(
    unit_id: IdPath,
    kind: KindPath,
    session: SessionDep,
    actor: StaffUser,
    file: Annotated[UploadFile, File(description="按模板填写的 .xlsx 文件")],
) -> ImportOut:
    """协调员或管理员：把按模板填写的 Excel 导入到本人管辖的单位（其下级单位亦可）。
    逐行校验（单位须在该单位之下、必填项、手机号格式、文件内与已有账号的手机号及用户名重复、
    技能、可授予的角色等）；任何一行有错即整份文件不导入，状态为 failed，errors 列出各行错误
    （不含手机号、身份证号）。校验通过的小文件在本次请求内全部写入（done）；
    大文件状态为 applying，在后台一次写入，请轮询 `GET /imports/{id}`。
    单位不在管辖范围内返回 404 ORG_UNIT_NOT_FOUND；文件不是 xlsx 返回 400 IMPORT_NOT_XLSX，
    表头缺少必填列返回 400 IMPORT_BAD_HEADER；文件过大或行数过多返回 413。
    可带 Idempotency-Key 请求头安全重试，同一文件不会导入两次。
    """
    limit = current_settings().import_max_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ImportFileTooLarge(
            f"导入文件不能超过 {limit // 1_000_000 or 1} MB", details={"max_bytes": limit}
        )
    record = service.start(session=session, actor=actor, unit_id=unit_id, kind=kind, data=data)
    return service.import_out(record)


@router.get("/imports/{import_id}", response_model=ImportOut, summary="协调员：查询批量导入进度")
def get_import(import_id: IdPath, session: SessionDep, actor: StaffUser) -> ImportOut:
    """上传者本人或管辖该单位的协调员、管理员：导入的状态（validating、failed、applying、done）、
    行数、已写入行数与各行错误。不存在或无权查看返回 404 IMPORT_NOT_FOUND。
    """
    record = service.visible(session=session, actor=actor, import_id=import_id)
    return service.import_out(record)
