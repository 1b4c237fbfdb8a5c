from __future__ import annotations

from app.auth.deps import AdminUser, CurrentUser
from app.catalogue import service
from app.catalogue.schemas import CatalogueKind, CatalogueOut, EntryCreate, EntryOut, EntryUpdate
from app.db import SessionDep
from app.routing import make_router
from app.schemas import CodePath

router = make_router(prefix="/catalogue", tags=["服务目录"])


@router.get("", response_model=CatalogueOut, summary="服务类别、技能、项目、季节主题")
def catalogue(
    session: SessionDep, _actor: CurrentUser, include_inactive: bool = False
) -> CatalogueOut:
    """任何已登录用户：
    点单与注册志愿者所用的服务类别、技能（含是否需要资质）、服务项目与四季红季节主题，
    一次返回。
    include_inactive=true 时同时列出已停用的条目（供管理员维护）。
    """

    def kind(k: CatalogueKind) -> list[EntryOut]:
        return [
            EntryOut.model_validate(e)
            for e in service.entries(session=session, kind=k, active_only=not include_inactive)
        ]

    return CatalogueOut(
        categories=kind(CatalogueKind.CATEGORIES),
        skills=kind(CatalogueKind.SKILLS),
        programmes=kind(CatalogueKind.PROGRAMMES),
        seasons=kind(CatalogueKind.SEASONS),
    )


@router.post("/{kind}", response_model=EntryOut, status_code=201, summary="管理员：新增目录条目")
def create_entry(
    kind: CatalogueKind, body: EntryCreate, session: SessionDep, _admin: AdminUser
) -> EntryOut:
    """管理员：在某类目录（类别、技能、项目、季节主题）中新增条目；
    代码已存在返回 409 CATALOGUE_ENTRY_EXISTS，
    填了该类不适用的字段返回 400 FIELD_NOT_APPLICABLE。返回新条目。
    """
    return EntryOut.model_validate(service.create_entry(session=session, kind=kind, body=body))


@router.patch("/{kind}/{code}", response_model=EntryOut, summary="管理员：修改或停用目录条目")
def update_entry(
    kind: CatalogueKind, code: CodePath, body: EntryUpdate, session: SessionDep, _admin: AdminUser
) -> EntryOut:
    """管理员：修改目录条目的名称、排序或其他属性，或将其停用（停用后不能再选，
    已有心愿不受影响）。
    条目不存在返回 404 CATALOGUE_ENTRY_NOT_FOUND。返回修改后的条目。
    """
    return EntryOut.model_validate(
        service.update_entry(session=session, kind=kind, code=code, body=body)
    )
